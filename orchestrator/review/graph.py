"""The review graph: a held `review` decision waits for the analyst in a LangGraph thread, then acts and labels.

One thread per alert (thread_id = alert_id), checkpointed after every step (SQLite by default, Postgres when
configured), so pending reviews survive a restart of the process:

    hold ▶ await_disposition (interrupt) ▶ act (action agent) ▶ label (LabelSink) ▶ done ▶ END, thread deleted

Exactly once: `resume` holds a per-alert lock, carries the disposition into the thread only while it waits at
the interrupt, and deletes the thread once it reached END, so a second resume finds nothing and returns False.
A crash after the interrupt leaves the thread at `act`/`label`/`done`; `resume` with the same disposition or
`recover` continues it from its last checkpoint. The action agent's `apply_resolutions_batch` is idempotent per
alert, so a retried `act` never doubles an action. The lock is per process: one process owns the review graph
(the desk's); a second one on a shared Postgres relies on that server-side idempotency alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, StateSnapshot, interrupt

from riskmesh.contracts import Alert, Decision
from riskmesh.contracts.gateway import ReviewOutcome, final_decision_for
from riskmesh.contracts.review import (
    RESOLUTION_REQUEST_MEDIA_TYPE,
    LabelRecord,
    Resolution,
    ResolutionRequest,
    ResolutionResponse,
)
from riskmesh.contracts.settings import Settings
from riskmesh.orchestrator.audit import AuditLog
from riskmesh.orchestrator.pipeline import AgentTransport
from riskmesh.orchestrator.review.errors import InvalidRequest, NotFound, ReviewError
from riskmesh.orchestrator.review.labels import label_for

__all__ = [
    "LabelSink",
    "OutcomeSink",
    "RecoveryReport",
    "ResolutionLookup",
    "ResumeFailed",
    "ReviewGraph",
    "ReviewStatus",
    "ReviewTicket",
    "Stage",
    "checkpoint_target",
    "open_checkpointer",
]

log = logging.getLogger("riskmesh.review.graph")

Stage = Literal["opening", "waiting", "acting", "labelling", "closing", "finished"]
ResolutionLookup = Callable[[str], Awaitable[Resolution | None] | Resolution | None]
"""The final disposition the desk recorded for an alert id, or None (sync or async)."""

_NEXT_STAGE: dict[str, Stage] = {"__start__": "opening", "hold": "opening", "await_disposition": "opening",
                                 "act": "acting", "label": "labelling", "done": "closing"}


class ResumeFailed(ReviewError):
    """The disposition is recorded in the thread but acting or labelling failed; a retry is safe."""

    code = "resume_failed"


class LabelSink(Protocol):
    """Where dispositions go as training labels (`riskmesh.labels` in production). Returns once acknowledged."""

    async def publish(self, labels: Sequence[LabelRecord]) -> None: ...


class OutcomeSink(Protocol):
    """Where carried-out dispositions are announced (`riskmesh.review-outcomes`: the risk gateway completes the
    callers' Tasks with them). Returns once acknowledged; a re-run of `done` publishes the same content again."""

    async def publish(self, outcomes: Sequence[ReviewOutcome]) -> None: ...


@dataclass(frozen=True, slots=True)
class ReviewTicket:
    """What the review graph needs to hold a review: from a `review` Decision or from the Alert."""

    alert_id: str
    tx_id: str
    risk_score: float
    decided_at: datetime | None = None
    debtor_account_id: str | None = None
    """Not in the Decision; the desk's Resolution carries it in any case."""
    reason_codes: tuple[str, ...] = ()
    policy_version: str = ""

    @classmethod
    def from_decision(cls, decision: Decision) -> ReviewTicket | None:
        if decision.decision != "review" or not decision.alert_id:
            return None
        return cls(decision.alert_id, decision.tx_id, decision.risk_score, decision.decided_at,
                   reason_codes=tuple(r.code for r in decision.reasons), policy_version=decision.policy_version)

    @classmethod
    def from_alert(cls, alert: Alert) -> ReviewTicket:
        return cls(alert.alert_id, alert.tx_id, alert.risk_score, alert.created_at, alert.debtor_account_id,
                   tuple(r.code for r in alert.reasons), alert.policy_version)

    def as_state(self) -> dict[str, Any]:
        return {"alert_id": self.alert_id, "tx_id": self.tx_id, "risk_score": self.risk_score,
                "decided_at": _iso(self.decided_at) if self.decided_at else None,
                "debtor_account_id": self.debtor_account_id, "reason_codes": list(self.reason_codes),
                "policy_version": self.policy_version}


@dataclass(frozen=True, slots=True)
class ReviewStatus:
    alert_id: str
    stage: Stage
    review: dict[str, Any]
    resolution: dict[str, Any] | None = None
    outcome: dict[str, Any] | None = None


@dataclass
class RecoveryReport:
    resumed: list[str] = field(default_factory=list)
    """Waiting threads whose alert already had a final disposition recorded."""
    continued: list[str] = field(default_factory=list)
    """Threads interrupted by a crash after their disposition (act, label or done re-run)."""
    cleaned: list[str] = field(default_factory=list)
    """Finished threads that had not been deleted yet."""
    waiting: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class ReviewState(TypedDict, total=False):
    """JSON-only values: the checkpoint must read back in any process and any backend."""

    review: dict[str, Any]
    resolution: dict[str, Any]
    outcome: dict[str, Any]
    labelled: bool
    finished_at: str


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _stage(state: StateSnapshot) -> Stage | None:
    if not state.next:
        return "finished" if state.values else None
    if state.interrupts:
        return "waiting"
    return _NEXT_STAGE.get(state.next[0], "opening")


class ReviewGraph:
    """Holds reviews until their disposition, then acts once and publishes the label. Implements `Resumer`."""

    def __init__(
        self,
        checkpointer: BaseCheckpointSaver,
        transport: AgentTransport,
        labels: LabelSink,
        *,
        resolutions: ResolutionLookup | None = None,
        deadline_s: float = 10.0,
        concurrency: int = 16,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        audit: AuditLog | None = None,
        outcomes: OutcomeSink | None = None,
    ) -> None:
        self._audit = audit
        self._outcomes = outcomes
        self._saver = checkpointer
        self._transport = transport
        self._labels = labels
        self._resolutions = resolutions
        self._deadline_s = deadline_s
        self._concurrency = asyncio.Semaphore(concurrency)
        self._clock = clock
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        builder = StateGraph(ReviewState)
        builder.add_node("hold", self._hold)
        builder.add_node("await_disposition", self._await_disposition)
        builder.add_node("act", self._act)
        builder.add_node("label", self._label)
        builder.add_node("done", self._done)
        builder.add_edge(START, "hold")
        builder.add_edge("hold", "await_disposition")
        builder.add_edge("await_disposition", "act")
        builder.add_edge("act", "label")
        builder.add_edge("label", "done")
        builder.add_edge("done", END)
        self.graph = builder.compile(checkpointer=checkpointer)

    # --- nodes -------------------------------------------------------------------------------------------

    def _hold(self, state: ReviewState) -> ReviewState:
        review = dict(state["review"])
        review["opened_at"] = _iso(self._clock())
        log.info("review %s held for tx %s (risk %.3f)", review["alert_id"], review["tx_id"], review["risk_score"])
        return {"review": review}

    def _await_disposition(self, state: ReviewState) -> ReviewState:
        # Alone in its node: on resume the node re-runs from its first line and interrupt() returns the value.
        value = interrupt({**state["review"], "waiting_for": "final disposition (release | block | freeze)"})
        resolution = Resolution.model_validate(value)
        return {"resolution": resolution.model_dump(mode="json")}

    async def _act(self, state: ReviewState) -> ReviewState:
        resolution = Resolution.model_validate(state["resolution"])
        request = ResolutionRequest(request_id=f"review:{resolution.alert_id}", resolutions=[resolution])
        raw = await self._transport.call("action", request.model_dump_json().encode(),
                                         RESOLUTION_REQUEST_MEDIA_TYPE, self._deadline_s)
        response = ResolutionResponse.model_validate_json(raw)
        outcome = next((o for o in response.outcomes if o.alert_id == resolution.alert_id), None)
        if outcome is None or outcome.status != "ok":
            detail = outcome.detail if outcome else "no outcome for this alert in the response"
            raise ResumeFailed(f"the action agent did not carry out {resolution.disposition} of alert "
                               f"{resolution.alert_id}: {detail}")
        log.info("review %s: %s carried out (%s)", resolution.alert_id, resolution.disposition,
                 ", ".join(outcome.actions) or "no action needed")
        return {"outcome": outcome.model_dump(mode="json")}

    async def _label(self, state: ReviewState) -> ReviewState:
        await self._labels.publish([label_for(Resolution.model_validate(state["resolution"]))])
        return {"labelled": True}

    async def _done(self, state: ReviewState) -> ReviewState:
        if self._outcomes is not None:  # first: a failure below re-runs this node and republishes the same outcome
            await self._outcomes.publish([_review_outcome(state)])
        if self._audit is not None:  # the actions and control changes the disposition caused, in the audit trail
            resolution, outcome = state["resolution"], state.get("outcome") or {}
            details = {"tx_id": resolution["tx_id"], "disposition": resolution["disposition"],
                       "decided_by": resolution["decided_by"], "approved_by": resolution.get("approved_by"),
                       "actions": outcome.get("actions", []), "controls": outcome.get("controls", [])}
            await asyncio.to_thread(self._audit.append, "agent:action", "review.actions_taken",
                                    f"alert:{resolution['alert_id']}", details)
        return {"finished_at": _iso(self._clock())}

    # --- public API --------------------------------------------------------------------------------------

    async def open_many(self, reviews: Iterable[ReviewTicket]) -> int:
        """Start a thread per new alert and run it to its interrupt; existing alert ids are left alone.

        Returns how many threads were opened. Safe to repeat (the decision stream is at-least-once). When the
        desk already recorded a final disposition for an alert (decided before its review was opened), the
        new thread is resumed with it at once.
        """
        unique = {r.alert_id: r for r in reviews}
        results = await asyncio.gather(*(self._open(r) for r in unique.values()), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise errors[0]
        return sum(1 for r in results if r is True)

    async def resume(self, resolution: Resolution) -> bool:
        """Carry the final disposition into the waiting review: act and label once, then delete the thread.

        False when there is no such review (unknown, or already resumed and finished). Raises `InvalidRequest`
        when the resolution names another transaction, `ResumeFailed` when acting or labelling failed: the
        thread keeps the disposition and a retry (this method or `recover`) completes it without repeating
        actions.
        """
        alert_id = resolution.alert_id
        async with self._lock(alert_id):
            config = self._config(alert_id)
            state = await self.graph.aget_state(config)
            stage = _stage(state)
            if stage is None:
                log.info("review %s: no pending review to resume", alert_id)
                return False
            if stage == "finished":
                await self._saver.adelete_thread(alert_id)
                return False
            tx_id = state.values.get("review", {}).get("tx_id")
            if tx_id and tx_id != resolution.tx_id:
                raise InvalidRequest(f"alert {alert_id} holds tx {tx_id}, not {resolution.tx_id}")
            if stage == "opening":
                await self._run(None, alert_id)
                stage = _stage(await self.graph.aget_state(config))
            if stage == "waiting":
                await self._run(Command(resume=resolution.model_dump(mode="json")), alert_id)
            else:
                carried = state.values.get("resolution") or {}
                if carried.get("disposition") != resolution.disposition:
                    log.warning("review %s already carries %s; %s ignored", alert_id, carried.get("disposition"),
                                resolution.disposition)
                    return False
                log.warning("review %s: completing an interrupted resume (%s from %s)", alert_id,
                            resolution.disposition, stage)
                await self._run(None, alert_id)
            return await self._cleanup_if_finished(alert_id)

    async def pending(self) -> list[str]:
        """Alert ids whose review still waits for a disposition, sorted."""
        out = []
        for alert_id in await self._thread_ids():
            stage = _stage(await self.graph.aget_state(self._config(alert_id)))
            if stage == "opening" or stage == "waiting":
                out.append(alert_id)
        return sorted(out)

    async def status(self, alert_id: str) -> ReviewStatus | None:
        """Where the alert's review is; None when there is none (never opened, or finished and deleted)."""
        state = await self.graph.aget_state(self._config(alert_id))
        stage = _stage(state)
        if stage is None:
            return None
        values = state.values
        return ReviewStatus(alert_id, stage, dict(values.get("review", {})), values.get("resolution"),
                            values.get("outcome"))

    async def recover(self, lookup: ResolutionLookup | None = None) -> RecoveryReport:
        """After a restart (and as a periodic sweep): finish what a crash interrupted.

        Waiting threads whose alert has a final disposition recorded (`lookup`, default the constructor's
        `resolutions`; `NotFound` counts as undecided) are resumed; threads stopped after their disposition are
        continued; finished threads are deleted. An alert that fails to act is listed in `failed` and left for
        the next sweep; a lookup that fails otherwise (its store is down) stops the sweep with its error.
        """
        lookup = lookup or self._resolutions
        report = RecoveryReport()
        for alert_id in await self._thread_ids():
            state = await self.graph.aget_state(self._config(alert_id))
            stage = _stage(state)
            try:
                if stage == "finished":
                    await self._saver.adelete_thread(alert_id)
                    report.cleaned.append(alert_id)
                elif stage in ("acting", "labelling", "closing"):
                    resolution = Resolution.model_validate(state.values["resolution"])
                    if await self.resume(resolution):
                        report.continued.append(alert_id)
                elif stage in ("opening", "waiting"):
                    recorded = await _call(lookup, alert_id) if lookup else None
                    if recorded is not None and await self.resume(recorded):
                        report.resumed.append(alert_id)
                    else:
                        report.waiting.append(alert_id)
            except ReviewError:
                report.failed.append(alert_id)  # logged by _run; the thread stays for the next attempt
        log.warning("review recovery: %d resumed, %d continued, %d cleaned, %d waiting, %d failed",
                    len(report.resumed), len(report.continued), len(report.cleaned), len(report.waiting),
                    len(report.failed))
        return report

    # --- internals ---------------------------------------------------------------------------------------

    @staticmethod
    def _config(alert_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": alert_id}}

    def _lock(self, alert_id: str) -> asyncio.Lock:
        lock = self._locks.get(alert_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[alert_id] = lock
        return lock

    async def _open(self, ticket: ReviewTicket) -> bool:
        async with self._concurrency:
            async with self._lock(ticket.alert_id):
                config = self._config(ticket.alert_id)
                stage = _stage(await self.graph.aget_state(config))
                if stage == "opening":  # a crash before the interrupt was recorded: run on to it
                    await self._run(None, ticket.alert_id)
                if stage is not None:
                    return False
                await self._run({"review": ticket.as_state()}, ticket.alert_id)
            recorded = await _call(self._resolutions, ticket.alert_id) if self._resolutions else None
            if recorded is not None:
                log.warning("review %s was decided before it was opened: resuming with %s", ticket.alert_id,
                            recorded.disposition)
                with contextlib.suppress(ResumeFailed):  # logged; the thread is open and `recover` retries it
                    await self.resume(recorded)
            return True

    async def _run(self, payload: Any, alert_id: str) -> None:
        """One graph run to the next interrupt or END, checkpointed synchronously after every step."""
        try:
            await self.graph.ainvoke(payload, self._config(alert_id), durability="sync")
        except ReviewError as exc:
            log.error("review %s: %s; the thread stays resumable", alert_id, exc)
            raise
        except Exception as exc:  # boundary: the action agent, the label sink or storage failed
            log.exception("review %s: run failed; the thread stays resumable and a retry repeats no action",
                          alert_id)
            raise ResumeFailed(f"alert {alert_id}: {type(exc).__name__}: {exc}") from exc

    async def _cleanup_if_finished(self, alert_id: str) -> bool:
        if _stage(await self.graph.aget_state(self._config(alert_id))) != "finished":
            return False
        await self._saver.adelete_thread(alert_id)
        log.info("review %s finished; thread deleted", alert_id)
        return True

    async def _thread_ids(self) -> list[str]:
        if isinstance(self._saver, AsyncSqliteSaver):  # one query instead of reading every checkpoint
            await self._saver.setup()
            async with self._saver.lock, self._saver.conn.execute(
                    "SELECT DISTINCT thread_id FROM checkpoints WHERE checkpoint_ns = ''") as cursor:
                return sorted([str(row[0]) async for row in cursor])
        seen = {t.config["configurable"]["thread_id"] async for t in self._saver.alist(None)}
        return sorted(seen)


def _review_outcome(state: ReviewState) -> ReviewOutcome:
    resolution = Resolution.model_validate(state["resolution"])
    outcome = state.get("outcome") or {}
    return ReviewOutcome(alert_id=resolution.alert_id, tx_id=resolution.tx_id, disposition=resolution.disposition,
                         final_decision=final_decision_for(resolution.disposition), decided_by=resolution.decided_by,
                         approved_by=resolution.approved_by, actions=list(outcome.get("actions", [])),
                         decided_at=resolution.decided_at)


async def _call(lookup: ResolutionLookup, alert_id: str) -> Resolution | None:
    """The recorded resolution; an alert the desk does not know (yet) has none."""
    try:
        found = lookup(alert_id)
        return await found if inspect.isawaitable(found) else found
    except NotFound:
        return None


def checkpoint_target(settings: Settings) -> str:
    """`review_checkpoint_url` when set (postgres://…), else the SQLite file under the data dir."""
    return settings.review_checkpoint_url or str(settings.data_dir / "review" / "checkpoints.sqlite")


@asynccontextmanager
async def open_checkpointer(target: str | Path) -> AsyncIterator[BaseCheckpointSaver]:
    """A durable checkpointer, tables created: Postgres for postgres:// URLs, else SQLite (WAL) at the path."""
    text = str(target)
    if text.startswith(("postgres://", "postgresql://")):
        try:
            from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        except ImportError as exc:
            raise ImportError("a postgres:// review checkpoint URL needs the Postgres checkpointer: "
                              "pip install langgraph-checkpoint-postgres 'psycopg[binary,pool]'") from exc
        async with AsyncPostgresSaver.from_conn_string(text) as saver:
            await saver.setup()
            yield saver
        return
    import aiosqlite

    path = Path(text.removeprefix("sqlite:///").removeprefix("sqlite://"))
    path.parent.mkdir(parents=True, exist_ok=True)
    async with aiosqlite.connect(path) as conn:
        saver = AsyncSqliteSaver(conn)
        await saver.setup()  # also PRAGMA journal_mode=WAL
        yield saver
