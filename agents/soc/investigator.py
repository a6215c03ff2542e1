"""The soc-investigator's logic: turn an alert (or indicators) into an investigation, fan it out, merge.

Transport-free. The specialists are reached through `SpecialistDirectory`/`Specialist` (the A2A edge
implements them over streaming A2A tasks: riskmesh.a2a.soc_directory); data only through MCP (`ToolCaller`):

- risk-actions `get_alert` gives the alert (transaction id, debtor account, time);
- customer-data `get_customers_batch` gives the account's owner (the customer);
- transactions `recent_history` gives the account's kept transactions, whose row for the alert's
  transaction carries its device id and IP.

`Investigator.run` yields the merged `IncidentView` every time it changes and always ends, by the
overall deadline at the latest: a specialist that fails or is still running then is marked failed or
timeout and the incident is "partial".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from riskmesh.agents.base import ToolCaller, ToolCallError
from riskmesh.agents.soc.merge import IncidentBuilder
from riskmesh.contracts.investigation import FindingBatch, IncidentView, Indicator, InvestigationRequest

__all__ = [
    "WINDOW_AFTER",
    "WINDOW_BEFORE",
    "InvestigationInputError",
    "Investigator",
    "Specialist",
    "SpecialistDirectory",
    "SpecialistStatus",
    "new_investigation_id",
]

logger = logging.getLogger(__name__)

WINDOW_BEFORE = timedelta(hours=72)
WINDOW_AFTER = timedelta(hours=1)
HISTORY_ROWS = 64  # all the transactions server keeps per account (its recent_history limit)


class InvestigationInputError(ValueError):
    """The request cannot be investigated: unknown alert, nothing to look for."""


@dataclass(frozen=True, slots=True)
class SpecialistStatus:
    """A specialist's progress line (its task's status): working with a note, or how it ended."""

    state: Literal["working", "completed", "failed", "timeout"]
    detail: str = ""


SpecialistEvent = FindingBatch | SpecialistStatus


class Specialist(Protocol):
    name: str

    def investigate(self, request: InvestigationRequest) -> AsyncIterator[SpecialistEvent]:
        """Stream the specialist's findings and progress; end when its task ends; raise when it fails."""
        ...


class SpecialistDirectory(Protocol):
    async def specialists(self) -> Sequence[Specialist]:
        """The specialists to ask now (e.g. discovered from agent cards by skill tags)."""
        ...


