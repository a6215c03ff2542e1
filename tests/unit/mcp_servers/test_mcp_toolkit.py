"""The guard every tool runs under: bearer token, caller identity, one log line per call."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from mcp.server.mcpserver.exceptions import ToolError

from riskmesh.mcp_servers.policy import AccessPolicy
from riskmesh.mcp_servers.toolkit import ToolGuard, check_batch_size

POLICY = AccessPolicy.from_table(
    {"fraud": {"tools": {"demo": ["t"]}, "fields": {"customer": {"name": "mask", "date_of_birth": "drop"}}}}
)


def _ctx(headers):
    return SimpleNamespace(headers=headers)


def test_http_calls_need_the_bearer_token_when_the_server_has_one() -> None:
    guard = ToolGuard("demo", token="tok", policy=POLICY)
    with guard.call(_ctx({"authorization": "Bearer tok", "x-riskmesh-caller": "fraud"}), "t", 1) as call:
        assert call.caller == "fraud"
    for headers in ({"authorization": "Bearer nope"}, {}):
        with pytest.raises(ToolError, match="unauthorised"), guard.call(_ctx(headers), "t", 1):
            pytest.fail("the body must not run")


def test_in_process_calls_without_headers_are_trusted() -> None:
    guard = ToolGuard("demo", token="tok")
    with guard.call(_ctx(None), "t", 1) as call:
        assert call.caller == "in-process"


def test_a_server_without_a_token_still_refuses_callers_outside_the_policy() -> None:
    with (
        pytest.raises(ToolError, match=r"caller 'unknown' may not call demo\.t"),
        ToolGuard("demo").call(_ctx({}), "t", 1),
    ):
        pytest.fail("the body must not run")
    with ToolGuard("demo", policy=POLICY).call(_ctx({"x-riskmesh-caller": "fraud"}), "t", 1) as call:
        assert call.caller == "fraud"
    with (
        pytest.raises(ToolError, match=r"caller 'fraud' may not call demo\.other"),
        ToolGuard("demo", policy=POLICY).call(_ctx({"x-riskmesh-caller": "fraud"}), "other", 1),
    ):
        pytest.fail("the body must not run")


def test_fields_outside_the_policy_are_masked_or_dropped_and_counted(caplog) -> None:
    guard = ToolGuard("demo", policy=POLICY)
    record = {"customer_id": "C1", "name": "Li Wei", "date_of_birth": "1990-01-01", "pep": False}
    with (
        caplog.at_level(logging.INFO, logger="riskmesh.mcp.demo"),
        guard.call(_ctx({"x-riskmesh-caller": "fraud"}), "t", 1) as call,
    ):
        seen = call.redact("customer", record)
        assert call.redact("customer", None) is None
    assert seen == {"customer_id": "C1", "name": "***", "pep": False}
    assert record["name"] == "Li Wei"  # the stored record is untouched
    [line] = [r for r in caplog.records if "mcp call" in r.getMessage()]
    assert (line.mcp_outcome, line.mcp_masked, line.mcp_caller) == ("masked", 2, "fraud")


def test_an_unsafe_caller_name_is_cleaned_before_it_is_logged() -> None:
    with pytest.raises(ToolError), ToolGuard("demo").call(_ctx({"x-riskmesh-caller": "x\nforged=1"}), "t", 1):
        pass
    with ToolGuard("demo", policy=POLICY).call(_ctx(None), "t", 1) as call:
        assert call.caller == "in-process"


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


def test_a_batch_given_as_json_text_validates_like_the_structured_one() -> None:
    import orjson
    from pydantic import BaseModel, TypeAdapter

    from riskmesh.mcp_servers.toolkit import ToolCall, batch_items

    class Item(BaseModel):
        ref: str
        n: int

    adapter = TypeAdapter(list[Item])
    items = [{"ref": "a", "n": 1}, {"ref": "b", "n": 2}]
    call = ToolCall(caller="fraud", tool="t", items=0)
    from_text = batch_items(call, "items", None, orjson.dumps(items).decode(), adapter)
    assert from_text == batch_items(None, "items", adapter.validate_python(items), "", adapter)
    assert call.items == 2
    with pytest.raises(ToolError, match="not both"):
        batch_items(None, "items", adapter.validate_python(items), "[]", adapter)
    with pytest.raises(ToolError, match="items_json is not a valid list of items"):
        batch_items(None, "items", None, '[{"ref": "a", "n": "x"}]', adapter)
    with pytest.raises(ToolError, match="items_json"):
        batch_items(None, "items", None, "not json", adapter)
