"""A small seeded world with its SOC telemetry, generated once per session (importable by name: conftest is not)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from riskmesh.orchestrator.synth import World
from riskmesh.orchestrator.synth.telemetry import Telemetry, write_telemetry

SEED, CUSTOMERS, DAYS, STREAM_SEEDS = 11, 400, 8, (12, 1)


@dataclass
class SocWorld:
    directory: Path
    world: World
    telemetry: Telemetry


@pytest.fixture(scope="session")
def soc_world(tmp_path_factory: pytest.TempPathFactory) -> SocWorld:
    directory = tmp_path_factory.mktemp("soc-world")
    world = World.generate(seed=SEED, customers=CUSTOMERS)
    world.write(directory)
    telemetry = write_telemetry(world, directory, world_seed=SEED, stream_seeds=STREAM_SEEDS, days=DAYS)
    assert telemetry.takeovers, "the sample world must hold account takeovers"
    return SocWorld(directory, world, telemetry)