def new_investigation_id() -> str:
    return "INV-" + uuid.uuid4().hex[:16]


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Investigator:
    """`deadline_s` bounds a whole investigation; `specialist_deadline_s` (default: the same) each specialist."""

    def __init__(
        self,
        tools: ToolCaller,
        directory: SpecialistDirectory,
        *,
        deadline_s: float = 8.0,
        specialist_deadline_s: float | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.tools = tools
        self.directory = directory
        self.deadline_s = deadline_s
        self.specialist_deadline_s = specialist_deadline_s or deadline_s
        self._clock = clock

    # -- what to investigate -----------------------------------------------------------------------

    async def request_for_alert(
        self, alert_id: str, requested_by: str, investigation_id: str | None = None
    ) -> InvestigationRequest:
        """The alert's account, its customer, the transaction's device and IP; 72 h before to 1 h after."""
        try:
            alert = (await self.tools.call("risk-actions", "get_alert", {"alert_id": alert_id})).get("alert")
        except ToolCallError as exc:
            raise InvestigationInputError(f"cannot read alert {alert_id}: {exc}") from exc
        if not isinstance(alert, dict):
            raise InvestigationInputError(f"unknown alert {alert_id}")
        account = str(alert["debtor_account_id"])
        at = _parse_time(alert.get("created_at")) or self._clock()
        indicators = [Indicator(kind="account", value=account)]
        customer = await self._owner(account)
        if customer:
            indicators.append(Indicator(kind="customer", value=customer))
        row = await self._history_row(account, str(alert.get("tx_id", "")))
        if row is not None:
            at = _parse_time(row.get("ts")) or at
            if row.get("device_id"):
                indicators.append(Indicator(kind="device", value=str(row["device_id"])))
            if row.get("ip"):
                indicators.append(Indicator(kind="ip", value=str(row["ip"])))
        return InvestigationRequest(
            investigation_id=investigation_id or new_investigation_id(),
            alert_id=alert_id,
            indicators=indicators,
            window_start=at - WINDOW_BEFORE,
            window_end=at + WINDOW_AFTER,
            requested_by=requested_by,
        )

    async def _owner(self, account: str) -> str | None:
        try:
            found = await self.tools.call("customer-data", "get_customers_batch",
                                          {"customer_ids": [], "account_ids": [account]})
        except ToolCallError as exc:
            logger.warning("investigation without the customer of %s: %s", account, exc)
            return None
        owner = (found.get("owners") or {}).get(account)
        return str(owner) if owner else None

    async def _history_row(self, account: str, tx_id: str) -> dict[str, Any] | None:
        try:
            history = await self.tools.call("transactions", "recent_history",
                                            {"account_id": account, "limit": HISTORY_ROWS})
        except ToolCallError as exc:
            logger.warning("investigation without device and IP of %s: %s", tx_id, exc)
            return None
        return next((r for r in history.get("transactions") or [] if r.get("tx_id") == tx_id), None)

    # -- fan-out and merge -----------------------------------------------------------------------

    async def run(self, request: InvestigationRequest) -> AsyncIterator[IncidentView]:
        """Yield the incident whenever it changes; the last view is final (complete, partial or failed)."""
        if not request.indicators and not request.alert_id:
            raise InvestigationInputError("nothing to investigate: name an alert or at least one indicator")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.deadline_s
        try:
            async with asyncio.timeout(self.deadline_s):
                specialists = list(await self.directory.specialists())
        except TimeoutError:
            specialists = []
            logger.warning("investigation %s: specialist discovery missed the deadline", request.investigation_id)
        builder = IncidentBuilder(request.investigation_id, alert_id=request.alert_id,
                                  subjects=request.indicators, agents=[s.name for s in specialists])
        if not specialists:
            yield builder.view("failed").model_copy(update={"summary": "failed: no specialist agent was found"})
            return
        yield builder.view()
        queue: asyncio.Queue[tuple[str, SpecialistEvent]] = asyncio.Queue()
        pumps = [asyncio.create_task(self._pump(s, request, queue), name=f"soc-{s.name}") for s in specialists]
        open_agents = {s.name for s in specialists}
        try:
            while open_agents:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    name, event = await asyncio.wait_for(queue.get(), remaining)
                except TimeoutError:
                    break
                if isinstance(event, FindingBatch):
                    builder.add_batch(event, source=name)
                else:
                    builder.set_progress(name, event.state, event.detail)
                    if event.state != "working":
                        open_agents.discard(name)
                yield builder.view()
        finally:
            for pump in pumps:
                pump.cancel()
            for pump in pumps:
                with contextlib.suppress(asyncio.CancelledError):
                    await pump
        for name in sorted(open_agents):
            builder.set_progress(name, "timeout", f"no answer within the deadline of {self.deadline_s:g} s")
        yield builder.view()

    async def _pump(self, specialist: Specialist, request: InvestigationRequest,
                    queue: asyncio.Queue[tuple[str, SpecialistEvent]]) -> None:
        """Forward one specialist's stream; its failure or deadline becomes its final status, never an error."""
        name = specialist.name
        final = SpecialistStatus("completed", "done")
        try:
            async with asyncio.timeout(self.specialist_deadline_s):
                stream = specialist.investigate(request)
                async with contextlib.aclosing(stream):  # type: ignore[type-var]
                    async for event in stream:
                        if isinstance(event, SpecialistStatus) and event.state != "working":
                            final = event
                            break
                        await queue.put((name, event))
        except TimeoutError:
            final = SpecialistStatus("timeout", f"no answer within its deadline of {self.specialist_deadline_s:g} s")
        except Exception as exc:  # top of one specialist's task: any failure is that specialist's, reported
            logger.warning("investigation %s: specialist %s failed: %s", request.investigation_id, name, exc)
            final = SpecialistStatus("failed", str(exc)[:300] or type(exc).__name__)
        await queue.put((name, final))
