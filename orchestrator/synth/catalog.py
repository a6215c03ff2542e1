"""Static tables the synthetic world draws from: countries, banks, cities, merchants, names.

Everything here is plain data so that generation stays deterministic and fast. Bank BICs of the
main markets are real public identifiers; every person and company name is invented.
"""

from __future__ import annotations

__all__ = [
    "BANKS",
    "CITIES",
    "COMPANY_KIND",
    "COMPANY_SUFFIX",
    "COMPANY_WORDS",
    "COUNTRY_CURRENCY",
    "COUNTRY_WEIGHTS",
    "FRAUDSTER_COUNTRIES",
    "FX_PER_USD",
    "HIGH_RISK_COUNTRIES",
    "HOUR_WEIGHTS",
    "IP_PREFIX",
    "LEGIT_PURPOSES",
    "MCC_TABLE",
    "MULE_EXIT_COUNTRIES",
    "PERSON_NAMES",
    "REPORTING_THRESHOLD",
    "SCAM_PURPOSES",
    "SCAM_STORIES",
    "USER_AGENTS",
    "WHOLE_UNIT_CURRENCIES",
    "bank_bic",
]

#: Where customers live: mostly the six main markets, then a tail.
COUNTRY_WEIGHTS: dict[str, float] = {
    "CN": 30, "HK": 20, "SG": 12, "US": 12, "GB": 10, "DE": 8,
    "FR": 1.2, "JP": 1.2, "AU": 1.0, "CA": 0.8, "CH": 0.8, "AE": 0.8,
    "IN": 0.7, "KR": 0.6, "NL": 0.5, "MY": 0.5, "TH": 0.4,
}  # fmt: skip

COUNTRY_CURRENCY: dict[str, str] = {
    "CN": "CNY", "HK": "HKD", "SG": "SGD", "US": "USD", "GB": "GBP", "DE": "EUR", "FR": "EUR",
    "JP": "JPY", "AU": "AUD", "CA": "CAD", "CH": "CHF", "AE": "AED", "IN": "INR", "KR": "KRW",
    "NL": "EUR", "MY": "MYR", "TH": "THB", "VN": "VND", "PH": "PHP", "ID": "IDR", "TR": "TRY",
    "RU": "RUB", "IR": "IRR", "KP": "KPW", "SY": "SYP", "MM": "MMK", "NG": "NGN", "PA": "USD",
    "KY": "KYD", "VG": "USD", "CY": "EUR",
}  # fmt: skip

#: Units of each currency per US dollar (rounded, good enough for habits and thresholds).
FX_PER_USD: dict[str, float] = {
    "USD": 1.0, "CNY": 7.2, "HKD": 7.8, "SGD": 1.35, "GBP": 0.79, "EUR": 0.92, "JPY": 150.0,
    "AUD": 1.52, "CAD": 1.36, "CHF": 0.88, "AED": 3.67, "INR": 83.0, "KRW": 1330.0, "MYR": 4.7,
    "THB": 36.0, "VND": 24500.0, "PHP": 56.0, "IDR": 15600.0, "TRY": 32.0, "RUB": 92.0,
    "IRR": 42000.0, "KPW": 900.0, "SYP": 13000.0, "MMK": 2100.0, "NGN": 1500.0, "KYD": 0.83,
}  # fmt: skip

WHOLE_UNIT_CURRENCIES: frozenset[str] = frozenset({"JPY", "KRW", "VND", "IDR", "IRR", "KPW", "SYP", "MMK"})

#: Cash reporting thresholds that structuring stays just below (USD 10,000; CNY 50,000; ...).
REPORTING_THRESHOLD: dict[str, int] = {
    "USD": 10_000, "CNY": 50_000, "HKD": 120_000, "SGD": 20_000, "EUR": 10_000, "GBP": 10_000,
}  # fmt: skip

HIGH_RISK_COUNTRIES: tuple[str, ...] = ("IR", "KP", "SY", "MM")

