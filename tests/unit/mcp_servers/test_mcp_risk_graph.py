"""The risk graph: the store's features (sharing, fan-in/out, pass-through, rings, known-bad) and the MCP tools."""

from __future__ import annotations

import random
import time
from itertools import pairwise
from pathlib import Path

import pytest
from mcp import Client

from riskmesh.agents.base import ToolCallError
from riskmesh.agents.mcp_client import McpToolCaller
from riskmesh.mcp_servers.graph_store import DAY_MS, GraphStore, GraphTx, MemoryGraphStore
from riskmesh.mcp_servers.risk_graph import build_risk_graph_server
from riskmesh.mcp_servers.serve import build_servers
from riskmesh.mcp_servers.stores import load_reference_data
from tests.unit.mcp_servers.tool_payload import payload

T0 = 1_800_000_000_000


def tx(tx_id: str, debtor: str, creditor: str, amount: float = 100.0, minutes: int = 0, **extra) -> GraphTx:
    return GraphTx(tx_id, T0 + minutes * 60_000, debtor, creditor, amount, extra.get("device"), extra.get("ip"),
                   extra.get("type", "transfer"))


DAY_MIN = DAY_MS // 60_000


async def one(store: MemoryGraphStore, account: str, **item) -> dict:
    return (await store.features([{"ref": "r", "account_id": account, **item}]))["r"]


def test_the_memory_store_implements_the_port() -> None:
    assert isinstance(MemoryGraphStore(), GraphStore)


async def test_observing_is_idempotent_per_tx_id() -> None:
    store = MemoryGraphStore()
    batch = [tx("T1", "A", "B", 10), tx("T2", "A", "B", 5)]
    assert await store.observe(batch) == 2
    assert await store.observe(batch) == 0
    assert store.pair("A", "B") == {"count": 2, "amount": 15, "last_ms": T0}
    assert (await one(store, "A"))["out_amount_24h"] == 15


async def test_a_device_and_an_ip_shared_by_many_accounts_are_counted() -> None:
    store = MemoryGraphStore()
    await store.observe([tx(f"T{i}", f"A{i}", "SHOP", device="D-mule", ip="10.0.0.1") for i in range(6)])
    feats = await one(store, "A0", device_id="D-mule", ip="10.0.0.1")
    assert (feats["accounts_sharing_device"], feats["accounts_sharing_ip"]) == (5, 5)
    assert (await one(store, "A0", device_id="D-unknown"))["accounts_sharing_device"] == 0


async def test_fan_in_then_fan_out_shows_as_degrees_and_a_pass_through_ratio() -> None:
    store = MemoryGraphStore()
    inflow = [tx(f"I{i}", f"SRC{i}", "MULE", 1000, minutes=i) for i in range(8)]
    outflow = [tx("O1", "MULE", "X1", 4000, minutes=30), tx("O2", "MULE", "X2", 3800, minutes=31)]
    await store.observe([*inflow, *outflow])
    feats = await one(store, "MULE")
    assert (feats["fan_in"], feats["fan_out"], feats["fan_in_24h"], feats["fan_out_24h"]) == (8, 2, 8, 2)
    assert feats["pass_through_ratio"] == pytest.approx(0.975)
    assert (await one(store, "SRC0"))["pass_through_ratio"] is None  # no inflow: no ratio


