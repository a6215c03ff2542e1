"""Where risk actions and alerts are recorded: the port risk-actions needs, in memory and in Redis.

Idempotent per tx_id (decisions) and per alert_id (resolutions). The first time a record is applied
its result is stored, its alert opened, its account effects applied (hold, release, hit and
escalation, freeze; see controls.py) and one action-log entry appended per action taken; every
later apply of the same record returns the stored result and changes nothing. In Redis all of
that is one Lua script per batch, so a retry or a crash in between can never count a hit twice.

Redis keys: `riskmesh:alert:{alert_id}` (Alert JSON), `riskmesh:alerts:open` (sorted set,
score = priority), `riskmesh:tx_actions:{tx_id}` and `riskmesh:resolution:{alert_id}` (result
JSON, expire after `result_ttl_s`), `riskmesh:action_log:{tx_id}` (list of JSON entries, one per
action taken, expires after `log_ttl_s`), and the account keys of controls.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

import orjson

from riskmesh.contracts import Alert
from riskmesh.mcp_servers.controls import (
    ACCOUNT_KEY,
    HELD_KEY,
    HITS_KEY,
    Effects,
    Ladder,
    MemoryControlStore,
    RedisControlStore,
)

__all__ = [
    "ACTION_LOG_KEY",
    "ALERT_KEY",
    "OPEN_ALERTS_KEY",
    "RESOLUTION_KEY",
    "TX_ACTIONS_KEY",
    "ActionRecord",
    "ActionStore",
    "MemoryActionStore",
    "RedisActionStore",
]

ALERT_KEY = "riskmesh:alert:{}"
OPEN_ALERTS_KEY = "riskmesh:alerts:open"
TX_ACTIONS_KEY = "riskmesh:tx_actions:{}"
RESOLUTION_KEY = "riskmesh:resolution:{}"
ACTION_LOG_KEY = "riskmesh:action_log:{}"
DEFAULT_RESULT_TTL_S = 7 * 24 * 3600
DEFAULT_LOG_TTL_S = 90 * 24 * 3600


@dataclass(frozen=True, slots=True)
class ActionRecord:
    """What one decision (or, with `resolution`, one alert's resolution) asks to record, once.

    `result` holds the base `actions` and the `alert_id`; the store appends the escalation actions
    its `effects` trigger and, when there are effects, the `controls` changes (ControlChange JSON).
    `log` is merged into every action-log entry (actor, source, alert id…).
    """

    tx_id: str
    result: dict[str, Any]
    alert: Alert | None = None
    priority: float = 0.0
    effects: Effects | None = None
    resolution: str | None = None
    """The resolved alert's id: the record is then idempotent per alert and closes the alert."""
    log: Mapping[str, Any] = field(default_factory=dict)

    @property
    def inert(self) -> bool:
        """Nothing to do: no action, no alert, no effect on the account (a pass). Such a record is never
        written; applying it returns what an earlier record of the same tx stored, if any."""
        e = self.effects
        return (not self.result.get("actions") and self.alert is None and self.resolution is None
                and (e is None or not (e.hit or e.hold or e.unhold or e.freeze)))

    def inert_result(self) -> dict[str, Any]:
        result: dict[str, Any] = {"actions": [], "alert_id": self.result.get("alert_id")}
        return result | {"controls": []} if self.effects is not None else result

    @property
    def key(self) -> str:
        """What the stored result is keyed by: the alert id of a resolution, else the tx_id."""
        return self.resolution or self.tx_id

    @property
    def hit_id(self) -> str:
        return f"resolution:{self.resolution}" if self.resolution else f"decision:{self.tx_id}"

    def at(self) -> datetime:
        if self.effects is not None:
            return self.effects.at
        return self.alert.created_at if self.alert is not None else datetime.now(UTC)


@runtime_checkable
class ActionStore(Protocol):
    async def apply(self, records: Sequence[ActionRecord]) -> dict[str, dict[str, Any]]:
        """Record each once; return per `record.key` the result stored first (this one or an earlier one).
        An inert record (a pass) is not recorded: it gets the result an earlier record stored, else its own."""
        ...

    async def list_open(self, limit: int) -> list[Alert]:
        """Open alerts, highest priority first."""
        ...

    async def get_alert(self, alert_id: str) -> Alert | None: ...

    async def get_actions(self, tx_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Per tx_id the actions actually taken, oldest first ([] when none)."""
        ...


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class MemoryActionStore:
    """In-process action store (tests, the embedded single-process mode)."""

    def __init__(self, controls: MemoryControlStore | None = None) -> None:
        self.controls = controls if controls is not None else MemoryControlStore()
        self.results: dict[str, dict[str, Any]] = {}
        self.alerts: dict[str, Alert] = {}
        self.open: dict[str, float] = {}
        self.log: dict[str, list[dict[str, Any]]] = {}

    async def apply(self, records: Sequence[ActionRecord]) -> dict[str, dict[str, Any]]:
        stored: dict[str, dict[str, Any]] = {}
        for record in records:
            key = ("resolution:" if record.resolution else "tx:") + record.key
            if key in self.results:
                stored[record.key] = self.results[key]
            elif record.inert:
                stored[record.key] = record.inert_result()
            else:
                stored[record.key] = self.results[key] = self._apply_once(record)
        return stored

    def _apply_once(self, record: ActionRecord) -> dict[str, Any]:
        if record.alert is not None and record.alert.alert_id not in self.alerts:
            self.alerts[record.alert.alert_id] = record.alert
            self.open.setdefault(record.alert.alert_id, record.priority)
        if record.resolution:
            self.open.pop(record.resolution, None)
        actions = list(record.result.get("actions") or [])
        result: dict[str, Any] = {"actions": actions, "alert_id": record.result.get("alert_id")}
        if record.effects is not None:
            taken, changes = self.controls.apply_effects(record.effects, record.tx_id, record.hit_id)
            actions.extend(taken)
            result["controls"] = [c.model_dump(mode="json") for c in changes]
        at = _iso(record.at())
        self.log.setdefault(record.tx_id, []).extend({"action": a, "at": at, **record.log} for a in actions)
        return result

    async def list_open(self, limit: int) -> list[Alert]:
        ranked = sorted(self.open.items(), key=lambda item: (-item[1], item[0]))
        alerts = [self.alerts[alert_id] for alert_id, _ in ranked if alert_id in self.alerts]
        return [a for a in alerts if a.status == "open"][:limit]

    async def get_alert(self, alert_id: str) -> Alert | None:
        return self.alerts.get(alert_id)

    async def get_actions(self, tx_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        return {tx_id: list(self.log.get(tx_id, [])) for tx_id in tx_ids}


_APPLY_BATCH = """
local function apply_once(KEYS, ARGV)
  local existing = redis.call('GET', KEYS[1])
  if existing then return existing end
  local at_iso, account, flags, tx_id, note = ARGV[4], ARGV[9], ARGV[10], ARGV[12], ARGV[16]
  local actions = {}
  for i = 21, #ARGV do actions[#actions + 1] = ARGV[i] end
  if ARGV[6] ~= '' then
    redis.call('SET', KEYS[3], ARGV[7], 'NX')
    redis.call('ZADD', KEYS[4], 'NX', ARGV[8], ARGV[6])
  end
  if ARGV[19] ~= '' then redis.call('ZREM', KEYS[4], ARGV[19]) end
  local changes = {}
  local function level()
    if redis.call('HEXISTS', KEYS[5], 'freeze') == 1 then return 4 end
    if redis.call('HEXISTS', KEYS[5], 'suspend_remote') == 1 then return 3 end
    if redis.call('HEXISTS', KEYS[5], 'limit') == 1 then return 2 end
    if redis.call('SCARD', KEYS[7]) > 0 then return 1 end
    return 0
  end
  local function change(control, kind, reason)
    changes[#changes + 1] = '{"account_id":' .. cjson.encode(account) .. ',"control":"' .. control
      .. '","change":"' .. kind .. '","level":' .. level() .. ',"reason":' .. cjson.encode(reason) .. '}'
  end
  local function has(flag) return string.find(flags, flag, 1, true) ~= nil end
  if account ~= '' then
    if has('H') then
      redis.call('SADD', KEYS[7], tx_id)
      change('hold', 'applied', note)
    end
    if has('U') and redis.call('SREM', KEYS[7], tx_id) == 1 then change('hold', 'lifted', note) end
    if has('F') and redis.call('HSETNX', KEYS[5], 'freeze', at_iso) == 1 then
      actions[#actions + 1] = 'freeze_account'
      change('freeze', 'applied', note)
    end
    if has('B') then
      redis.call('ZADD', KEYS[6], 'NX', ARGV[3], ARGV[11])
      redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', '(' .. ARGV[5])
      redis.call('EXPIRE', KEYS[6], ARGV[20])
      if redis.call('HEXISTS', KEYS[5], 'freeze') == 0 then
        local hits = redis.call('ZCARD', KEYS[6])
        local ladder = {{'limit', tonumber(ARGV[13]), 'limit_account'},
                        {'suspend_remote', tonumber(ARGV[14]), 'suspend_remote_channels'}}
        for _, step in ipairs(ladder) do
          if hits >= step[2] and redis.call('HSETNX', KEYS[5], step[1], at_iso) == 1 then
            actions[#actions + 1] = step[3]
            change(step[1], 'escalated', hits .. ' hits within ' .. ARGV[15])
          end
        end
      end
    end
  end
  local quoted = {}
  for i, a in ipairs(actions) do quoted[i] = cjson.encode(a) end
  local result = '{"actions":[' .. table.concat(quoted, ',') .. '],"alert_id":' .. ARGV[17]
  if account ~= '' then result = result .. ',"controls":[' .. table.concat(changes, ',') .. ']' end
  result = result .. '}'
  redis.call('SET', KEYS[1], result, 'EX', ARGV[1])
  for _, q in ipairs(quoted) do
    redis.call('RPUSH', KEYS[2], '{"action":' .. q .. ',"at":' .. cjson.encode(at_iso) .. ARGV[18] .. '}')
  end
  if #quoted > 0 then redis.call('EXPIRE', KEYS[2], ARGV[2]) end
  return result
end
local results, a = {}, 1
for r = 1, #KEYS / 7 do
  local n = tonumber(ARGV[a])
  local keys = {unpack(KEYS, 7 * r - 6, 7 * r)}
  results[r] = apply_once(keys, {unpack(ARGV, a + 1, a + n)})
  a = a + n + 1
end
return results
"""
"""Apply each record of a batch once, in order. KEYS: 7 per record (result, action log, alert, open alerts,
account, hits, held). ARGV: per record, its argument count and then its arguments: 1 result ttl, 2 log ttl,
3 at (epoch s), 4 at (ISO), 5 hit window start (epoch s), 6 alert to open, 7 its JSON, 8 its priority,
9 account ('' = no effects), 10 flags (H hold, U release hold, F freeze, B hit), 11 hit id, 12 tx_id,
13 limit_at, 14 suspend_at, 15 window text, 16 note, 17 alert_id JSON, 18 extra log fields (',"k":v…'),
19 alert to close, 20 window (s), 21… base actions."""


class RedisActionStore:
    """Action store in Redis (`redis.asyncio` client): one Lua script call per batch, records applied in order."""

    def __init__(
        self,
        redis: Any,
        *,
        result_ttl_s: int = DEFAULT_RESULT_TTL_S,
        log_ttl_s: int = DEFAULT_LOG_TTL_S,
        ladder: Ladder | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._redis = redis
        self.result_ttl_s = result_ttl_s
        self.log_ttl_s = log_ttl_s
        self.ladder = ladder or Ladder()
        self.controls = RedisControlStore(redis, self.ladder, clock) if clock else RedisControlStore(redis, self.ladder)
        self._apply_batch = redis.register_script(_APPLY_BATCH)

    def _call(self, record: ActionRecord) -> tuple[list[str], list[Any]]:
        effects = record.effects
        account = effects.account_id if effects is not None else ""
        at = record.at()
        flags = ""
        if effects is not None:
            flags = "".join(f for f, on in zip("HUFB", (effects.hold, effects.unhold, effects.freeze, effects.hit),
                                               strict=True) if on)  # fmt: skip
        alert = record.alert
        extra = orjson.dumps(dict(record.log)).decode()[1:-1]
        keys = [
            RESOLUTION_KEY.format(record.resolution) if record.resolution else TX_ACTIONS_KEY.format(record.tx_id),
            ACTION_LOG_KEY.format(record.tx_id),
            ALERT_KEY.format(alert.alert_id if alert else ""),
            OPEN_ALERTS_KEY,
            ACCOUNT_KEY.format(account),
            HITS_KEY.format(account),
            HELD_KEY.format(account),
        ]
        args: list[Any] = [
            self.result_ttl_s,
            self.log_ttl_s,
            repr(at.timestamp()),
            _iso(at),
            repr(at.timestamp() - self.ladder.window_s),
            alert.alert_id if alert else "",
            alert.model_dump_json() if alert else "",
            repr(record.priority),
            account,
            flags,
            record.hit_id,
            record.tx_id,
            self.ladder.limit_at,
            self.ladder.suspend_at,
            self.ladder.window_text,
            effects.note if effects is not None else "",
            orjson.dumps(record.result.get("alert_id")).decode(),
            f",{extra}" if extra else "",
            record.resolution or "",
            self.ladder.window_s,
            *(record.result.get("actions") or []),
        ]
        return keys, args

    async def apply(self, records: Sequence[ActionRecord]) -> dict[str, dict[str, Any]]:
        """Active records in one script call; inert ones (passes, most of a stream) only read in one MGET."""
        if not records:
            return {}
        out: dict[str, dict[str, Any]] = {}
        inert = [r for r in records if r.inert]
        if inert:
            found = await self._redis.mget([TX_ACTIONS_KEY.format(r.tx_id) for r in inert])
            out.update({r.key: orjson.loads(raw) if raw else r.inert_result() for r, raw in zip(inert, found,
                                                                                                 strict=True)})
        active = [r for r in records if not r.inert]
        if active:
            keys: list[str] = []
            args: list[Any] = []
            for record in active:
                record_keys, record_args = self._call(record)
                keys += record_keys
                args.append(len(record_args))
                args += record_args
            replies = await self._apply_batch(keys=keys, args=args)
            out.update({record.key: orjson.loads(reply) for record, reply in zip(active, replies, strict=True)})
        return {r.key: out[r.key] for r in records}

    async def list_open(self, limit: int) -> list[Alert]:
        """Open alerts by priority; ids whose alert is gone or no longer open leave the queue."""
        found: list[Alert] = []
        start, page = 0, max(limit, 16)
        while len(found) < limit:
            ids = await self._redis.zrevrange(OPEN_ALERTS_KEY, start, start + page - 1)
            if not ids:
                break
            raw = await self._redis.mget([ALERT_KEY.format(_text(i)) for i in ids])
            stale = []
            for alert_id, blob in zip(ids, raw, strict=True):
                alert = Alert.model_validate_json(blob) if blob is not None else None
                if alert is None or alert.status != "open":
                    stale.append(alert_id)
                else:
                    found.append(alert)
            if stale:
                await self._redis.zrem(OPEN_ALERTS_KEY, *stale)
            start += page - len(stale)
        return found[:limit]

    async def get_alert(self, alert_id: str) -> Alert | None:
        blob = await self._redis.get(ALERT_KEY.format(alert_id))
        return Alert.model_validate_json(blob) if blob is not None else None

    async def get_actions(self, tx_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        ids = list(dict.fromkeys(tx_ids))
        if not ids:
            return {}
        pipe = self._redis.pipeline(transaction=False)
        for tx_id in ids:
            pipe.lrange(ACTION_LOG_KEY.format(tx_id), 0, -1)
        replies = await pipe.execute()
        return {tx_id: [orjson.loads(e) for e in entries] for tx_id, entries in zip(ids, replies, strict=True)}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