#: city, lat, lon per country (first entry is the commonest).
CITIES: dict[str, tuple[tuple[str, float, float], ...]] = {
    "CN": (("Shanghai", 31.23, 121.47), ("Beijing", 39.90, 116.41), ("Shenzhen", 22.54, 114.06),
           ("Guangzhou", 23.13, 113.26), ("Hangzhou", 30.27, 120.16)),
    "HK": (("Hong Kong", 22.32, 114.17), ("Kowloon", 22.33, 114.19)),
    "SG": (("Singapore", 1.35, 103.82),),
    "US": (("New York", 40.71, -74.01), ("San Francisco", 37.77, -122.42), ("Chicago", 41.88, -87.63)),
    "GB": (("London", 51.51, -0.13), ("Manchester", 53.48, -2.24)),
    "DE": (("Frankfurt", 50.11, 8.68), ("Berlin", 52.52, 13.40), ("Munich", 48.14, 11.58)),
    "FR": (("Paris", 48.86, 2.35),), "JP": (("Tokyo", 35.68, 139.69),), "AU": (("Sydney", -33.87, 151.21),),
    "CA": (("Toronto", 43.65, -79.38),), "CH": (("Zurich", 47.37, 8.54),), "AE": (("Dubai", 25.20, 55.27),),
    "IN": (("Mumbai", 19.08, 72.88),), "KR": (("Seoul", 37.57, 126.98),), "NL": (("Amsterdam", 52.37, 4.90),),
    "MY": (("Kuala Lumpur", 3.14, 101.69),), "TH": (("Bangkok", 13.76, 100.50),),
    "VN": (("Ho Chi Minh City", 10.82, 106.63),), "PH": (("Manila", 14.60, 120.98),),
    "ID": (("Jakarta", -6.21, 106.85),), "TR": (("Istanbul", 41.01, 28.98),),
    "RU": (("Moscow", 55.76, 37.62),), "NG": (("Lagos", 6.52, 3.38),), "PA": (("Panama City", 8.98, -79.52),),
    "KY": (("George Town", 19.29, -81.37),), "VG": (("Road Town", 18.43, -64.62),),
    "CY": (("Limassol", 34.68, 33.04),), "IR": (("Tehran", 35.69, 51.39),),
    "KP": (("Pyongyang", 39.04, 125.76),), "SY": (("Damascus", 33.51, 36.29),),
    "MM": (("Yangon", 16.87, 96.20),), "KH": (("Phnom Penh", 11.56, 104.92),),
}  # fmt: skip

#: Real, public BICs for the main markets; other countries get a synthetic one.
BANKS: dict[str, tuple[str, ...]] = {
    "CN": ("BKCHCNBJXXX", "ICBKCNBJXXX", "PCBCCNBJXXX", "ABOCCNBJXXX", "CMBCCNBSXXX"),
    "HK": ("HSBCHKHHXXX", "BKCHHKHHXXX", "SCBLHKHHXXX", "HASEHKHHXXX"),
    "SG": ("DBSSSGSGXXX", "OCBCSGSGXXX", "UOVBSGSGXXX"),
    "US": ("CHASUS33XXX", "BOFAUS3NXXX", "CITIUS33XXX", "WFBIUS6SXXX"),
    "GB": ("BARCGB22XXX", "HBUKGB4BXXX", "NWBKGB2LXXX", "LOYDGB2LXXX"),
    "DE": ("DEUTDEFFXXX", "COBADEFFXXX", "DRESDEFFXXX"),
}


def bank_bic(country: str, index: int) -> str:
    """A BIC for a bank in `country`: a real one for the main markets, else a well-formed synthetic one."""
    real = BANKS.get(country)
    if real:
        return real[index % len(real)]
    return f"{['BKAX', 'BKBX', 'BKCX'][index % 3]}{country}2X"


#: MCC, merchant name stem, typical share of habitual amount.
MCC_TABLE: tuple[tuple[str, str, float], ...] = (
    ("5411", "Fresh Market", 0.6), ("5812", "Noodle House", 0.4), ("5814", "Quick Bite", 0.2),
    ("5541", "Fuel Stop", 0.7), ("5732", "Digital Electronics", 3.0), ("5311", "City Department Store", 1.5),
    ("5912", "Health Pharmacy", 0.4), ("4111", "Metro Transit", 0.1), ("4121", "Ride Hailing", 0.3),
    ("5999", "Online Marketplace", 0.8), ("4900", "Power & Water Utility", 1.2),
    ("5691", "Fashion House", 1.3),
    ("7011", "Harbour Hotel", 3.5), ("4511", "Sky Airlines", 5.0), ("5815", "Stream Media", 0.15),
    ("5944", "Jewel Gallery", 6.0), ("5816", "Game Credits", 0.2), ("4829", "Money Transfer Kiosk", 2.0),
)  # fmt: skip

HOUR_WEIGHTS: tuple[float, ...] = (
    0.15, 0.08, 0.05, 0.04, 0.05, 0.12, 0.35, 0.7, 1.0, 1.2, 1.35, 1.4,
    1.5, 1.4, 1.3, 1.25, 1.2, 1.3, 1.45, 1.5, 1.35, 1.0, 0.6, 0.3,
)  # fmt: skip
"""Relative share of transactions per hour of day (UTC is used as local time in the synthetic world)."""

USER_AGENTS: dict[str, tuple[str, ...]] = {
    "mobile": (
        "RiskmeshBank/5.12.0 (iPhone; iOS 17.4; Scale/3.00)",
        "RiskmeshBank/5.12.1 (Android 14; Pixel 8)",
        "RiskmeshBank/5.11.3 (Android 13; SM-S918B)",
        "RiskmeshBank/5.12.0 (iPad; iPadOS 17.3)",
    ),
    "desktop": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Version/17.4 Safari/605.1.15",
        "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    ),
    "server": ("riskmesh-corporate-api/2.3 (+h2h)", "SAP-PI/7.5 PaymentAdapter"),
}

