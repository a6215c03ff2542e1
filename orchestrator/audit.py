"""Append-only, hash-chained audit trail: the `AuditLog` port, memory and Redis backends, `riskmesh audit`.

Stored form is the event's JSON, one per entry (a Python list, or a Redis LIST under one key), so
`verify` hashes exactly the bytes that were stored. See docs/decisions/0003-hash-chained-audit-trail.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import redis
import typer
from pydantic import ValidationError

from riskmesh.contracts import Decision
from riskmesh.contracts.audit import GENESIS_HASH, AuditEvent, compute_hash, seal

__all__ = [
    "AuditLog",
    "DecisionAuditTrail",
    "MemoryAuditLog",
    "RedisAuditLog",
    "VerifyResult",
    "audit_app",
    "decision_digest",
    "decisions_entry",
    "verify_raw",
]

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""


class AuditLog(Protocol):
    def append(self, actor: str, action: str, subject: str, details: dict[str, Any] | None = None) -> AuditEvent:
        """Chain a new event onto the log atomically and return it."""
        ...

    def append_many(self, entries: list[AuditEntry]) -> list[AuditEvent]:
        """Chain several events at once (one round trip), in order."""
        ...

    def events(self, start_seq: int = 1) -> Iterator[AuditEvent]: ...

    def events_for(self, subject: str, limit: int = 100) -> list[AuditEvent]:
        """The newest `limit` events about `subject`, oldest first."""
        ...

    def recent(self, limit: int = 100) -> list[AuditEvent]:
        """The newest `limit` events, newest first."""
        ...

    def verify(self) -> VerifyResult: ...

    def export(self, path: str | Path) -> int:
        """Write the stored events as JSONL to `path`; return how many."""
        ...


AuditEntry = tuple[str, str, str, dict[str, Any] | None]
"""(actor, action, subject, details) of an event to append."""

_UNINDEXED_ACTIONS = frozenset({"decision.made", "decisions.made"})
"""At stream rate (one per transaction before, one per batch now): not given a per-subject index key."""

Prepare = Callable[[Any], tuple[list[AuditEntry], Callable[[Any], None] | None]]
"""RedisAuditLog.transact's callback: pipeline ▶ (entries to append, function queueing the caller's writes)."""


def _chain(last_raw: str | bytes | None, entries: list[AuditEntry], clock: Clock) -> tuple[list[AuditEvent], list[str]]:
    """The events that follow `last_raw` (None for an empty log) and their stored JSON, in order.

    Only the tail is parsed; each next link comes from the event just built, not from re-reading its JSON.
    """
    if last_raw is None:
        seq, prev = 0, GENESIS_HASH
    else:
        last = json.loads(last_raw)
        seq, prev = int(last["seq"]), str(last["hash"])
    events, raws = [], []
    for actor, action, subject, details in entries:
        seq += 1
        event, raw = _next_event(seq, prev, actor, action, subject, details, clock)
        events.append(event)
        raws.append(raw)
        prev = event.hash
    return events, raws


def _now() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)  # what the JSON form keeps


def _next_event(seq: int, prev: str, actor: str, action: str, subject: str,
                details: dict[str, Any] | None, clock: Clock) -> tuple[AuditEvent, str]:
    """Event `seq`, chained onto the hash `prev`, and its stored JSON.

    The model validates the caller's fields and gives their JSON form, so the hash is `expected_hash()`
    by construction; `seal` encodes that form once for both the hash and the stored text.
    """
    draft = AuditEvent(seq=seq, event_id=uuid.uuid4().hex, at=clock(), actor=actor, action=action,
                       subject=subject, details=details or {}, prev_hash=prev, hash=GENESIS_HASH)
    digest, raw = seal(draft.model_dump(mode="json"))
    return draft.model_copy(update={"hash": digest}), raw


def verify_raw(raws: list[str | bytes]) -> VerifyResult:
    """Recompute every hash and link of the stored events; name the first bad one and why."""
    seqs_present: set[int] = set()
    for raw in raws:
        try:
            seqs_present.add(int(json.loads(raw)["seq"]))
        except (ValueError, KeyError, TypeError):
            continue
    prev = GENESIS_HASH
    for position, raw in enumerate(raws, start=1):
        try:
            fields = json.loads(raw)
            event = AuditEvent.model_validate(fields)
        except (ValueError, ValidationError) as exc:
            return VerifyResult(False, position - 1, position, f"unreadable event at position {position}: {exc}")
        if compute_hash(fields) != event.hash:
            return VerifyResult(False, position - 1, event.seq, "hash mismatch")
        if event.seq != position:
            if position in seqs_present:
                return VerifyResult(False, position - 1, event.seq,
                                    f"broken link: seq {event.seq} stored where seq {position} belongs")
            return VerifyResult(False, position - 1, event.seq,
                                f"gap in sequence: expected seq {position}, found {event.seq}")
        if event.prev_hash != prev:
            return VerifyResult(False, position - 1, event.seq, "broken link: prev_hash is not the previous hash")
        prev = event.hash
    return VerifyResult(True, len(raws))


def _parse(raws: list[str | bytes], start_seq: int) -> Iterator[AuditEvent]:
    for raw in raws[max(start_seq - 1, 0):]:
        yield AuditEvent.model_validate_json(raw)


def _write_jsonl(raws: list[str | bytes], path: str | Path) -> int:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for raw in raws:
            out.write((raw.decode() if isinstance(raw, bytes) else raw) + "\n")
    tmp.replace(target)
    return len(raws)


class MemoryAuditLog:
    """In-process backend for tests and single-process tools; a lock keeps the chain from forking."""

    def __init__(self, clock: Clock = _now) -> None:
        self._raw: list[str] = []
        self._lock = threading.Lock()
        self._clock = clock

    def append(self, actor: str, action: str, subject: str, details: dict[str, Any] | None = None) -> AuditEvent:
        return self.append_many([(actor, action, subject, details)])[0]

    def append_many(self, entries: list[AuditEntry]) -> list[AuditEvent]:
        with self._lock:
            events, raws = _chain(self._raw[-1] if self._raw else None, entries, self._clock)
            self._raw.extend(raws)
        return events

    def transact(self, entries: list[AuditEntry], apply: Callable[[], None]) -> list[AuditEvent]:
        """Run `apply` (the caller's state change) and chain `entries` under one lock: both or neither."""
        with self._lock:
            events, raws = _chain(self._raw[-1] if self._raw else None, entries, self._clock)
            apply()
            self._raw.extend(raws)
        return events

    def events(self, start_seq: int = 1) -> Iterator[AuditEvent]:
        return _parse(list(self._raw), start_seq)

    def events_for(self, subject: str, limit: int = 100) -> list[AuditEvent]:
        found = [e for e in _parse(list(self._raw), 1) if e.subject == subject and e.action not in _UNINDEXED_ACTIONS]
        return found[-limit:]

    def recent(self, limit: int = 100) -> list[AuditEvent]:
        return list(reversed(list(_parse(list[str | bytes](self._raw[-limit:]), 1))))

    def verify(self) -> VerifyResult:
        return verify_raw(list(self._raw))

    def export(self, path: str | Path) -> int:
        return _write_jsonl(list(self._raw), path)


class RedisAuditLog:
    """Events as JSON in one Redis LIST. Appends use WATCH/MULTI: a concurrent append makes EXEC fail and we retry
    on the new tail, so two writers can never chain onto the same previous event."""

    def __init__(self, client: redis.Redis, key: str = "riskmesh:audit", clock: Clock = _now,
                 max_retries: int = 1000) -> None:
        self._r = client
        self._key = key
        self._clock = clock
        self._max_retries = max_retries

    @classmethod
    def from_url(cls, url: str, key: str = "riskmesh:audit") -> RedisAuditLog:
        return cls(redis.Redis.from_url(url), key)

    def append(self, actor: str, action: str, subject: str, details: dict[str, Any] | None = None) -> AuditEvent:
        return self.append_many([(actor, action, subject, details)])[0]

    def append_many(self, entries: list[AuditEntry]) -> list[AuditEvent]:
        if not entries:
            return []
        return self.transact([], lambda _pipe: (entries, None))

    def transact(self, watch: list[str], prepare: Prepare) -> list[AuditEvent]:
        """Change the caller's keys and chain audit events in one MULTI/EXEC: both happen or neither.

        `prepare(pipe)` runs with `watch` and the log WATCHed, reads what it needs (immediate mode), may raise
        to abort, and returns the entries to append and a function queueing its writes on the pipeline.
        Any concurrent change to a watched key retries the whole step on fresh data.
        """
        with self._r.pipeline() as pipe:
            for _ in range(self._max_retries):
                try:
                    pipe.watch(self._key, *watch)
                    entries, write = prepare(pipe)
                    events, raws = _chain(pipe.lindex(self._key, -1), entries, self._clock)  # type: ignore[arg-type]
                    pipe.multi()
                    if write is not None:
                        write(pipe)
                    if raws:
                        pipe.rpush(self._key, *raws)
                    for event in events:
                        if event.action not in _UNINDEXED_ACTIONS:
                            pipe.rpush(self._index_key(event.subject), event.seq)
                    pipe.execute()
                    return events
                except redis.WatchError:
                    continue
        raise RuntimeError(f"audit append to {self._key} lost the race {self._max_retries} times")

    def _index_key(self, subject: str) -> str:
        return f"{self._key}:subject:{subject}"

    def _all(self) -> list[str | bytes]:
        return list(self._r.lrange(self._key, 0, -1))

    def events(self, start_seq: int = 1) -> Iterator[AuditEvent]:
        for raw in self._r.lrange(self._key, max(start_seq - 1, 0), -1):
            yield AuditEvent.model_validate_json(raw)

    def events_for(self, subject: str, limit: int = 100) -> list[AuditEvent]:
        seqs = self._r.lrange(self._index_key(subject), -limit, -1)
        if not seqs:
            return []
        pipe = self._r.pipeline(transaction=False)
        for seq in seqs:  # type: ignore[union-attr]
            pipe.lindex(self._key, int(seq) - 1)
        return [AuditEvent.model_validate_json(raw) for raw in pipe.execute() if raw is not None]

    def recent(self, limit: int = 100) -> list[AuditEvent]:
        raws = self._r.lrange(self._key, -limit, -1)
        return [AuditEvent.model_validate_json(raw) for raw in reversed(raws)]  # type: ignore[arg-type]

    def verify(self) -> VerifyResult:
        return verify_raw(self._all())

    def export(self, path: str | Path) -> int:
        return _write_jsonl(self._all(), path)


audit_app = typer.Typer(help="Check and export the hash-chained audit trail.", no_args_is_help=True)


def _resolve_redis_url(redis_url: str | None) -> str:
    if redis_url:
        return redis_url
    from riskmesh.contracts.settings import Settings
    from riskmesh.orchestrator.topology import StackInfo

    settings = Settings()
    if settings.redis_url:
        return settings.redis_url
    stack_file = settings.run_dir / "stack.json"
    if not stack_file.exists():
        typer.echo(f"no --redis-url, no REDIS_URL and no {stack_file}; start the stack or pass --redis-url", err=True)
        raise typer.Exit(2)
    return StackInfo.read(stack_file).redis


_REDIS_URL_OPTION = typer.Option(None, "--redis-url", help="default: REDIS_URL, else the running stack's Redis")


@audit_app.command("verify")
def verify_command(redis_url: str | None = _REDIS_URL_OPTION,
                   key: str = typer.Option("riskmesh:audit", help="Redis LIST holding the events")) -> None:
    """Recompute every hash and link; print {ok, checked, first_bad_seq, reason}; exit 1 when broken."""
    result = RedisAuditLog.from_url(_resolve_redis_url(redis_url), key).verify()
    typer.echo(json.dumps(asdict(result)))
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("export")
def export_command(out: Path = typer.Option(..., "--out", help="JSONL file to write"),
                   redis_url: str | None = _REDIS_URL_OPTION,
                   key: str = typer.Option("riskmesh:audit", help="Redis LIST holding the events")) -> None:
    """Write every stored event, verbatim, one JSON object per line."""
    count = RedisAuditLog.from_url(_resolve_redis_url(redis_url), key).export(out)
    typer.echo(json.dumps({"exported": count, "out": str(out)}))


class DecisionAuditTrail:
    """The supervisor's audit port: one `decisions.made` event per batch of new decisions.

    The event lists every decision of the batch as `[tx_id, decision, sha256 of the Decision JSON]`, the JSON
    exactly as stored and emitted, plus the batch's policy and model versions and its outcome counts. The
    decision itself (verdicts, reasons, actions) is bound to the chain by its digest: changing a stored or
    emitted decision afterwards no longer matches (`decision_digest`). One event per batch instead of one per
    decision keeps the chain's cost and size off the stream's critical path (~1 µs and ~90 bytes a decision
    against ~25 µs and ~400 bytes; docs/decisions/0003).
    """

    def __init__(self, log: AuditLog, actor: str) -> None:
        self.log = log
        self.actor = actor

    async def decisions_made(self, decisions: list[Decision], stored: Mapping[str, bytes],
                             batch_id: str) -> None:
        if decisions:
            await asyncio.to_thread(self.log.append_many, [decisions_entry(self.actor, batch_id, decisions, stored)])


def decision_digest(decision_json: bytes) -> str:
    """What a `decisions.made` event records of one decision: SHA-256 (hex) of its JSON as stored."""
    return hashlib.sha256(decision_json).hexdigest()


def decisions_entry(actor: str, batch_id: str, decisions: list[Decision], stored: Mapping[str, bytes]) -> AuditEntry:
    """The `decisions.made` event of one batch (see DecisionAuditTrail)."""
    policies = sorted({d.policy_version for d in decisions})
    models: dict[str, set[str]] = {}
    outcomes: dict[str, int] = {}
    for d in decisions:
        outcomes[d.decision] = outcomes.get(d.decision, 0) + 1
        for agent, verdict in d.verdicts.items():
            if verdict.model_version:
                models.setdefault(agent, set()).add(verdict.model_version)
    details = {
        "count": len(decisions),
        "outcomes": dict(sorted(outcomes.items())),
        "policy_versions": policies,
        "model_versions": {agent: sorted(v) for agent, v in sorted(models.items())},
        "decisions": [[d.tx_id, d.decision, decision_digest(stored[d.tx_id])] for d in decisions],
    }
    return actor, "decisions.made", f"batch:{batch_id}", details
