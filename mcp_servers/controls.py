"""Graded account controls: the ladder, the port risk-actions needs, in memory and in Redis.

Ladder per debtor account (docs/controls.md): level 1 hold (per transaction, delayed settlement),
2 limit (reduced daily limit), 3 suspend remote channels (online_banking, mobile, api), 4 freeze.
Every `block` or `review` decision, and every block or freeze resolution, is one *hit*. Hits are
counted over a sliding window (default 30 days); reaching `limit_at` hits applies `limit`, reaching
`suspend_at` applies `suspend_remote`. Scores never freeze: `freeze` comes from an analyst's
four-eyes resolution or a hard rule. A frozen account still counts hits but escalates no further.

Lifting an account control is itself reviewed: `request_lift` records who asks and why,
`approve_lift` lifts it only for a second person (four-eyes) and restarts the hit count.

Hits, holds and escalations are applied by the action store together with the transaction's
result (one Lua script in Redis), so a redelivered decision can never count twice; this module
owns the key layout, the ladder, the reads and the lift workflow.

Redis keys: `riskmesh:controls:account:{account_id}` (hash control ▶ applied_at),
`riskmesh:controls:hits:{account_id}` (sorted set hit id ▶ epoch seconds, expires after the window),
`riskmesh:controls:held:{account_id}` (set of held tx_ids), `riskmesh:controls:lift:{lift_id}` (hash),
`riskmesh:controls:lifts:{pending|approved}` (sorted sets by request time) and
`riskmesh:controls:lift_pending:{account_id}:{control}` (the one pending lift of that control).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from riskmesh.contracts.review import ControlChange, ControlKind

__all__ = [
    "ACCOUNT_CONTROLS",
    "CONTROL_ACTIONS",
    "CONTROL_LEVELS",
    "REMOTE_CHANNELS",
    "AccountControls",
    "ControlError",
    "ControlLift",
    "ControlStore",
    "Effects",
    "Ladder",
    "MemoryControlStore",
    "RedisControlStore",
    "level_of",
]

CONTROL_LEVELS: dict[str, int] = {"hold": 1, "limit": 2, "suspend_remote": 3, "freeze": 4}
ACCOUNT_CONTROLS: tuple[str, ...] = ("limit", "suspend_remote", "freeze")
"""Controls on the whole account (hold is per transaction and ends with the alert's resolution)."""
CONTROL_ACTIONS: dict[str, str] = {
    "limit": "limit_account",
    "suspend_remote": "suspend_remote_channels",
    "freeze": "freeze_account",
}
REMOTE_CHANNELS: tuple[str, ...] = ("online_banking", "mobile", "api")
LiftStatus = Literal["pending", "approved"]

ACCOUNT_KEY = "riskmesh:controls:account:{}"
HITS_KEY = "riskmesh:controls:hits:{}"
HELD_KEY = "riskmesh:controls:held:{}"
LIFT_KEY = "riskmesh:controls:lift:{}"
LIFTS_KEY = "riskmesh:controls:lifts:{}"
LIFT_PENDING_KEY = "riskmesh:controls:lift_pending:{}:{}"


class ControlError(Exception):
    """A control request the store refuses; the message is what the caller reads."""


@dataclass(frozen=True, slots=True)
class Ladder:
    """When repeated hits escalate an account."""

    window_s: int = 30 * 24 * 3600
    limit_at: int = 3
    suspend_at: int = 5

    def __post_init__(self) -> None:
        if not 0 < self.limit_at <= self.suspend_at or self.window_s <= 0:
            raise ValueError("the ladder needs 0 < limit_at <= suspend_at and a positive window")

    @property
    def window_text(self) -> str:
        return f"{self.window_s / 86400:g} days"

    def escalations(self, hits: int) -> list[str]:
        """Account controls `hits` hits within the window call for, lowest first."""
        steps = (("limit", self.limit_at), ("suspend_remote", self.suspend_at))
        return [control for control, threshold in steps if hits >= threshold]

    def reason(self, hits: int) -> str:
        return f"{hits} hits within {self.window_text}"


def level_of(controls: Sequence[str] | set[str] | frozenset[str], held: int) -> int:
    """0 none, 1 transactions on hold, 2 limited, 3 remote channels suspended, 4 frozen."""
    levels = [CONTROL_LEVELS[c] for c in controls if c in CONTROL_LEVELS]
    return max([*levels, 1 if held else 0])


@dataclass(frozen=True, slots=True)
class AccountControls:
    account_id: str
    controls: frozenset[str] = frozenset()
    held: int = 0
    hits: int = 0

    @property
    def level(self) -> int:
        return level_of(self.controls, self.held)

    def to_json(self) -> dict[str, Any]:
        """The shape of `get_account_controls_batch` (the aggregation agent's frozen-account rule reads it)."""
        active = (["hold"] if self.held else []) + [c for c in ACCOUNT_CONTROLS if c in self.controls]
        return {"frozen": "freeze" in self.controls, "level": self.level, "active": active, "hits": self.hits}


@dataclass(frozen=True, slots=True)
class Effects:
    """What one decision or resolution does to its account, applied once together with its result."""

    account_id: str
    at: datetime
    hit: bool = False
    hold: bool = False
    unhold: bool = False
    freeze: bool = False
    note: str = ""


class ControlLift(BaseModel):
    """A request to lift an account control, and its four-eyes approval."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lift_id: str
    account_id: str
    control: ControlKind
    requested_by: str
    reason: str
    requested_at: str
    status: LiftStatus = "pending"
    approved_by: str | None = None
    approved_at: str | None = None


@runtime_checkable
class ControlStore(Protocol):
    async def accounts(self, account_ids: Sequence[str]) -> dict[str, AccountControls]:
        """Current controls per account (an account never seen has none)."""
        ...

    async def request_lift(self, account_id: str, control: str, requested_by: str, reason: str) -> ControlLift:
        """A pending lift of an active account control; the pending one when it was already requested."""
        ...

    async def approve_lift(self, lift_id: str, approver: str) -> tuple[ControlLift, ControlChange]:
        """Lift the control; ControlError for an unknown lift or when the approver is the requester."""
        ...

    async def list_lifts(self, status: LiftStatus | None, limit: int) -> list[ControlLift]:
        """Newest first; `status` None lists both."""
        ...


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _now() -> datetime:
    return datetime.now(UTC)


def _check_liftable(control: str) -> None:
    if control not in ACCOUNT_CONTROLS:
        raise ControlError(
            f"{control!r} cannot be lifted here; lift one of {list(ACCOUNT_CONTROLS)} "
            "(a held transaction is released by resolving its alert)"
        )


def _lifted(lift: ControlLift, level: int) -> ControlChange:
    reason = f"lift {lift.lift_id} requested by {lift.requested_by}, approved by {lift.approved_by}: {lift.reason}"
    return ControlChange(account_id=lift.account_id, control=lift.control, change="lifted", level=level, reason=reason)


@dataclass
class _Account:
    controls: dict[str, str] = field(default_factory=dict)
    hits: dict[str, float] = field(default_factory=dict)
    held: set[str] = field(default_factory=set)

    @property
    def level(self) -> int:
        return level_of(set(self.controls), len(self.held))


class MemoryControlStore:
    """In-process control store; `MemoryActionStore` applies effects through `apply_effects`."""

    def __init__(self, ladder: Ladder | None = None, clock: Callable[[], datetime] = _now) -> None:
        self.ladder = ladder or Ladder()
        self._clock = clock
        self._accounts: dict[str, _Account] = {}
        self._lifts: dict[str, ControlLift] = {}
        self._pending: dict[tuple[str, str], str] = {}

    def apply_effects(self, effects: Effects, tx_id: str, hit_id: str) -> tuple[list[str], list[ControlChange]]:
        """Apply `effects` (synchronously: atomic within the event loop); the actions taken and changes."""
        account = self._accounts.setdefault(effects.account_id, _Account())
        actions: list[str] = []
        changes: list[ControlChange] = []

        def change(control: str, kind: str, reason: str) -> None:
            changes.append(
                ControlChange.model_validate(
                    {"account_id": effects.account_id, "control": control, "change": kind,
                     "level": account.level, "reason": reason}
                )
            )  # fmt: skip

        if effects.hold:
            account.held.add(tx_id)
            change("hold", "applied", effects.note)
        if effects.unhold and tx_id in account.held:
            account.held.discard(tx_id)
            change("hold", "lifted", effects.note)
        if effects.freeze and "freeze" not in account.controls:
            account.controls["freeze"] = _iso(effects.at)
            actions.append(CONTROL_ACTIONS["freeze"])
            change("freeze", "applied", effects.note)
        if effects.hit:
            at = effects.at.timestamp()
            account.hits.setdefault(hit_id, at)
            cutoff = at - self.ladder.window_s
            account.hits = {k: v for k, v in account.hits.items() if v >= cutoff}
            if "freeze" not in account.controls:
                hits = len(account.hits)
                for control in self.ladder.escalations(hits):
                    if control not in account.controls:
                        account.controls[control] = _iso(effects.at)
                        actions.append(CONTROL_ACTIONS[control])
                        change(control, "escalated", self.ladder.reason(hits))
        return actions, changes

    async def accounts(self, account_ids: Sequence[str]) -> dict[str, AccountControls]:
        cutoff = self._clock().timestamp() - self.ladder.window_s
        out: dict[str, AccountControls] = {}
        for account_id in account_ids:
            account = self._accounts.get(account_id, _Account())
            hits = sum(1 for at in account.hits.values() if at >= cutoff)
            out[account_id] = AccountControls(account_id, frozenset(account.controls), len(account.held), hits)
        return out

    async def request_lift(self, account_id: str, control: str, requested_by: str, reason: str) -> ControlLift:
        _check_liftable(control)
        if control not in self._accounts.get(account_id, _Account()).controls:
            raise ControlError(f"{control} is not active on account {account_id}")
        pending = self._pending.get((account_id, control))
        if pending is not None:
            return self._lifts[pending]
        lift = ControlLift(
            lift_id=_new_lift_id(),
            account_id=account_id,
            control=control,  # type: ignore[arg-type]
            requested_by=requested_by,
            reason=reason,
            requested_at=_iso(self._clock()),
        )
        self._lifts[lift.lift_id] = lift
        self._pending[(account_id, control)] = lift.lift_id
        return lift

    async def approve_lift(self, lift_id: str, approver: str) -> tuple[ControlLift, ControlChange]:
        lift = self._lifts.get(lift_id)
        _check_approval(lift_id, lift.model_dump() if lift else {}, approver)
        assert lift is not None
        account = self._accounts.setdefault(lift.account_id, _Account())
        if lift.status == "pending":
            account.controls.pop(lift.control, None)
            account.hits.clear()
            self._pending.pop((lift.account_id, lift.control), None)
            lift = lift.model_copy(update={"status": "approved", "approved_by": approver,
                                           "approved_at": _iso(self._clock())})  # fmt: skip
            self._lifts[lift_id] = lift
        return lift, _lifted(lift, account.level)

    async def list_lifts(self, status: LiftStatus | None, limit: int) -> list[ControlLift]:
        found = [lift for lift in self._lifts.values() if status is None or lift.status == status]
        return sorted(found, key=lambda lift: (lift.requested_at, lift.lift_id), reverse=True)[:limit]


def _new_lift_id() -> str:
    return "LF-" + uuid.uuid4().hex[:16]


def _check_approval(lift_id: str, lift: dict[str, Any], approver: str) -> None:
    """ControlError unless `approver` may approve this lift (or already did: approving is idempotent)."""
    if not lift:
        raise ControlError(f"unknown lift request {lift_id}")
    if lift.get("status") == "approved" and lift.get("approved_by") != approver:
        raise ControlError(f"lift {lift_id} was already approved by {lift.get('approved_by')}")
    if lift.get("requested_by") == approver:
        raise ControlError(
            f"four-eyes: {approver} requested lift {lift_id} and cannot approve it; a second person must"
        )


_REQUEST_LIFT = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return {'inactive', ''} end
local pending = redis.call('GET', KEYS[2])
if pending then return {'pending', pending} end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('HSET', KEYS[3], unpack(ARGV, 4))
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2])
return {'new', ARGV[2]}
"""
"""KEYS: account hash, pending key, lift hash, pending lifts. ARGV: control, lift_id, score, field/value pairs."""

_APPROVE_LIFT = """
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'pending' then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('DEL', KEYS[3], KEYS[5])
  redis.call('HSET', KEYS[1], 'status', 'approved', 'approved_by', ARGV[2], 'approved_at', ARGV[3])
  redis.call('ZREM', KEYS[6], ARGV[4])
  redis.call('ZADD', KEYS[7], ARGV[5], ARGV[4])
end
local level = 0
if redis.call('HEXISTS', KEYS[2], 'freeze') == 1 then level = 4
elseif redis.call('HEXISTS', KEYS[2], 'suspend_remote') == 1 then level = 3
elseif redis.call('HEXISTS', KEYS[2], 'limit') == 1 then level = 2
elseif redis.call('SCARD', KEYS[4]) > 0 then level = 1 end
return level
"""
"""KEYS: lift hash, account hash, hits, held, pending key, pending lifts, approved lifts.
ARGV: control, approver, approved_at, lift_id, score."""


class RedisControlStore:
    """Control store in Redis (`redis.asyncio` client); lift requests and approvals are Lua scripts."""

    def __init__(self, redis: Any, ladder: Ladder | None = None, clock: Callable[[], datetime] = _now) -> None:
        self._redis = redis
        self.ladder = ladder or Ladder()
        self._clock = clock
        self._request = redis.register_script(_REQUEST_LIFT)
        self._approve = redis.register_script(_APPROVE_LIFT)

    async def accounts(self, account_ids: Sequence[str]) -> dict[str, AccountControls]:
        ids = list(dict.fromkeys(account_ids))
        if not ids:
            return {}
        cutoff = self._clock().timestamp() - self.ladder.window_s
        pipe = self._redis.pipeline(transaction=False)
        for account_id in ids:
            pipe.hkeys(ACCOUNT_KEY.format(account_id))
            pipe.scard(HELD_KEY.format(account_id))
            pipe.zcount(HITS_KEY.format(account_id), cutoff, "+inf")
        replies = await pipe.execute()
        out: dict[str, AccountControls] = {}
        for n, account_id in enumerate(ids):
            controls, held, hits = replies[3 * n : 3 * n + 3]
            out[account_id] = AccountControls(account_id, frozenset(_text(c) for c in controls), int(held), int(hits))
        return out

    async def request_lift(self, account_id: str, control: str, requested_by: str, reason: str) -> ControlLift:
        _check_liftable(control)
        now = self._clock()
        lift = ControlLift(
            lift_id=_new_lift_id(),
            account_id=account_id,
            control=control,  # type: ignore[arg-type]
            requested_by=requested_by,
            reason=reason,
            requested_at=_iso(now),
        )
        pairs = [v for k, value in lift.model_dump(exclude_none=True).items() for v in (k, value)]
        keys = [
            ACCOUNT_KEY.format(account_id),
            LIFT_PENDING_KEY.format(account_id, control),
            LIFT_KEY.format(lift.lift_id),
            LIFTS_KEY.format("pending"),
        ]
        outcome, lift_id = await self._request(keys=keys, args=[control, lift.lift_id, now.timestamp(), *pairs])
        if _text(outcome) == "inactive":
            raise ControlError(f"{control} is not active on account {account_id}")
        if _text(outcome) == "pending":
            found = await self._lift(_text(lift_id))
            if found is not None:
                return found
        return lift

    async def _lift(self, lift_id: str) -> ControlLift | None:
        raw = await self._redis.hgetall(LIFT_KEY.format(lift_id))
        return ControlLift.model_validate({_text(k): _text(v) for k, v in raw.items()}) if raw else None

    async def approve_lift(self, lift_id: str, approver: str) -> tuple[ControlLift, ControlChange]:
        lift = await self._lift(lift_id)
        _check_approval(lift_id, lift.model_dump() if lift else {}, approver)
        assert lift is not None
        now = self._clock()
        keys = [
            LIFT_KEY.format(lift_id),
            ACCOUNT_KEY.format(lift.account_id),
            HITS_KEY.format(lift.account_id),
            HELD_KEY.format(lift.account_id),
            LIFT_PENDING_KEY.format(lift.account_id, lift.control),
            LIFTS_KEY.format("pending"),
            LIFTS_KEY.format("approved"),
        ]
        args = [lift.control, approver, _iso(now), lift_id, now.timestamp()]
        level = int(await self._approve(keys=keys, args=args))
        approved = await self._lift(lift_id)
        assert approved is not None
        if approved.approved_by != approver:  # a concurrent approval by someone else won
            raise ControlError(f"lift {lift_id} was already approved by {approved.approved_by}")
        return approved, _lifted(approved, level)

    async def list_lifts(self, status: LiftStatus | None, limit: int) -> list[ControlLift]:
        statuses: list[LiftStatus] = [status] if status else ["pending", "approved"]
        found: list[ControlLift] = []
        for name in statuses:
            for lift_id in await self._redis.zrevrange(LIFTS_KEY.format(name), 0, limit - 1):
                lift = await self._lift(_text(lift_id))
                if lift is not None:
                    found.append(lift)
        return sorted(found, key=lambda lift: (lift.requested_at, lift.lift_id), reverse=True)[:limit]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
