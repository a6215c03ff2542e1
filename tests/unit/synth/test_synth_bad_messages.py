"""Malformed payloads: every kind is refused by the contract parser, with the matching error type."""

from __future__ import annotations

import pytest

from riskmesh.contracts import ContractError, parse_transaction
from riskmesh.orchestrator.synth import BAD_KINDS, bad_messages

EXPECTED_ERROR = {
    "invalid_json": "invalid_json",
    "missing_fields": "invalid_transaction",
    "negative_amount": "invalid_transaction",
    "unknown_currency": "invalid_transaction",
    "oversized": "oversized",
    "wrong_types": "invalid_transaction",
}


def test_bad_messages_cycle_over_every_kind_in_order() -> None:
    messages = bad_messages(count=14, seed=1)
    assert [kind for kind, _ in messages] == [BAD_KINDS[i % len(BAD_KINDS)] for i in range(14)]
    assert set(BAD_KINDS) == set(EXPECTED_ERROR)


def test_bad_messages_are_deterministic_per_seed() -> None:
    assert bad_messages(30, seed=4) == bad_messages(30, seed=4)
    assert bad_messages(30, seed=4) != bad_messages(30, seed=5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_bad_message_is_rejected_with_the_expected_error_kind(seed: int) -> None:
    for kind, payload in bad_messages(count=120, seed=seed):
        with pytest.raises(ContractError) as caught:
            parse_transaction(payload)
        assert caught.value.error_type == EXPECTED_ERROR[kind], (kind, payload[:200])


def test_rejections_name_the_offending_field() -> None:
    by_kind = {kind: payload for kind, payload in bad_messages(count=6, seed=3)}
    for kind, field in (("negative_amount", "amount"), ("unknown_currency", "currency")):
        with pytest.raises(ContractError) as caught:
            parse_transaction(by_kind[kind])
        assert field in caught.value.fields


def test_oversized_messages_exceed_sixty_four_kibibytes() -> None:
    sizes = [len(p) for kind, p in bad_messages(count=60, seed=2) if kind == "oversized"]
    assert sizes and min(sizes) > 64 * 1024
    others = [len(p) for kind, p in bad_messages(count=60, seed=2) if kind != "oversized"]
    assert max(others) < 64 * 1024