async def test_the_pass_through_window_follows_stream_time() -> None:
    store = MemoryGraphStore()
    await store.observe([tx("I", "S", "M", 500), tx("O", "M", "X", 500)])
    await store.observe([tx("LATER", "Q", "R", 1, minutes=2 * DAY_MS // 60_000)])
    feats = await one(store, "M")
    assert feats["pass_through_ratio"] is None and feats["fan_in"] == 1 and feats["fan_in_24h"] == 0


async def test_a_small_payment_ring_is_found_and_a_chain_is_not() -> None:
    store = MemoryGraphStore()
    await store.observe([tx("R1", "A", "B"), tx("R2", "B", "C"), tx("R3", "C", "A"), tx("C1", "C", "D")])
    ring, chain = await one(store, "A"), await one(store, "D")
    assert (ring["in_cycle"], ring["cycle_length"]) == (True, 3)
    assert (chain["in_cycle"], chain["cycle_length"]) == (False, None)


async def test_two_accounts_paying_each_other_back_are_not_a_ring() -> None:
    store = MemoryGraphStore()
    await store.observe([tx("L1", "A", "B"), tx("L2", "B", "A")])
    assert (await one(store, "A"))["in_cycle"] is False
    strict = MemoryGraphStore(min_cycle=2)
    await strict.observe([tx("L1", "A", "B"), tx("L2", "B", "A")])
    assert (await one(strict, "A"))["cycle_length"] == 2


async def test_a_ring_closed_by_a_refund_or_a_card_purchase_is_not_a_payment_ring() -> None:
    store = MemoryGraphStore()
    await store.observe([tx("P1", "A", "SHOP", type="card_purchase"), tx("P2", "SHOP", "B", type="refund"),
                         tx("P3", "B", "A")])
    assert (await one(store, "A"))["in_cycle"] is False


async def test_a_ring_whose_legs_are_older_than_the_ring_window_is_forgotten() -> None:
    store = MemoryGraphStore()
    await store.observe([tx("R1", "A", "B"), tx("R2", "B", "C"), tx("R3", "C", "A")])
    assert (await one(store, "A"))["in_cycle"] is True
    await store.observe([tx("LATER", "Q", "R", minutes=8 * DAY_MIN)])
    assert (await one(store, "A"))["in_cycle"] is False


async def test_fan_in_counts_the_payers_of_the_last_thirty_days() -> None:
    store = MemoryGraphStore()
    await store.observe([tx(f"OLD{i}", f"S{i}", "M", minutes=i) for i in range(5)])
    await store.observe([tx("NEW", "S9", "M", minutes=20 * DAY_MIN)])
    assert (await one(store, "M"))["fan_in"] == 6
    await store.observe([tx("NEWER", "S9", "M", minutes=31 * DAY_MIN)])
    assert (await one(store, "M"))["fan_in"] == 1


async def test_a_shared_ip_stops_linking_accounts_once_they_stop_using_it() -> None:
    store = MemoryGraphStore()
    await store.observe([tx(f"T{i}", f"A{i}", "SHOP", ip="10.0.0.1") for i in range(6)])
    assert (await one(store, "A0", ip="10.0.0.1"))["accounts_sharing_ip"] == 5
    await store.observe([tx("T9", "A0", "SHOP", ip="10.0.0.1", minutes=31 * DAY_MIN)])
    assert (await one(store, "A0", ip="10.0.0.1"))["accounts_sharing_ip"] == 0


async def test_a_rebuild_forgets_paths_to_known_bad_nodes_that_left_the_window() -> None:
    store = MemoryGraphStore(rebuild_every=10**9)
    await store.mark_bad({"account:BAD": "mule"})
    await store.observe([tx("T1", "BAD", "A"), tx("T2", "A", "B")])
    assert (await one(store, "B"))["distance_to_bad"] == 2
    await store.observe([tx("T3", "X", "Y", minutes=31 * DAY_MIN)])
    assert (await one(store, "B"))["distance_to_bad"] == 2  # distances only shrink between rebuilds
    store.rebuild()
    assert (await one(store, "B"))["distance_to_bad"] is None
    assert (await one(store, "BAD"))["distance_to_bad"] == 0


async def test_a_ring_longer_than_the_bound_is_not_reported() -> None:
    store = MemoryGraphStore(cycle_hops=4)
    hops = ["A", "B", "C", "D", "E", "A"]
    await store.observe([tx(f"R{i}", a, b) for i, (a, b) in enumerate(pairwise(hops))])
    assert (await one(store, "A"))["in_cycle"] is False


async def test_distance_to_a_known_bad_node_goes_through_devices_and_owners(world_dir: Path) -> None:
    store = MemoryGraphStore()
    store.seed(load_reference_data(world_dir))
    await store.observe([tx("T1", "BAD-ACC", "X", device="D-9"), tx("T2", "A1-01", "Y", device="D-9")])
    assert (await one(store, "A1-01"))["distance_to_bad"] is None
    assert await store.mark_bad({"account:BAD-ACC": "confirmed mule"}) == 1
    assert await store.mark_bad({"account:BAD-ACC": "again"}) == 0
    feats = await one(store, "A1-01")
    assert (feats["distance_to_bad"], feats["nearest_bad"]) == (2, "account:BAD-ACC")
    assert feats["nearest_bad_reason"] == "confirmed mule"
    assert (await one(store, "Z", counterparty_account_id="BAD-ACC"))["distance_to_bad"] == 0


async def test_frozen_reference_accounts_are_known_bad_and_devices_link_customers(world_dir: Path) -> None:
    data = load_reference_data(world_dir)
    data.accounts["A1-01"] = data.accounts["A1-01"].model_copy(update={"status": "frozen"})
    store = MemoryGraphStore()
    store.seed(data)
    feats = await one(store, "A1-01", device_id="D-1")
    assert feats["is_bad"] and feats["distance_to_bad"] == 0
    assert feats["accounts_sharing_device"] == 0  # D-1 belongs to C1, whose only account is this one


async def test_hubs_are_not_expanded_so_a_popular_merchant_does_not_link_everyone() -> None:
    store = MemoryGraphStore(hub_degree=10)
    await store.observe([tx(f"T{i}", f"C{i}", "MERCHANT") for i in range(50)])
    await store.mark_bad({"account:C0": "mule"})
    assert (await one(store, "C1"))["distance_to_bad"] is None


async def test_five_hundred_queries_on_a_busy_graph_take_tens_of_milliseconds() -> None:
    rng = random.Random(7)
    store = MemoryGraphStore()
    accounts = [f"A{i}" for i in range(5_000)]
    await store.observe(
        [
            tx(f"T{i}", rng.choice(accounts), rng.choice(accounts), rng.uniform(1, 500), minutes=i // 20,
               device=f"D{rng.randrange(3_000)}", ip=f"10.0.{rng.randrange(50)}.{rng.randrange(250)}")
            for i in range(40_000)
        ]
    )  # fmt: skip
    await store.mark_bad({f"account:{a}": "mule" for a in rng.sample(accounts, 20)})
    items = [
        {"ref": str(i), "account_id": rng.choice(accounts), "device_id": f"D{i}", "ip": "10.0.1.1"} for i in range(500)
    ]
    await store.features(items[:1])  # the distance map is built once per graph version
    started = time.perf_counter()
    features = await store.features(items)
    elapsed = time.perf_counter() - started
    assert len(features) == 500
    assert elapsed < 0.25, f"500 graph queries took {elapsed * 1000:.0f} ms"


async def test_the_tools_observe_query_flag_and_show_a_neighbourhood(world_dir: Path) -> None:
    server = build_servers(world_dir, None, only=["risk-graph"])["risk-graph"]
    events = [
        {"tx_id": "T1", "ts": "2026-11-21T09:00:00Z", "debtor_account_id": "A1-01", "creditor_account_id": "B",
         "amount": "250.00", "device_id": "D-1", "ip": "203.0.113.7"},
        {"tx_id": "T2", "ts": "2026-11-21T09:05:00Z", "debtor_account_id": "B", "creditor_account_id": "A1-01",
         "amount": 240},
    ]  # fmt: skip
    async with Client(server) as client:
        first = await client.call_tool("observe_batch", {"transactions": events})
        again = await client.call_tool("observe_batch", {"transactions": events})
        flagged = await client.call_tool("mark_bad_batch", {"nodes": [{"kind": "ip", "id": "203.0.113.7"}]})
        feats = await client.call_tool(
            "graph_features_batch", {"items": [{"ref": "T1:debtor", "account_id": "A1-01", "ip": "203.0.113.7"}]}
        )
        around = await client.call_tool("neighbourhood", {"node": "account:A1-01", "depth": 1})
        wrong = await client.call_tool("neighbourhood", {"node": "planet:earth"})
    assert payload(first) == {"observed": 2, "ignored": 0}
    assert payload(again) == {"observed": 0, "ignored": 2}
    assert payload(flagged) == {"marked": 1}
    f = payload(feats)["features"]["T1:debtor"]
    assert (f["in_cycle"], f["cycle_length"], f["distance_to_bad"]) == (False, None, 0)  # a 2-cycle is no ring
    assert (f["fan_in"], f["fan_out"]) == (1, 1)
    ids = {n["id"] for n in payload(around)["nodes"]}
    assert {"account:A1-01", "customer:C1", "account:B", "device:D-1", "ip:203.0.113.7"} <= ids
    assert wrong.is_error and "must start with one of" in wrong.content[0].text


async def test_a_bare_server_over_an_empty_store_answers_unknown_accounts() -> None:
    async with Client(build_risk_graph_server(MemoryGraphStore())) as client:
        result = await client.call_tool("graph_features_batch", {"items": [{"ref": "x", "account_id": "NEW"}]})
    feats = payload(result)["features"]["x"]
    assert feats["known"] is False and feats["fan_in"] == 0 and feats["distance_to_bad"] is None


async def test_observe_and_features_records_the_batch_before_reading_it_in_one_call(world_dir: Path) -> None:
    server = build_servers(world_dir, None, only=["risk-graph"])["risk-graph"]
    events = [
        {"tx_id": "R1", "ts": "2026-11-21T10:00:00Z", "debtor_account_id": "RA", "creditor_account_id": "RB",
         "amount": "90.00"},
        {"tx_id": "R2", "ts": "2026-11-21T10:01:00Z", "debtor_account_id": "RB", "creditor_account_id": "RA",
         "amount": "85.00"},
    ]  # fmt: skip
    items = [{"ref": "R2:debtor", "account_id": "RB", "counterparty_account_id": "RA"}]
    async with Client(server) as client:
        first = payload(await client.call_tool("observe_and_features_batch", {"transactions": events, "items": items}))
        again = payload(await client.call_tool("observe_and_features_batch", {"transactions": events, "items": items}))
        alone = payload(await client.call_tool("graph_features_batch", {"items": items}))
    assert (first["observed"], first["ignored"], again["observed"], again["ignored"]) == (2, 0, 0, 2)
    f = first["features"]["R2:debtor"]
    assert f["known"] and (f["fan_in"], f["fan_out"], f["in_cycle"]) == (1, 1, False)  # sees its own batch
    assert first["features"] == again["features"] == alone["features"]  # the same answer as the two-call way


async def test_a_caller_that_may_only_read_the_graph_cannot_feed_it_through_the_combined_tool(
        world_dir: Path) -> None:
    servers = build_servers(world_dir, None, only=["risk-graph"])
    tools = McpToolCaller.in_process({"risk-graph": servers["risk-graph"]}, caller="console")
    try:
        with pytest.raises(ToolCallError, match=r"may not call risk-graph\.observe_and_features_batch"):
            await tools.call("risk-graph", "observe_and_features_batch", {"transactions": [], "items": []})
    finally:
        await tools.aclose()
