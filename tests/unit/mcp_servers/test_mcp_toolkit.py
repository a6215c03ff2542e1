"""The guard every tool runs under: bearer token, caller identity, one log line per call."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from mcp.server.mcpserver.exceptions import ToolError

from riskmesh.mcp_servers.toolkit import ToolGuard, check_batch_size


def _ctx(headers):
    return SimpleNamespace(headers=headers)


def test_http_calls_need_the_bearer_token_when_the_server_has_one() -> None:
    guard = ToolGuard("demo", token="tok")
    with guard.call(_ctx({"authorization": "Bearer tok", "x-riskmesh-caller": "fraud"}), "t", 1) as call:
        assert call.caller == "fraud"
    for headers in ({"authorization": "Bearer nope"}, {}):
        with pytest.raises(ToolError, match="unauthorised"), guard.call(_ctx(headers), "t", 1):
            pytest.fail("the body must not run")


def test_in_process_calls_without_headers_are_trusted() -> None:
    guard = ToolGuard("demo", token="tok")
    with guard.call(_ctx(None), "t", 1) as call:
        assert call.caller == "in-process"


def test_a_server_without_a_token_accepts_any_caller() -> None:
    with ToolGuard("demo").call(_ctx({}), "t", 1) as call:
        assert call.caller == "unknown"


def test_refused_and_failed_calls_are_logged_with_their_outcome(caplog) -> None:
    guard = ToolGuard("demo", token="tok")
    with caplog.at_level(logging.INFO, logger="riskmesh.mcp.demo"):
        with pytest.raises(ToolError), guard.call(_ctx({"x-riskmesh-caller": "x"}), "t", 3):
            pass
        with pytest.raises(ToolError), guard.call(_ctx(None), "t", 2):
            raise ToolError("bad input")
        with pytest.raises(KeyError), guard.call(_ctx(None), "t", 2):
            raise KeyError("boom")
    outcomes = [r.getMessage() for r in caplog.records if "mcp call" in r.getMessage()]
    assert "outcome=denied" in outcomes[0] and "caller=x" in outcomes[0]
    assert "outcome=rejected" in outcomes[1]
    assert "outcome=error" in outcomes[2]


def test_oversized_batches_are_refused() -> None:
    with pytest.raises(ToolError, match="batch too large"):
        check_batch_size(10_001, "ids")
