"""Fixtures of the risk-gateway tests; the doubles live in gateway_doubles (importable by name)."""

from collections.abc import AsyncIterator

import pytest
from gateway_doubles import Gateway, running_gateway


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    async with running_gateway() as gw:
        yield gw
