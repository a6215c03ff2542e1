"""Name corpora for the screening quality tests: perturbed OFAC aliases and ordinary customer names.

Deterministic (seeded). Perturbations are the ones screening must see through: typos, token
order, case, diacritics, company forms and common transliterations of Arabic / Russian names.
"""

from __future__ import annotations

import random
import re

__all__ = ["ordinary_names", "perturb"]

TRANSLITERATIONS: tuple[tuple[str, ...], ...] = (
    ("MOHAMMED", "MUHAMMAD", "MOHAMMAD", "MOHAMED", "MUHAMMED"),
    ("YUSUF", "YOUSEF", "YOUSSEF", "YUSEF", "YOUSUF"),
    ("AHMED", "AHMAD"),
    ("HUSSEIN", "HUSSAIN", "HUSAIN", "HOSSEIN"),
    ("ABDUL", "ABDEL", "ABD AL"),
    ("OSAMA", "USAMA"),
    ("OMAR", "UMAR"),
    ("HASSAN", "HASAN"),
    ("MAHMOUD", "MAHMUD"),
    ("SERGEY", "SERGEI"),
    ("ALEKSANDR", "ALEXANDER", "ALEKSANDER"),
    ("YURI", "YURIY", "IURII"),
    ("EVGENY", "YEVGENIY", "EVGENIY"),
)
COMPANY_FORMS = ("LLC", "Ltd", "Limited", "GmbH", "S.A.", "Co.", "Inc.", "OOO", "JSC", "Company Limited")
ACCENTS = {"A": "Á", "E": "É", "I": "Í", "O": "Ö", "U": "Ü", "C": "Ç", "N": "Ñ"}
_ALTERNATIVES = {v: group for group in TRANSLITERATIONS for v in group}


def _typo(rng: random.Random, name: str) -> str:
    words = name.split()
    candidates = [i for i, w in enumerate(words) if len(w) >= 5]
    if not candidates:
        return name
    i = rng.choice(candidates)
    w = words[i]
    p = rng.randrange(1, len(w) - 1)
    kind = rng.choice(("swap", "drop", "double", "replace"))
    if kind == "swap":
        w = w[:p] + w[p + 1] + w[p] + w[p + 2 :]
    elif kind == "drop":
        w = w[:p] + w[p + 1 :]
    elif kind == "double":
        w = w[:p] + w[p] + w[p:]
    else:
        w = w[:p] + rng.choice("AEIOUY") + w[p + 1 :]
    words[i] = w
    return " ".join(words)


def _reorder(rng: random.Random, name: str) -> str:
    words = name.replace(",", " ").split()
    rng.shuffle(words)
    return " ".join(words)


def _accents(rng: random.Random, name: str) -> str:
    return "".join(ACCENTS[c] if c in ACCENTS and rng.random() < 0.4 else c for c in name)


def _company_form(rng: random.Random, name: str) -> str:
    return f"{name} {rng.choice(COMPANY_FORMS)}"


def _transliterate(rng: random.Random, name: str) -> str:
    def swap(match: re.Match[str]) -> str:
        group = _ALTERNATIVES[match.group(0)]
        return rng.choice([g for g in group if g != match.group(0)])

    pattern = r"\b(" + "|".join(sorted(_ALTERNATIVES, key=len, reverse=True)) + r")\b"
    return re.sub(pattern, swap, name.upper())


def _case(rng: random.Random, name: str) -> str:
    return rng.choice((name.lower(), name.title(), name.upper()))


def perturb(rng: random.Random, name: str) -> str:
    """One or two perturbations, always including a transliteration when the name has a variant."""
    steps = [_typo, _reorder, _accents, _company_form, _case]
    chosen = rng.sample(steps, rng.choice((1, 2)))
    if re.search(r"\b(" + "|".join(_ALTERNATIVES) + r")\b", name.upper()):
        chosen = [_transliterate, *chosen[:1]]
    out = name
    for step in chosen:
        out = step(rng, out)
    return out


FIRST = (
    "James", "Emma", "Oliver", "Olivia", "William", "Sophia", "Daniel", "Grace", "Thomas", "Chloe", "Lukas",
    "Anna", "Jonas", "Lea", "Felix", "Marie", "Stefan", "Katrin", "Wei", "Fang", "Jing", "Lei", "Qiang",
    "Xiaoming", "Jianhua", "Ka Wai", "Siu Ming", "Mei Ling", "Priya", "Arjun", "Siti", "Lucia", "Carlos",
    "Sofia", "Mateo", "Camille", "Louis", "Giulia", "Marco", "Ingrid", "Lars", "Aoife", "Sean", "Hannah",
    "Noah", "Amelia", "Jack", "Isla", "Ethan", "Mia", "Kenji", "Yuki", "Min-jun", "Seo-yeon", "Rahul",
    "Ananya", "Olga", "Dmitri", "Fatima", "Omar",
)  # fmt: skip
LAST = (
    "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies", "Evans", "Walker", "Clarke", "Hughes",
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Wang",
    "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Chan", "Wong", "Leung", "Tan", "Lim", "Nair", "Pillai",
    "García", "Fernández", "López", "Martin", "Bernard", "Rossi", "Russo", "Jensen", "Nilsson", "Murphy",
    "O'Brien", "Kelly", "Sato", "Suzuki", "Kim", "Park", "Sharma", "Gupta", "Ivanova", "Novak", "Kowalski",
    "Dubois", "Moreau", "Silva", "Santos", "Haddad", "Nasser",
)  # fmt: skip
COMPANY_WORDS = (
    "Harbour", "Summit", "Lotus", "Pacific", "Jade", "Evergreen", "Orchid", "Meridian", "Silverline",
    "Bluewater", "Red Lantern", "Northstar", "Golden Bridge", "Bamboo", "Crown", "Riverside", "Kestrel",
    "Phoenix", "Granite", "Sunrise", "Oakfield", "Coastal", "Unity", "Prime", "Alpine", "Maple", "Horizon",
)  # fmt: skip
COMPANY_KIND = (
    "Trading", "Logistics", "Electronics", "Textiles", "Foods", "Consulting", "Engineering", "Software",
    "Property", "Medical Supplies", "Packaging", "Auto Parts", "Dental Care", "Bakery", "Garden Centre",
)  # fmt: skip
SUFFIX = ("Co., Ltd.", "Limited", "Pte. Ltd.", "Inc.", "Ltd", "GmbH", "S.A.", "LLC")


def ordinary_names(count: int, seed: int = 11) -> list[str]:
    """`count` distinct ordinary names: about 70 % people, 30 % companies."""
    rng = random.Random(seed)
    names: dict[str, None] = {}
    while len(names) < count:
        if rng.random() < 0.7:
            names[f"{rng.choice(FIRST)} {rng.choice(LAST)}"] = None
        else:
            names[f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KIND)} {rng.choice(SUFFIX)}"] = None
    return list(names)
