"""A synthetic sanctions watchlist and the near-miss spellings that sanctions evasion produces.

All names are invented combinations; none is meant to denote a real listed party.
"""

from __future__ import annotations

import random
from collections.abc import Collection

from riskmesh.contracts import WatchlistEntry

__all__ = ["TRANSLITERATIONS", "generate_watchlist", "namesake", "near_miss"]

_PERSON_FIRST: dict[str, tuple[str, ...]] = {
    "RU": ("Viktor", "Dmitri", "Igor", "Sergei", "Yuri", "Oleg", "Arkady", "Boris"),
    "IR": ("Mohammad", "Reza", "Hossein", "Ali", "Mahmoud", "Javad", "Saeed", "Mehdi"),
    "KP": ("Kim Chol", "Ri Song", "Pak Yong", "Choe Myong", "Jang Su", "O Kwang"),
    "SY": ("Bassam", "Khaled", "Nabil", "Samir", "Tarek", "Walid"),
    "MM": ("Aung Kyaw", "Min Thein", "Than Soe", "Zaw Win"),
    "*": ("Abdul", "Omar", "Yusuf", "Ibrahim", "Hamza", "Karim"),
}
_PERSON_LAST: dict[str, tuple[str, ...]] = {
    "RU": ("Volkov", "Sokolov", "Morozov", "Kuznetsov", "Orlov", "Belov", "Zaitsev", "Gromov"),
    "IR": ("Karimi", "Rahimi", "Tehrani", "Hosseini", "Moradi", "Jafari", "Shirazi", "Ghorbani"),
    "KP": ("Jong Il", "Myong Ho", "Chol Su", "Yong Nam", "Kwang Hyok"),
    "SY": ("Haddad", "Nasser", "Al-Masri", "Khalil", "Shami", "Darwish"),
    "MM": ("Naing", "Htun", "Lwin", "Oo"),
    "*": ("Al-Rashid", "Hakimi", "Barzani", "Qureshi", "Mansour", "Farouk"),
}
_ENTITY_WORDS = (
    "Caspian", "Golden Crescent", "Eastern Star", "Baltic Amber", "Novaya Zarya", "Sapphire Gulf",
    "Orient Pearl", "Petro Delta", "Red Sea", "Silk Road", "Northern Light", "Tigris", "Amur", "Jade Dragon",
)  # fmt: skip
_ENTITY_KIND = (
    "Trading LLC", "Shipping Co", "General Trading FZE", "Holdings Ltd", "Import Export Co",
    "Petrochemical Industries", "Maritime Services", "Investment Group", "Exchange House",
)  # fmt: skip
_LISTS: tuple[tuple[str, float, tuple[tuple[str, str], ...]], ...] = (
    ("OFAC-SDN", 0.45, (("IRAN", "IR"), ("DPRK3", "KP"), ("SYRIA", "SY"), ("RUSSIA-EO14024", "RU"),
                        ("BURMA-EO14014", "MM"), ("SDGT", "*"), ("CYBER2", "RU"))),
    ("UN", 0.2, (("UN-1718 DPRK", "KP"), ("UN-1267 ISIL/Al-Qaida", "*"), ("UN-2231 Iran", "IR"))),
    ("EU", 0.2, (("EU-RUS", "RU"), ("EU-IRN", "IR"), ("EU-SYR", "SY"), ("EU-MMR", "MM"))),
    ("internal-blacklist", 0.15, (("fraud-confirmed", "*"), ("mule-confirmed", "*"))),
)  # fmt: skip
_TAIL_COUNTRIES = ("AE", "TR", "LB", "IQ", "YE", "AF", "PK", "CY", "PA")

#: Common romanisation variants, applied in both directions by `near_miss` and for aliases.
TRANSLITERATIONS: tuple[tuple[str, str], ...] = (
    ("Mohammad", "Muhammad"), ("Mohammad", "Mohammed"), ("Hossein", "Hussein"), ("Dmitri", "Dmitry"),
    ("Sergei", "Sergey"), ("Yuri", "Yury"), ("ov", "off"), ("Ali", "Aly"), ("kh", "h"), ("Kh", "H"),
    ("ou", "u"), ("Jafari", "Jaafari"), ("Chol", "Cheol"), ("Ri ", "Rhee "), ("Pak", "Park"),
    ("Choe", "Choi"), ("Jong", "Chong"), ("Al-", "El-"), ("ei", "ey"), ("ee", "i"), ("y", "i"), ("ph", "f"),
)  # fmt: skip


def _person(rng: random.Random, region: str) -> tuple[str, list[str]]:
    first = rng.choice(_PERSON_FIRST[region])
    last = rng.choice(_PERSON_LAST[region])
    name = f"{first} {last}"
    aliases = [f"{last} {first}"]
    variant = _transliterate(name, rng)
    if variant != name:
        aliases.append(variant)
    return name, aliases


