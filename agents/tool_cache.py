"""A ToolCaller that remembers reference answers for a while: only what it does not know goes to the MCP server.

Reference data (customer and account records, watchlist screening of a name) changes rarely against the
rate transactions name it: in a stream the same customers, accounts, merchants and names come back batch
after batch. The analysis agents ask customer-data and watchlists once per micro-batch for every id the
batch names; through this cache they ask only for ids not seen within `ttl_s` (most batches: none, and no
call at all). Ids a server did not know are remembered too (an unknown account stays unknown for `ttl_s`).

Only the tools in `CACHEABLE` are cached, id by id; every other call goes through unchanged, and so does a
failed call (it raises as before, nothing is remembered). The answer merged from cache and server has the
same shape as the server's. Staleness is bounded by `ttl_s` (RISKMESH_REFERENCE_CACHE_S); 0 turns it off.
The cache is per agent process, so it holds what that caller's masking policy lets it see.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from riskmesh.agents.base import ToolCaller

__all__ = ["CACHEABLE", "CachingToolCaller", "IdCache"]

_ABSENT = object()


class IdCache:
    """Values by key with an expiry; at most `size` keys, least recently stored dropped first."""

    def __init__(self, ttl_s: float, size: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s, self.size, self.clock = ttl_s, size, clock
        self._values: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()

    def get(self, key: Hashable) -> Any:
        """The value, None for a remembered absence, or `_ABSENT` when not known (or expired)."""
        found = self._values.get(key)
        if found is None:
            return _ABSENT
        if found[0] < self.clock():
            del self._values[key]
            return _ABSENT
        return found[1]

    def put(self, key: Hashable, value: Any) -> None:
        self._values[key] = (self.clock() + self.ttl_s, value)
        self._values.move_to_end(key)
        while len(self._values) > self.size:
            self._values.popitem(last=False)


@dataclass(frozen=True)
class _IdLists:
    """A tool whose arguments are lists of ids and whose answer maps each id to a record, per section:
    `sections` pairs an argument name with the answer key holding that argument's records."""

    sections: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class _Queries:
    """A tool whose argument `items` is a list of queries {ref, ...}, answered as `answer_key` {ref: value};
    a query's identity is the fields in `fields` plus the call's other arguments (e.g. the threshold)."""

    items: str
    answer_key: str
    fields: tuple[str, ...]


CACHEABLE: dict[tuple[str, str], _IdLists | _Queries] = {
    ("customer-data", "get_customers_batch"): _IdLists((("customer_ids", "customers"), ("account_ids", "accounts"))),
    ("watchlists", "screen_names_batch"): _Queries("names", "results", ("name", "country")),
}
"""The reference tools the agents call every batch, and how their arguments and answers split by id."""


class CachingToolCaller:
    """Wraps a ToolCaller; `calls` counts the calls that reached the inner one, `hits` the ids served here."""

    def __init__(self, inner: ToolCaller, ttl_s: float, *, size: int = 200_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.inner = inner
        self.ttl_s = ttl_s
        self.hits = 0
        self._caches = {key: IdCache(ttl_s, size, clock) for key in CACHEABLE}

    async def call(self, server: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        rule = CACHEABLE.get((server, tool))
        if rule is None or self.ttl_s <= 0:
            return await self.inner.call(server, tool, arguments)
        cache = self._caches[(server, tool)]
        if isinstance(rule, _IdLists):
            return await self._id_lists(server, tool, arguments, rule, cache)
        return await self._queries(server, tool, arguments, rule, cache)

    async def _id_lists(self, server: str, tool: str, arguments: dict[str, Any], rule: _IdLists,
                        cache: IdCache) -> dict[str, Any]:
        known: dict[str, dict[str, Any]] = {answer: {} for _, answer in rule.sections}
        missing: dict[str, list[Any]] = {}
        for arg, answer in rule.sections:
            for ident in arguments.get(arg) or ():
                value = cache.get((answer, ident))
                if value is _ABSENT:
                    missing.setdefault(arg, []).append(ident)
                elif value is not None:
                    known[answer][ident] = value
        hit = sum(len(arguments.get(arg) or ()) for arg, _ in rule.sections) - sum(map(len, missing.values()))
        self.hits += hit
        if not missing:
            return known
        result = await self.inner.call(server, tool, {**arguments, **{a: missing.get(a, []) for a, _ in rule.sections}})
        for arg, answer in rule.sections:
            got = result.get(answer) if isinstance(result, dict) else None
            if not isinstance(got, dict):
                return result  # not the shape this cache knows: hand it over untouched, remember nothing
            for ident in missing.get(arg, ()):
                record = got.get(ident)
                cache.put((answer, ident), record if isinstance(record, dict) else None)
                if isinstance(record, dict):
                    known[answer][ident] = record
        return {**result, **known}

    async def _queries(self, server: str, tool: str, arguments: dict[str, Any], rule: _Queries,
                       cache: IdCache) -> dict[str, Any]:
        context = tuple(sorted((k, repr(v)) for k, v in arguments.items() if k != rule.items))
        answers: dict[str, Any] = {}
        missing: list[dict[str, Any]] = []
        keys: dict[str, Hashable] = {}
        for query in arguments.get(rule.items) or ():
            identity: Hashable = (context, *(query.get(f) for f in rule.fields))
            value = cache.get(identity)
            if value is _ABSENT:
                missing.append(query)
                keys[str(query.get("ref"))] = identity
            else:
                answers[str(query.get("ref"))] = value
        self.hits += len(answers)
        if not missing:
            return {rule.answer_key: answers}
        result = await self.inner.call(server, tool, {**arguments, rule.items: missing})
        got = result.get(rule.answer_key) if isinstance(result, dict) else None
        if not isinstance(got, dict):
            return result
        for ref, key in keys.items():
            if ref in got:
                cache.put(key, got[ref])
                answers[ref] = got[ref]
        return {**result, rule.answer_key: answers}

    async def aclose(self) -> None:
        close = getattr(self.inner, "aclose", None)
        if close is not None:
            await close()

    def __getattr__(self, name: str) -> Any:  # `calls`, `servers`, `caller` of the wrapped caller
        return getattr(self.inner, name)
