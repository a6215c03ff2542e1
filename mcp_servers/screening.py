"""Fuzzy name screening against watchlists (rapidfuzz), fast enough for 500 names against ~20k names.

Names and aliases are normalised (case, diacritics, punctuation, company forms, common
transliterations such as Mohammed/Muhammad or Yousef/Yusuf) and their tokens sorted, so word
order does not matter ("SMITH, John" = "John Smith"). A blocking step runs
rapidfuzz's C `process.extract` with a score cut-off over all normalised names; only those
candidates are rescored with `token_sort_ratio` / `token_set_ratio`. Results are cached per
normalised name, since the same customers are screened again and again.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process

from riskmesh.contracts import WatchlistEntry

__all__ = ["MAX_CANDIDATES", "NameScreener", "normalise_name"]

MAX_CANDIDATES = 5
BLOCKING_MARGIN = 15.0
"""The blocking cut-off sits this many points under the threshold, so rescoring can still lift a name."""
SET_RATIO_DISCOUNT = 0.95
"""A subset match ("Acme Trading" in "Acme Trading International") counts a little less than a full one."""

_COMPANY_FORM_WORDS = """
llc ltd limited inc incorporated corp corporation co company plc sa sas sarl ag gmbh mbh kg ohg
ooo oao zao pao jsc ojsc cjsc pjsc ao tov pp bv nv spa srl sl sro as asa ab oy kk pte pty lp llp
fze fzco fzc fz the
"""
COMPANY_FORMS = frozenset(_COMPANY_FORM_WORDS.split())
_TRANSLITERATION_GROUPS = """
muhammad mohammed mohammad mohamed muhammed mohamad mohamad muhamad mohd
yusuf yousef youssef yusef yousuf yousif yusif
ahmad ahmed
husain hussein hussain hossein husein
abd abdul abdel abdoul
usama osama
umar omar
hasan hassan
mahmud mahmoud
sergei sergey
aleksandr alexander aleksander alexandr
yuri yuriy iurii yury
evgeni evgeny yevgeniy evgeniy yevgeny
"""
TRANSLITERATIONS: dict[str, str] = {
    variant: group.split()[0] for group in _TRANSLITERATION_GROUPS.strip().splitlines() for variant in group.split()
}
"""Common romanisations of one name ▶ one canonical spelling (applied per token, after case folding)."""
_PUNCTUATION = re.compile(r"[^\w\s]|_", re.UNICODE)
_SPACES = re.compile(r"\s+")
_APOSTROPHES = re.compile("['\u2019\u02bc`]")


def normalise_name(name: str) -> str:
    """Lower case, no diacritics, no punctuation, no company forms; tokens in sorted order."""
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    # "L.L.C." and "S.A." lose their dots before splitting so they read as one company-form token
    stripped = re.sub(r"\b(\w)\.(?=\w\.)", r"\1", stripped)
    stripped = _APOSTROPHES.sub("", stripped)  # "Ch'oe", "O'Brien": one word, not two
    tokens = _SPACES.split(_PUNCTUATION.sub(" ", stripped).strip())
    kept = [t for t in tokens if t and t not in COMPANY_FORMS]
    if not kept:  # a name that is only a company form ("The Company Ltd") keeps its words
        kept = [t for t in tokens if t]
    return " ".join(sorted(TRANSLITERATIONS.get(t, t) for t in kept))


@dataclass(frozen=True, slots=True)
class _Name:
    entry_index: int
    alias: str  # the listed spelling that matched (primary name or alias)
    normalised: str


class NameScreener:
    """An index over watchlist names and aliases; `screen` returns the best candidates per name."""

    def __init__(self, entries: Iterable[WatchlistEntry], cache_size: int = 50_000) -> None:
        self.entries: list[WatchlistEntry] = list(entries)
        names: dict[tuple[int, str], _Name] = {}
        for index, entry in enumerate(self.entries):
            for alias in (entry.name, *entry.aliases):
                norm = normalise_name(alias)
                if norm and (index, norm) not in names:
                    names[(index, norm)] = _Name(index, alias, norm)
        # sorted by length: a ratio >= c is only possible within a length window (blocking by length)
        self._names = sorted(names.values(), key=lambda n: len(n.normalised))
        self._choices = [n.normalised for n in self._names]
        self._lengths = [len(c) for c in self._choices]
        self._cache: OrderedDict[tuple[str, float], list[tuple[int, str, float]]] = OrderedDict()
        self._cache_size = cache_size

    def __len__(self) -> int:
        return len(self._names)

    def _candidates(self, query: str, threshold: float) -> list[tuple[int, str, float]]:
        """(entry index, matched alias, score 0..1) above the threshold, best first, one per entry."""
        key = (query, threshold)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        cutoff = max(1.0, threshold * 100 - BLOCKING_MARGIN)
        # ratio = 2·matches / (len a + len b): bounds the lengths of names that can reach the cut-off
        low = bisect_left(self._lengths, len(query) * cutoff / (200 - cutoff))
        high = bisect_right(self._lengths, len(query) * (200 - cutoff) / cutoff)
        blocked = process.extract(query, self._choices[low:high], scorer=fuzz.ratio, score_cutoff=cutoff, limit=50)
        best: dict[int, tuple[int, str, float]] = {}
        multi_token = " " in query
        for _choice, _score, position in blocked:
            name = self._names[low + position]
            score = fuzz.token_sort_ratio(query, name.normalised)
            if multi_token and " " in name.normalised:
                score = max(score, SET_RATIO_DISCOUNT * fuzz.token_set_ratio(query, name.normalised))
            score = round(score / 100, 4)
            if score >= threshold and score > best.get(name.entry_index, (0, "", -1.0))[2]:
                best[name.entry_index] = (name.entry_index, name.alias, score)
        ranked = sorted(best.values(), key=lambda c: (-c[2], self.entries[c[0]].entry_id))
        self._cache[key] = ranked
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return ranked

    def screen(self, name: str, country: str | None = None, threshold: float = 0.88) -> list[dict[str, Any]]:
        """Up to MAX_CANDIDATES matches for `name`, best first; a country match breaks score ties."""
        query = normalise_name(name)
        if not query:
            return []
        found = self._candidates(query, threshold)
        if country:
            found = sorted(found, key=lambda c: (-c[2], country not in self.entries[c[0]].countries))
        return [self._describe(query, country, *c) for c in found[:MAX_CANDIDATES]]

    def _describe(self, query: str, country: str | None, index: int, alias: str, score: float) -> dict[str, Any]:
        entry = self.entries[index]
        country_match = None if not country or not entry.countries else country in entry.countries
        exact = query == normalise_name(alias)
        why = (
            f"{'exact' if exact else 'fuzzy'} match on {'alias' if alias != entry.name else 'name'} "
            f"'{alias}' after normalisation (score {score:.2f})"
        )
        if country_match is not None:
            why += "; country matches the list entry" if country_match else "; country differs from the entry"
        return {
            "entry_id": entry.entry_id,
            "list": entry.list,
            "name": entry.name,
            "matched_alias": alias,
            "score": score,
            "why": why,
            "type": entry.type,
            "programs": list(entry.programs),
            "country_match": country_match,
        }
