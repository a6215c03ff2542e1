"""Country names as OFAC's add.csv spells them ▶ ISO 3166-1 alpha-2 (regions map to their country)."""

from __future__ import annotations

from riskmesh.contracts.base import COUNTRY_CODES

__all__ = ["country_code"]

_NAMES: dict[str, str] = {
    "afghanistan": "AF", "albania": "AL", "algeria": "DZ", "angola": "AO", "argentina": "AR", "armenia": "AM",
    "aruba": "AW", "australia": "AU", "austria": "AT", "azerbaijan": "AZ", "bahamas, the": "BS", "bahamas": "BS",
    "bahrain": "BH", "bangladesh": "BD", "barbados": "BB", "belarus": "BY", "belgium": "BE", "belize": "BZ",
    "benin": "BJ", "bermuda": "BM", "bolivia": "BO", "bosnia and herzegovina": "BA", "brazil": "BR",
    "brunei": "BN", "bulgaria": "BG", "burkina faso": "BF", "burma": "MM", "myanmar": "MM", "cambodia": "KH",
    "canada": "CA", "cayman islands": "KY", "central african republic": "CF", "chile": "CL", "china": "CN",
    "colombia": "CO", "comoros": "KM", "congo, democratic republic of the": "CD", "congo, republic of the": "CG",
    "costa rica": "CR", "cote d ivoire": "CI", "croatia": "HR", "cuba": "CU", "cyprus": "CY",
    "czech republic": "CZ", "czechia": "CZ", "denmark": "DK", "djibouti": "DJ", "dominica": "DM",
    "dominican republic": "DO", "ecuador": "EC", "egypt": "EG", "el salvador": "SV", "equatorial guinea": "GQ",
    "eritrea": "ER", "estonia": "EE", "ethiopia": "ET", "finland": "FI", "france": "FR", "georgia": "GE",
    "germany": "DE", "ghana": "GH", "gibraltar": "GI", "greece": "GR", "guatemala": "GT", "guinea": "GN",
    "guyana": "GY", "haiti": "HT", "honduras": "HN", "hong kong": "HK", "hungary": "HU", "iceland": "IS",
    "india": "IN", "indonesia": "ID", "iran": "IR", "iraq": "IQ", "ireland": "IE", "israel": "IL", "italy": "IT",
    "jamaica": "JM", "japan": "JP", "jersey": "JE", "jordan": "JO", "kazakhstan": "KZ", "kenya": "KE",
    "korea, north": "KP", "north korea": "KP", "korea, south": "KR", "south korea": "KR", "kosovo": "XK",
    "kuwait": "KW", "kyrgyzstan": "KG", "laos": "LA", "latvia": "LV", "lebanon": "LB", "liberia": "LR",
    "libya": "LY", "liechtenstein": "LI", "lithuania": "LT", "luxembourg": "LU", "macau": "MO", "malaysia": "MY",
    "maldives": "MV", "mali": "ML", "malta": "MT", "man, isle of": "IM", "marshall islands": "MH",
    "mauritania": "MR", "mexico": "MX", "moldova": "MD", "monaco": "MC", "mongolia": "MN", "montenegro": "ME",
    "morocco": "MA", "mozambique": "MZ", "namibia": "NA", "netherlands": "NL", "netherlands antilles": "CW",
    "new zealand": "NZ", "nicaragua": "NI", "niger": "NE", "nigeria": "NG", "north macedonia, the republic of": "MK",
    "north macedonia": "MK", "norway": "NO", "oman": "OM", "pakistan": "PK", "palau": "PW", "palestinian": "PS",
    "panama": "PA", "paraguay": "PY", "peru": "PE", "philippines": "PH", "poland": "PL", "qatar": "QA",
    "region: crimea": "UA", "region: gaza": "PS", "region: kafia kingi": "SD", "region: northern mali": "ML",
    "region: russia": "RU", "region: west bank": "PS", "romania": "RO", "russia": "RU", "rwanda": "RW",
    "saint kitts and nevis": "KN", "saint vincent and the grenadines": "VC", "samoa": "WS", "san marino": "SM",
    "saudi arabia": "SA", "senegal": "SN", "serbia": "RS", "seychelles": "SC", "sierra leone": "SL",
    "singapore": "SG", "slovakia": "SK", "slovenia": "SI", "somalia": "SO", "south africa": "ZA",
    "south sudan": "SS", "spain": "ES", "sri lanka": "LK", "sudan": "SD", "suriname": "SR", "sweden": "SE",
    "switzerland": "CH", "syria": "SY", "taiwan": "TW", "tajikistan": "TJ", "tanzania": "TZ", "thailand": "TH",
    "the gambia": "GM", "gambia": "GM", "trinidad and tobago": "TT", "tunisia": "TN", "turkey": "TR",
    "turkmenistan": "TM", "uganda": "UG", "ukraine": "UA", "united arab emirates": "AE", "united kingdom": "GB",
    "united states": "US", "uruguay": "UY", "uzbekistan": "UZ", "vanuatu": "VU", "venezuela": "VE",
    "vietnam": "VN", "virgin islands, british": "VG", "west bank": "PS", "yemen": "YE", "zambia": "ZM",
    "zimbabwe": "ZW",
}  # fmt: skip


def country_code(name: str) -> str | None:
    """ISO alpha-2 for a country name (or an ISO code), None when unknown or not a valid code here."""
    cleaned = name.strip()
    if len(cleaned) == 2 and cleaned.upper() in COUNTRY_CODES:
        return cleaned.upper()
    code = _NAMES.get(cleaned.casefold())
    return code if code in COUNTRY_CODES else None
