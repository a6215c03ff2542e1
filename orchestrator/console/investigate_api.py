"""The console's SOC trigger: start an investigation from an alert and relay its incident view as it streams.

    POST /api/alerts/{alert_id}/investigate       ▶ 202 {"investigation": snapshot}; audited `investigation.started`
    GET  /api/investigations/{id}                 ▶ {"investigation": snapshot}
    GET  /api/investigations/{id}/events          ▶ SSE: `incident` (the whole IncidentView, replacing the last),
                                                    `progress` (per-agent status line), `end` (final state)

Permission `investigation.start` (analyst, supervisor, soc_engineer), checked before the desk, which checks the
caller may read the alert. The investigation runs over A2A against the soc-investigator (one long-lived
streaming client); `Investigations` keeps the latest state of the last `max_kept` investigations in this
process (a console replica sees the investigations it started).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from riskmesh.a2a.soc_client import TaskStreamClient, raw_part
from riskmesh.contracts.investigation import INCIDENT_MEDIA_TYPE
from riskmesh.orchestrator.console.auth import Principal
from riskmesh.orchestrator.review.errors import NotFound
from riskmesh.orchestrator.review.ports import Actor, ReviewDesk

__all__ = ["Investigation", "Investigations", "investigate_routes"]

logger = logging.getLogger("riskmesh.console.investigate")


@dataclass
class Investigation:
    investigation_id: str
    alert_id: str
    started_by: str
    state: str = "submitted"
    text: str = ""
    incident: dict[str, Any] | None = None
    version: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def done(self) -> bool:
        return self.state in ("completed", "failed", "canceled", "rejected", "error")

    def snapshot(self) -> dict[str, Any]:
        return {"investigation_id": self.investigation_id, "alert_id": self.alert_id, "started_by": self.started_by,
                "state": self.state, "text": self.text, "incident": self.incident, "version": self.version}

    def bump(self) -> None:
        self.version += 1
        self.changed.set()
        self.changed = asyncio.Event()  # waiters of the next change wait on a fresh event


class Investigations:
    """Runs investigations against the soc-investigator and keeps their latest state for the relay."""

    def __init__(self, client: TaskStreamClient, *, max_kept: int = 100, timeout_s: float = 60.0) -> None:
        self.client = client
        self.max_kept = max_kept
        self.timeout_s = timeout_s
        self._runs: OrderedDict[str, Investigation] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    def over_http(cls, investigator_url: str, token: str) -> Investigations:
        return cls(TaskStreamClient(investigator_url, token))

    def get(self, investigation_id: str) -> Investigation | None:
        return self._runs.get(investigation_id)

    def start(self, alert_id: str, actor: str) -> Investigation:
        run = Investigation("INV-" + uuid.uuid4().hex[:16], alert_id, actor)
        self._runs[run.investigation_id] = run
        while len(self._runs) > self.max_kept:
            self._runs.popitem(last=False)
        task = asyncio.create_task(self._follow(run), name=f"investigation-{run.investigation_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return run

    async def _follow(self, run: Investigation) -> None:
        body = json.dumps({"alert_id": run.alert_id, "requested_by": run.started_by,
                           "investigation_id": run.investigation_id}).encode()
        try:
            async with asyncio.timeout(self.timeout_s):
                async for event in self.client.stream([raw_part(body, "application/json")]):
                    run.state, run.text = event.state, event.text or run.text
                    for chunk in event.artifacts:
                        if chunk.media_type == INCIDENT_MEDIA_TYPE:
                            run.incident = json.loads(chunk.body)
                    run.bump()
        except Exception as exc:  # top of a background task: the browser sees the failure, the log the cause
            logger.exception("investigation %s of %s failed", run.investigation_id, run.alert_id)
            run.state, run.text = "error", f"the investigation could not run: {type(exc).__name__}: {exc}"[:500]
        if not run.done:
            run.state = "error"
            run.text = run.text or "the investigator's stream ended early"
        run.bump()

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.client.aclose()


class ConsoleRequests(Protocol):
    """What the handlers need of the console (app._Console)."""

    desk: ReviewDesk

    async def principal(self, request: Request, permission: str | None = None) -> Principal: ...

    async def record(self, actor: str, action: str, subject: str, details: dict[str, Any] | None = None) -> None: ...


class InvestigateApi:
    def __init__(self, console: ConsoleRequests, investigations: Investigations, heartbeat_s: float = 15.0,
                 max_stream_s: float = 300.0) -> None:
        self.console = console
        self.investigations = investigations
        self.heartbeat_s = heartbeat_s
        self.max_stream_s = max_stream_s

    async def start(self, request: Request) -> Response:
        principal = await self.console.principal(request, "investigation.start")
        alert_id = request.path_params["alert_id"]
        await self.console.desk.detail(Actor(principal.username, principal.role), alert_id)  # may this role read it
        run = self.investigations.start(alert_id, principal.username)
        await self.console.record(principal.username, "investigation.started", f"alert:{alert_id}",
                                  {"investigation_id": run.investigation_id})
        return JSONResponse({"investigation": run.snapshot()}, status_code=202)

    def _run(self, request: Request) -> Investigation:
        run = self.investigations.get(request.path_params["investigation_id"])
        if run is None:
            raise NotFound("no such investigation in this console (finished long ago, or started elsewhere)")
        return run

    async def show(self, request: Request) -> Response:
        await self.console.principal(request, "investigation.start")
        return JSONResponse({"investigation": self._run(request).snapshot()})

    async def events(self, request: Request) -> Response:
        await self.console.principal(request, "investigation.start")
        run = self._run(request)
        return StreamingResponse(self._stream(run), media_type="text/event-stream",
                                 headers={"cache-control": "no-store", "x-accel-buffering": "no"})

    async def _stream(self, run: Investigation) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        deadline, sent = loop.time() + self.max_stream_s, -1
        yield "retry: 2000\n\n"
        while loop.time() < deadline:
            changed = run.changed  # taken before the check: a change after it still wakes us
            if run.version != sent:
                sent = run.version
                if run.incident is not None:
                    yield f"event: incident\nid: {sent}\ndata: {json.dumps(run.incident)}\n\n"
                yield f"event: progress\ndata: {json.dumps({'state': run.state, 'text': run.text})}\n\n"
                if run.done:
                    yield f"event: end\ndata: {json.dumps({'state': run.state, 'text': run.text})}\n\n"
                    return
            try:
                await asyncio.wait_for(changed.wait(), self.heartbeat_s)
            except TimeoutError:
                yield ": keep-alive\n\n"


def investigate_routes(console: ConsoleRequests, investigations: Investigations) -> list[Route]:
    """Register before the console's generic POST /api/alerts/{id}/{action}."""
    api = InvestigateApi(console, investigations)
    return [
        Route("/api/alerts/{alert_id}/investigate", api.start, methods=["POST"]),
        Route("/api/investigations/{investigation_id}", api.show),
        Route("/api/investigations/{investigation_id}/events", api.events),
    ]
