"""The telemetry generator: deterministic, and linked to the account takeovers of the streams it covers."""

from __future__ import annotations

from collections import defaultdict

from soc_specialist_world import DAYS, SEED, STREAM_SEEDS, SocWorld

from riskmesh.orchestrator.synth import TransactionStream, World
from riskmesh.orchestrator.synth.telemetry import (
    TELEMETRY_FILES,
    demo_stream_seeds,
    ensure_telemetry,
    generate_telemetry,
)


def test_the_same_world_seed_and_streams_give_the_same_telemetry_and_another_seed_does_not() -> None:
    world = World.generate(seed=3, customers=120)
    first = generate_telemetry(world, 3, stream_seeds=(4,), days=3)
    again = generate_telemetry(world, 3, stream_seeds=(4,), days=3)
    other = generate_telemetry(world, 5, stream_seeds=(4,), days=3)
    for name in TELEMETRY_FILES:
        assert getattr(first, name) == getattr(again, name)
    assert first.auth_events != other.auth_events


def test_every_takeover_ip_of_the_streams_ran_credential_stuffing_and_then_got_into_the_victim(
        soc_world: SocWorld) -> None:
    takeovers = [tx for seed in STREAM_SEEDS for tx in TransactionStream.for_days(soc_world.world, seed, DAYS)
                 .iter_dicts() if (tx.get("label") or {}).get("pattern") == "account_takeover"]
    assert takeovers
    by_ip = defaultdict(list)
    for event in soc_world.telemetry.auth_events:
        by_ip[event["ip"]].append(event)
    for tx in takeovers:
        ip, victim = tx["device"]["ip"], tx["debtor"]["customer_id"]
        failures = [e for e in by_ip[ip] if e["result"] == "failure" and e["ts"] < tx["ts"]]
        assert len({e["user"] for e in failures}) >= 5, f"{ip} did not stuff credentials before {tx['tx_id']}"
        wins = [e for e in by_ip[ip] if e["result"] == "success" and e["customer_id"] == victim]
        assert any(w["device_id"] == tx["device"]["device_id"] and w["ts"] < tx["ts"] for w in wins)


def test_the_ioc_feed_lists_part_of_the_botnet_and_the_malware_found_on_victims(soc_world: SocWorld) -> None:
    listed = {(i["kind"], i["value"]) for i in soc_world.telemetry.iocs}
    bots = {t.ip for t in soc_world.telemetry.takeovers}
    on_feed = {ip for ip in bots if ("ip", ip) in listed}
    assert on_feed, "some takeover IPs are on the feed"
    victims = {t.customer_id for t in soc_world.telemetry.takeovers}
    malware = [e for e in soc_world.telemetry.endpoint_events
               if e["customer_id"] in victims and e.get("signed") is False and e.get("sha256")]
    assert malware and all(("hash", e["sha256"]) in listed for e in malware)


def test_records_are_time_ordered_and_the_new_attacker_device_is_enrolled_before_the_takeover(
        soc_world: SocWorld) -> None:
    for name in ("auth_events", "network_flows", "endpoint_events"):
        stamps = [r["ts"] for r in getattr(soc_world.telemetry, name)]
        assert stamps == sorted(stamps)
    enrolled = {e["device_id"] for e in soc_world.telemetry.endpoint_events if e["kind"] == "device_registration"}
    assert {t.device_id for t in soc_world.telemetry.takeovers} <= enrolled


def test_ensure_telemetry_adds_it_to_an_existing_world_once(tmp_path) -> None:
    World.generate(seed=SEED, customers=60).write(tmp_path)
    ensure_telemetry(tmp_path, SEED, stream_seeds=(1,), days=2)
    stamps = {n: (tmp_path / f"{n}.jsonl").stat().st_mtime_ns for n in TELEMETRY_FILES}
    ensure_telemetry(tmp_path, SEED, stream_seeds=(1,), days=2)
    assert stamps == {n: (tmp_path / f"{n}.jsonl").stat().st_mtime_ns for n in TELEMETRY_FILES}
    assert len(list(tmp_path.glob(".telemetry-*"))) == 1


def test_the_demo_streams_are_those_make_run_and_produce_play() -> None:
    assert demo_stream_seeds(7) == (8, 1)
