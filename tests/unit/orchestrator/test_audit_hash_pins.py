"""Audit hashes are forever: the same event must hash to the same bytes whatever the code computing it.

The pinned values below were computed by the original implementation (pydantic `model_dump(mode="json")`
then stdlib `json.dumps(sort_keys=True)`), before the chain was made cheaper; stored chains written by it
must keep verifying.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest

from riskmesh.contracts import Decision
from riskmesh.contracts.audit import GENESIS_HASH, compute_hash
from riskmesh.contracts.decision import VerdictSummary
from riskmesh.orchestrator import audit as audit_module
from riskmesh.orchestrator.audit import AuditEntry, DecisionAuditTrail, MemoryAuditLog, verify_raw

ENTRIES: list[AuditEntry] = [
    ("analyst-1", "alert.claimed", "alert:A-1", None),
    ("analyst-2", "policy.changed", "policy:p",
     {"from": "p-1", "to": "p-2", "score": 1e-05, "big": 1e16, "neg": -0.0, "n": 3, "ok": True, "none": None}),
    ("sØc", "control.applied", "account:Ω-9",
     {"note": 'naïve "quoted" \\ \n tab\t \u2028 😀', "nested": {"z": [1, 2.5, {"b": 1, "a": 2}], "a": []}}),
    ("analyst-3", "case.noted", "case:C-1",
     {"when": datetime(2026, 1, 1, 12, 0, tzinfo=UTC), "amount": Decimal("12.50"), "pair": ("x", 1),
      "tags": frozenset()}),
]
DECISION = Decision(
    tx_id="T-42", decision="review", risk_score=0.7312, decided_at=datetime(2026, 1, 2, tzinfo=UTC), latency_ms=1.5,
    reasons=[{"code": "HIGH_AMOUNT", "agent": "fraud", "weight": 0.3}], policy_version="policy-7",
    verdicts={"fraud": VerdictSummary(score=0.9, status="ok", model_version="fraud-lgbm-3"),
              "credit": VerdictSummary(status="timeout")},
    degraded=["credit"], actions=["hold_card"], alert_id="A-77",
)
PINNED_HASHES = [
    "9c9fb16fb045ce1b9515a3559ad5cd3c969afd119997388f0396ec235ae39c45",
    "e5e826abe742e08eea7b761d89e75a245facd47e2e58e8fb56dd5fc9884d96d8",
    "4cddcb799bf3af60e4bb0f6a6460a4e76e225e957843d00365553fea66a8608e",
    "9b773eeb3f1297412809275c448d3c6d3f1443e0985be28273e468ecb78e4931",
    # the batch's decisions.made event (one per batch since docs/decisions/0003's batch events; the per-decision
    # decision.made event it replaced hashed to d832f5ef…0a73 and stored chains holding it still verify)
    "9e13fbde9d0fe5c4c3c93b697276ac1f544875c82571d7b3dbbdf204ec24ceb5",
]
STORED_BEFORE = [  # the first and last events exactly as the original implementation stored them
    '{"seq":1,"event_id":"00000000000000000000000000000001","at":"2026-01-02T03:04:05.007Z","actor":"analyst-1",'
    '"action":"alert.claimed","subject":"alert:A-1","details":{},"prev_hash":"' + GENESIS_HASH + '",'
    '"hash":"9c9fb16fb045ce1b9515a3559ad5cd3c969afd119997388f0396ec235ae39c45"}',
    '{"seq":2,"event_id":"00000000000000000000000000000002","at":"2026-01-02T03:04:05.008Z","actor":"analyst-2",'
    '"action":"policy.changed","subject":"policy:p","details":{"from":"p-1","to":"p-2","score":0.00001,'
    '"big":1e+16,"neg":-0.0,"n":3,"ok":true,"none":null},'
    '"prev_hash":"9c9fb16fb045ce1b9515a3559ad5cd3c969afd119997388f0396ec235ae39c45",'
    '"hash":"e5e826abe742e08eea7b761d89e75a245facd47e2e58e8fb56dd5fc9884d96d8"}',
]


@pytest.fixture
def deterministic(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryAuditLog]:
    """A log whose event ids count up from 1 and whose clock ticks one millisecond per event."""
    ids = (uuid.UUID(int=i) for i in itertools.count(1))
    monkeypatch.setattr(audit_module.uuid, "uuid4", lambda: next(ids))
    times = (datetime(2026, 1, 2, 3, 4, 5, i * 1000, tzinfo=UTC) for i in itertools.count(7))
    yield MemoryAuditLog(clock=lambda: next(times))


def test_known_events_hash_to_the_pinned_values(deterministic: MemoryAuditLog) -> None:
    events = deterministic.append_many(ENTRIES)
    stored = {DECISION.tx_id: DECISION.model_dump_json().encode()}
    asyncio.run(DecisionAuditTrail(deterministic, "orchestrator:w1").decisions_made([DECISION], stored, "b-1"))
    events += list(deterministic.events(len(events) + 1))
    assert [e.hash for e in events] == PINNED_HASHES
    assert [e.hash for e in deterministic.events()] == PINNED_HASHES
    assert deterministic.verify().ok


def test_every_appended_hash_equals_the_models_own_expected_hash(deterministic: MemoryAuditLog) -> None:
    for event in deterministic.append_many(ENTRIES):
        assert event.hash == event.expected_hash()
        assert event.hash == compute_hash(event.model_dump(mode="json"))


def test_a_chain_stored_by_the_original_implementation_still_verifies() -> None:
    result = verify_raw(list(STORED_BEFORE))
    assert result.ok and result.checked == 2


def test_compute_hash_of_a_fixed_field_set_is_pinned() -> None:
    fields = {"seq": 1, "b": [1.5, None, "é"], "a": {"y": 1e-07, "x": False}, "hash": "ignored"}
    assert compute_hash(fields) == "0def83028c96258a84305aa44c74a48395c3c5a40e32a33a3d80b7ea9eba0237"


class _Colour(str, Enum):  # noqa: UP042 - the (str, Enum) mixin older code uses, not StrEnum
    RED = "red"


@pytest.mark.parametrize("details", [
    {"f": 1e-05, "g": 1.5e-07, "h": 1e22, "i": 123456789.125, "j": 0.1 + 0.2},
    {"nan": float("nan"), "inf": float("inf")},
    {"enum": _Colour.RED, "nested": {"k": [_Colour.RED, (1, 2)]}, "b": b"raw"},
    {"uuid": uuid.UUID(int=5), "date": datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)},
    {"ü": {"ß": ["\x00", "\x7f", "\ud7ff"]}, "A": 1, "a": 2},
])
def test_unusual_details_hash_as_the_models_json_dump_does_and_verify(details: dict[str, Any]) -> None:
    log = MemoryAuditLog()
    event = log.append("actor", "action", "subject", details)
    assert event.hash == event.expected_hash()
    assert log.verify().ok


def test_appending_onto_a_chain_stored_by_the_original_implementation_keeps_it_verifiable() -> None:
    log = MemoryAuditLog()
    log._raw.extend(STORED_BEFORE)
    event = log.append("analyst-4", "alert.closed", "alert:A-1", {"why": "resolved"})
    assert (event.seq, event.prev_hash) == (3, PINNED_HASHES[1])
    assert log.verify().ok