def _entity(rng: random.Random, kind: str) -> tuple[str, list[str]]:
    word = rng.choice(_ENTITY_WORDS)
    if kind == "vessel":
        return f"MV {word} {rng.choice(('Star', 'Spirit', 'Glory', 'Venture', 'Pioneer'))}", []
    if kind == "aircraft":
        return f"EP-{''.join(rng.choice('ABCDEFGHKLMNPRSTX') for _ in range(3))}", []
    name = f"{word} {rng.choice(_ENTITY_KIND)}"
    return name, [name.upper(), name.replace(" ", "")]


def generate_watchlist(rng: random.Random, count: int = 200) -> list[WatchlistEntry]:
    """About `count` entries over OFAC-SDN, UN, EU and an internal blacklist; names are unique."""
    entries: list[WatchlistEntry] = []
    seen: set[str] = set()
    weights = [w for _, w, _ in _LISTS]
    while len(entries) < count:
        list_name, _, programs = rng.choices(_LISTS, weights=weights)[0]
        program, region = rng.choice(programs)
        kind = rng.choices(("person", "entity", "vessel", "aircraft"), weights=(50, 38, 9, 3))[0]
        if kind == "person":
            name, aliases = _person(rng, region if region in _PERSON_FIRST else "*")
        else:
            name, aliases = _entity(rng, kind)
        if name in seen:
            continue
        seen.add(name)
        home = region if region != "*" else rng.choice(_TAIL_COUNTRIES)
        countries = [home] if rng.random() < 0.8 else [home, rng.choice(_TAIL_COUNTRIES)]
        dob = f"{rng.randint(1950, 1992)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        entries.append(
            WatchlistEntry(
                entry_id=f"{list_name.split('-')[0]}-{len(entries) + 1:05d}",
                list=list_name,
                name=name,
                aliases=aliases,
                type=kind,  # type: ignore[arg-type]
                countries=countries,
                date_of_birth=dob if kind == "person" and rng.random() < 0.7 else None,
                programs=[program],
            )
        )
    return entries


_RESPELLINGS: tuple[tuple[str, str], ...] = (
    ("LLC", "L.L.C."), ("Co", "Company"), ("Ltd", "Limited"), ("FZE", "F.Z.E."), ("Holdings", "Holding"),
    ("Group", "Grp"), ("Industries", "Ind."), ("Services", "Svcs"), ("Trading", "Trdg"),
)  # fmt: skip
_COMMON_LAST = ("Rahman", "Hassan", "Ahmed", "Ivanova", "Petrenko", "Nguyen", "Lee", "Kim", "Ali", "Omar")


def namesake(rng: random.Random) -> str:
    """An ordinary name that shares a first name with listed persons (a screening false positive)."""
    region = rng.choice(sorted(_PERSON_FIRST))
    return f"{rng.choice(_PERSON_FIRST[region])} {rng.choice(_COMMON_LAST)}"


def _respell(name: str, rng: random.Random) -> str:
    words = name.split(" ")
    options = [(i, b) for i, w in enumerate(words) for a, b in _RESPELLINGS if w == a]
    if not options:
        return _transliterate(name, rng)
    i, new = rng.choice(options)
    return " ".join([*words[:i], new, *words[i + 1 :]])


def _transliterate(name: str, rng: random.Random) -> str:
    options = [(a, b) for a, b in TRANSLITERATIONS if a in name] + [
        (b, a) for a, b in TRANSLITERATIONS if b in name and len(b) > 1
    ]
    if not options:
        return name
    old, new = rng.choice(options)
    return name.replace(old, new, 1)


def _typo(name: str, rng: random.Random) -> str:
    letters = [i for i, ch in enumerate(name) if ch.isalpha()]
    if len(letters) < 4:
        return name + "e"
    i = rng.choice(letters[1:-1])
    op = rng.randrange(3)
    if op == 0 and name[i + 1].isalpha():  # swap two neighbours
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    if op == 1:  # drop one letter
        return name[:i] + name[i + 1 :]
    return name[:i] + name[i] + name[i:]  # double one letter


def near_miss(name: str, rng: random.Random, avoid: Collection[str] = ()) -> str:
    """A spelling of `name` that a screening engine should still match: a transliteration and/or a typo.

    Never `name` itself nor any spelling in `avoid` (pass the entry's aliases: an exact alias is
    not a near miss).
    """
    taken = {name, *avoid}
    roll = rng.random()
    variant = _transliterate(name, rng) if roll < 0.5 else _respell(name, rng) if roll < 0.7 else name
    if variant in taken or rng.random() < 0.4:
        variant = _typo(variant, rng)
    for _ in range(5):
        if variant not in taken:
            return variant
        variant = _typo(name, rng)
    return name + "."