#: First octets per country so that an IP roughly agrees with where the device is.
IP_PREFIX: dict[str, tuple[int, ...]] = {
    "CN": (36, 58, 113, 119, 183), "HK": (14, 42, 203), "SG": (8, 103, 116), "US": (23, 64, 98, 172),
    "GB": (51, 81, 86), "DE": (46, 84, 91), "RU": (5, 95, 178), "NG": (41, 102, 105),
}  # fmt: skip

PERSON_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "CN": (("Wei", "Fang", "Na", "Min", "Jing", "Lei", "Qiang", "Yan", "Jun", "Hui", "Xiaoming", "Jianhua"),
           ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun")),
    "HK": (("Ka Wai", "Siu Ming", "Wing Yan", "Chi Keung", "Mei Ling", "Tsz Hin", "Hoi Yan", "Kwok Wing"),
           ("Chan", "Wong", "Leung", "Cheung", "Lau", "Ho", "Ng", "Tse", "Yip")),
    "SG": (("Wei Ming", "Siti", "Arjun", "Hui Min", "Muhammad Irfan", "Priya", "Jia Hui", "Kumar"),
           ("Tan", "Lim", "Lee", "Ng", "Ong", "Goh", "Rahman", "Nair", "Pillai")),
    "DE": (("Lukas", "Anna", "Jonas", "Lea", "Felix", "Marie", "Paul", "Sophie", "Stefan", "Katrin"),
           ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann")),
    "*": (("James", "Emma", "Oliver", "Olivia", "William", "Sophia", "Daniel", "Grace", "Thomas", "Chloe"),
          ("Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies", "Evans", "Walker", "Clarke", "Hughes")),
}  # fmt: skip

COMPANY_WORDS: tuple[str, ...] = (
    "Harbour", "Summit", "Lotus", "Pacific", "Jade", "Evergreen", "Orchid", "Meridian", "Silverline",
    "Bluewater", "Red Lantern", "Northstar", "Golden Bridge", "Bamboo", "Crown", "Riverside", "Kestrel",
    "Phoenix", "Granite", "Sunrise", "Oakfield", "Coastal", "Unity", "Prime",
)  # fmt: skip
COMPANY_KIND: tuple[str, ...] = (
    "Trading", "Logistics", "Electronics", "Textiles", "Foods", "Consulting", "Engineering", "Software",
    "Property", "Medical Supplies", "Packaging", "Auto Parts",
)  # fmt: skip
COMPANY_SUFFIX: dict[str, str] = {
    "CN": "Co., Ltd.", "HK": "Limited", "SG": "Pte. Ltd.", "US": "Inc.", "GB": "Ltd", "DE": "GmbH",
    "*": "Ltd",
}  # fmt: skip

#: Scam stories an authorised-push-payment victim is told, each with the purpose texts they type.
SCAM_STORIES: dict[str, tuple[str, ...]] = {
    "investment": (
        "investment opportunity guaranteed 30% return",
        "crypto trading platform deposit - urgent",
        "USDT wallet top up for guaranteed profit",
        "gold trading account - guaranteed monthly profit",
        "VIP trading group membership, profit guaranteed",
    ),
    "impersonation": (
        "transfer to safe account as instructed by bank security",
        "police case verification deposit",
        "tax refund processing fee",
        "customs fee to release parcel",
        "account verification - move funds to safe account",
    ),
    "romance": (
        "romance - flight ticket and visa fee",
        "hospital bill for my fiance, urgent",
        "help for visa fee, will pay back",
    ),
    "purchase": (
        "deposit for puppy, seller asked urgent",
        "concert tickets resale - pay now to hold",
        "car deposit to private seller, urgent before others",
    ),
    "invoice": (
        "invoice payment - supplier new bank details",
        "updated account per supplier email, invoice overdue",
    ),
}
SCAM_PURPOSES: tuple[str, ...] = tuple(text for texts in SCAM_STORIES.values() for text in texts)

#: Purposes of legitimate first payments to new payees; some read a little like scams on purpose.
LEGIT_PURPOSES: tuple[str, ...] = (
    "rent deposit", "car purchase", "tuition fee", "wedding gift", "monthly investment plan",
    "brokerage account top up", "renovation - first instalment", "deposit for holiday flat",
    "crypto purchase", "urgent - family emergency", "wedding venue deposit", "furniture order",
    "security deposit", "visa application fee", "profit share Q4 - investment club", "crypto exchange deposit",
    "urgent: deposit for flat, agent fee", "customs broker fee",
)  # fmt: skip

#: Where account-takeover and card fraudsters tend to operate from.
FRAUDSTER_COUNTRIES: tuple[str, ...] = ("NG", "RU", "VN", "PH", "ID", "TR")
#: Where mule money leaves to.
MULE_EXIT_COUNTRIES: tuple[str, ...] = ("HK", "AE", "TR", "MY", "TH", "KH")
