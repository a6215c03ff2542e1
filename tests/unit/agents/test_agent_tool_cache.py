"""CachingToolCaller: reference answers are remembered per id; only unknown ids reach the MCP server."""

from __future__ import annotations

from typing import Any

import pytest

from riskmesh.agents.base import ToolCallError
from riskmesh.agents.tool_cache import CachingToolCaller


class Reference:
    """A fake MCP tool layer: customer-data and watchlists answers built from the ids asked for."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.fail = False

    async def call(self, server: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((server, tool, arguments))
        if self.fail:
            raise ToolCallError(server, tool, "down")
        if tool == "get_customers_batch":
            return {"customers": {c: {"customer_id": c} for c in arguments["customer_ids"] if c != "C-unknown"},
                    "accounts": {a: {"account_id": a} for a in arguments["account_ids"]}}
        if tool == "screen_names_batch":
            hits = {q["ref"]: [{"name": q["name"], "t": arguments["threshold"]}] for q in arguments["names"]}
            return {"results": hits}
        return {"echo": arguments}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_known_ids_are_served_from_the_cache_and_only_new_ones_are_asked_for() -> None:
    inner = Reference()
    tools = CachingToolCaller(inner, ttl_s=60)
    first = await tools.call("customer-data", "get_customers_batch", {"customer_ids": ["C1"], "account_ids": ["A1"]})
    second = await tools.call("customer-data", "get_customers_batch",
                              {"customer_ids": ["C1", "C2"], "account_ids": ["A1"]})
    third = await tools.call("customer-data", "get_customers_batch", {"customer_ids": ["C2"], "account_ids": ["A1"]})
    assert first == {"customers": {"C1": {"customer_id": "C1"}}, "accounts": {"A1": {"account_id": "A1"}}}
    assert second == {"customers": {"C1": {"customer_id": "C1"}, "C2": {"customer_id": "C2"}},
                      "accounts": {"A1": {"account_id": "A1"}}}
    assert third["customers"] == {"C2": {"customer_id": "C2"}}
    assert [c[2] for c in inner.calls] == [{"customer_ids": ["C1"], "account_ids": ["A1"]},
                                           {"customer_ids": ["C2"], "account_ids": []}]  # the third: no call


async def test_an_unknown_id_is_remembered_as_unknown() -> None:
    inner = Reference()
    tools = CachingToolCaller(inner, ttl_s=60)
    for _ in range(2):
        answer = await tools.call("customer-data", "get_customers_batch",
                                  {"customer_ids": ["C-unknown"], "account_ids": []})
        assert answer["customers"] == {}
    assert len(inner.calls) == 1


async def test_answers_expire_after_the_time_to_live() -> None:
    inner, clock = Reference(), Clock()
    tools = CachingToolCaller(inner, ttl_s=10, clock=clock)
    args = {"customer_ids": ["C1"], "account_ids": []}
    await tools.call("customer-data", "get_customers_batch", args)
    clock.now = 9
    await tools.call("customer-data", "get_customers_batch", args)
    clock.now = 11
    await tools.call("customer-data", "get_customers_batch", args)
    assert len(inner.calls) == 2


async def test_screening_is_cached_per_name_country_and_threshold_and_keeps_the_callers_refs() -> None:
    inner = Reference()
    tools = CachingToolCaller(inner, ttl_s=60)
    names = [{"ref": "n0", "name": "Li Wei", "country": "CN"}]
    await tools.call("watchlists", "screen_names_batch", {"names": names, "threshold": 0.88})
    again = await tools.call("watchlists", "screen_names_batch",
                             {"names": [{"ref": "x7", "name": "Li Wei", "country": "CN"}], "threshold": 0.88})
    other = await tools.call("watchlists", "screen_names_batch", {"names": names, "threshold": 0.9})
    assert again == {"results": {"x7": [{"name": "Li Wei", "t": 0.88}]}}
    assert other == {"results": {"n0": [{"name": "Li Wei", "t": 0.9}]}}
    assert len(inner.calls) == 2


async def test_other_tools_failures_and_a_zero_ttl_go_straight_through() -> None:
    inner = Reference()
    tools = CachingToolCaller(inner, ttl_s=60)
    assert await tools.call("transactions", "features_batch", {"x": 1}) == {"echo": {"x": 1}}
    inner.fail = True
    with pytest.raises(ToolCallError):
        await tools.call("customer-data", "get_customers_batch", {"customer_ids": ["C1"], "account_ids": []})
    inner.fail = False
    await tools.call("customer-data", "get_customers_batch", {"customer_ids": ["C1"], "account_ids": []})
    off = CachingToolCaller(inner, ttl_s=0)
    await off.call("customer-data", "get_customers_batch", {"customer_ids": ["C1"], "account_ids": []})
    await off.call("customer-data", "get_customers_batch", {"customer_ids": ["C1"], "account_ids": []})
    assert len(inner.calls) == 5  # echo, the failure, its retry, and both uncached calls
