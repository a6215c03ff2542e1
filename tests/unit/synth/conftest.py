"""A world and a three-week stream with every pattern boosted, shared by the pattern tests."""

from __future__ import annotations

import pytest

from riskmesh.contracts import Transaction
from riskmesh.orchestrator.synth import LOOKALIKE_RATES, PATTERN_RATES, TransactionStream, World

BOOST = 12


@pytest.fixture(scope="session")
def boosted_world() -> World:
    return World.generate(seed=21, customers=300)


@pytest.fixture(scope="session")
def boosted(boosted_world: World) -> list[Transaction]:
    """Three weeks over 300 customers, patterns and look-alikes twelve times as frequent as by default."""
    stream = TransactionStream.for_days(
        boosted_world,
        seed=21,
        days=21,
        pattern_rates={k: v * BOOST for k, v in PATTERN_RATES.items()},
        lookalike_rates={k: v * BOOST for k, v in LOOKALIKE_RATES.items()},
    )
    return list(stream)
