"""customer-data and credit-bureau tools, called through a real in-process MCP client."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from mcp import Client

from riskmesh.contracts.reference import DeviceRecord
from riskmesh.mcp_servers.customer_data import JsonViews
from riskmesh.mcp_servers.serve import build_servers
from tests.unit.mcp_servers.tool_payload import payload


@pytest.fixture
def servers(world_dir: Path):
    return build_servers(world_dir, None, token="s3cret", only=["customer-data", "credit-bureau"])


async def test_customers_and_accounts_come_back_as_contract_json_and_unknown_ids_as_null(servers) -> None:
    async with Client(servers["customer-data"]) as client:
        result = await client.call_tool(
            "get_customers_batch", {"customer_ids": ["C1", "C404", "C1"], "account_ids": ["A1-01", "X"]}
        )
    assert not result.is_error
    body = payload(result)
    assert body["customers"]["C1"]["name"] == "Li Wei"
    assert body["customers"]["C1"]["onboarded_at"] == "2020-01-02T03:04:05.000Z"
    assert body["customers"]["C404"] is None
    assert body["accounts"] == {"A1-01": body["accounts"]["A1-01"], "X": None}
    assert body["accounts"]["A1-01"]["daily_limit"] == "50000"


async def test_tools_are_listed_with_descriptions_typed_parameters_and_no_output_schema(servers) -> None:
    async with Client(servers["customer-data"]) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    tool = tools["get_customers_batch"]
    assert "customers" in tool.description
    assert tool.input_schema["properties"]["customer_ids"]["type"] == "array"
    assert "ctx" not in tool.input_schema["properties"]
    assert tool.output_schema is None
    assert "get_devices_batch" in tools


async def test_devices_are_looked_up_in_one_batch(servers) -> None:
    async with Client(servers["customer-data"]) as client:
        result = await client.call_tool("get_devices_batch", {"device_ids": ["D-1", "D-2"]})
    assert payload(result)["devices"]["D-1"]["customer_ids"] == ["C1"]
    assert payload(result)["devices"]["D-2"] is None


async def test_every_call_is_logged_with_caller_tool_outcome_items_and_duration(servers, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="riskmesh.mcp.customer-data"):
        async with Client(servers["customer-data"]) as client:
            await client.call_tool("get_customers_batch", {"customer_ids": ["C1", "C2"], "account_ids": []})
    line = next(r.getMessage() for r in caplog.records if "mcp call" in r.getMessage())
    for part in ("caller=in-process", "tool=get_customers_batch", "outcome=ok", "items=2", "duration_ms="):
        assert part in line


async def test_invalid_arguments_come_back_as_a_tool_error(servers) -> None:
    async with Client(servers["customer-data"]) as client:
        result = await client.call_tool("get_customers_batch", {"customer_ids": "C1"})
    assert result.is_error


async def test_credit_records_carry_utilisation_after_the_transaction_amount(servers) -> None:
    async with Client(servers["credit-bureau"]) as client:
        result = await client.call_tool(
            "get_credit_batch", {"customer_ids": ["C1", "C2", "C3"], "amounts": {"C1": "500.00", "C2": "10"}}
        )
    credit = payload(result)["credit"]
    assert credit["C1"]["rating"] == "BBB"
    assert credit["C1"]["utilisation"] == pytest.approx(0.25)
    assert credit["C1"]["utilisation_after"] == pytest.approx(0.30)
    assert credit["C2"]["utilisation_after"] is None  # no limit, no ratio
    assert credit["C3"] is None


async def test_credit_without_amounts_has_no_utilisation_after(servers) -> None:
    async with Client(servers["credit-bureau"]) as client:
        result = await client.call_tool("get_credit_batch", {"customer_ids": ["C1"]})
    assert payload(result)["credit"]["C1"]["utilisation_after"] is None


async def test_a_malformed_amount_is_refused_with_a_clear_message(servers) -> None:
    async with Client(servers["credit-bureau"]) as client:
        result = await client.call_tool("get_credit_batch", {"customer_ids": ["C1"], "amounts": {"C1": "lots"}})
    assert result.is_error
    assert "not a decimal amount" in result.content[0].text


async def test_one_call_gives_the_owners_of_the_accounts_asked_with_kyc_pep_and_controls(world_dir: Path) -> None:
    frozen = {
        "account_id": "A2-01", "customer_id": "C2", "opened_at": "2021-05-06T00:00:00Z", "product": "current",
        "currency": "HKD", "status": "frozen",
    }  # fmt: skip
    with (world_dir / "accounts.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(frozen) + "\n")
    servers = build_servers(world_dir, None, only=["customer-data"])
    async with Client(servers["customer-data"]) as client:
        result = await client.call_tool("get_customers_batch", {"customer_ids": [], "account_ids": ["A1-01", "A2-01"]})
    body = payload(result)
    assert body["owners"] == {"A1-01": "C1", "A2-01": "C2"}
    assert set(body["customers"]) == {"C1", "C2"}  # owners come back although no customer id was asked
    assert (body["customers"]["C2"]["kyc_risk"], body["customers"]["C2"]["pep"]) == ("medium", False)
    assert body["accounts"]["A1-01"]["controls"] == {
        "status": "active", "payments_blocked": False, "daily_limit": "50000"
    }  # fmt: skip
    assert body["accounts"]["A2-01"]["controls"]["payments_blocked"] is True


def test_a_record_view_is_built_once_and_rebuilt_when_the_record_is_replaced() -> None:
    views, built = JsonViews(), []

    def build(record: DeviceRecord) -> dict:
        built.append(record.device_id)
        return record.model_dump(mode="json")

    seen = "2026-01-01T00:00:00Z"
    first = DeviceRecord(device_id="D-1", first_seen=seen, customer_ids=["C1"])
    assert views.of("device", "D-1", first, build) is views.of("device", "D-1", first, build)
    replaced = views.of("device", "D-1", DeviceRecord(device_id="D-1", first_seen=seen, customer_ids=["C2"]), build)
    assert replaced is not None and replaced["customer_ids"] == ["C2"]
    assert views.of("device", "D-404", None, build) is None
    assert built == ["D-1", "D-1"]
