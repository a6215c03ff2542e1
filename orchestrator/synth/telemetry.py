"""SOC telemetry of the synthetic bank, linked to the fraud in its transaction streams.

    write_telemetry(world, Path(".riskmesh/world"), world_seed=7)      # four JSONL files
    ensure_telemetry(Path(".riskmesh/world"), world_seed=7)           # the same, once (marker file)

Four files next to the reference data, one JSON object per line, time-ordered:
- `auth_events.jsonl`: logins to online and mobile banking {event_id, ts, user, customer_id|null, ip,
  device_id|null, user_agent, channel, result success|failure, reason, country, lat, lon, endpoint};
- `network_flows.jsonl`: hourly flow summaries towards the bank's login endpoints {flow_id, ts, ts_end,
  src_ip, dst_ip, dst_port, host, requests, http_401, bytes_in, bytes_out, country};
- `endpoint_events.jsonl`: events of the banking app's device-integrity SDK on customer devices
  {event_id, ts, device_id, host, customer_id, kind, process, path, sha256, parent, signed, domain,
  remote_ip, detection, ip};
- `iocs.jsonl`: an indicator-of-compromise feed {kind ip|domain|hash, value, reputation, confidence,
  tags, sources, first_seen, last_seen, description}.

How it links to the fraud: the account-takeover device and IP come from the stream's own random
generator, so they cannot be drawn here again without changing every stream. Instead the streams the
stack plays (`demo_stream_seeds`) are replayed for `days` days and their takeovers collected; every
takeover IP becomes a bot of a credential-stuffing botnet (residential proxies, some in the victim's
own country), whose waves hit many users shortly before, validate the victim's password (failures,
then a success) and come back from the very IP and new device of the takeover transactions. Each
victim's own device shows an infostealer a day or two earlier; the IOC feed lists most bot IPs, the
malware hashes and their C2 domains. Everything else is noise: daily logins, typos, benign processes
and unrelated IOCs. The same world, seed, streams and days always give the same bytes.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from riskmesh.orchestrator.synth.stream import DEFAULT_START, TransactionStream
from riskmesh.orchestrator.synth.telemetry_events import Takeover, TelemetryBuilder
from riskmesh.orchestrator.synth.world import World

__all__ = [
    "DEFAULT_DAYS",
    "TELEMETRY_FILES",
    "Takeover",
    "Telemetry",
    "demo_stream_seeds",
    "ensure_telemetry",
    "generate_telemetry",
    "stream_takeovers",
    "write_telemetry",
]

TELEMETRY_FILES = ("auth_events", "network_flows", "endpoint_events", "iocs")
TELEMETRY_VERSION = 1
"""Part of the marker name: bump it when the generator's output changes, so old worlds regenerate."""
DEFAULT_DAYS = 30
"""Stream days covered: `make run` plays about one simulated day every 12 s at 300 tx/s."""
_MS = 1000


def demo_stream_seeds(world_seed: int) -> tuple[int, ...]:
    """Seeds of the streams the embedded stack plays over this world.

    `riskmesh run` (make run) and `riskmesh demo` use world_seed + 1; `riskmesh produce` defaults to 1.
    """
    return tuple(dict.fromkeys((world_seed + 1, 1)))


@dataclass
class Telemetry:
    """The four record lists (plain dicts in the JSONL shape), each sorted by time."""

    auth_events: list[dict[str, Any]]
    network_flows: list[dict[str, Any]]
    endpoint_events: list[dict[str, Any]]
    iocs: list[dict[str, Any]]
    takeovers: list[Takeover]

    def write(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for name in TELEMETRY_FILES:
            rows: list[dict[str, Any]] = getattr(self, name)
            tmp = directory / f"{name}.jsonl.tmp"
            tmp.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
            tmp.replace(directory / f"{name}.jsonl")


def stream_takeovers(
    world: World, seeds: Iterable[int], days: int = DEFAULT_DAYS, start: datetime | None = None
) -> list[Takeover]:
    """The account takeovers of each stream's first `days` days: one per (stream, attacker device)."""
    found: dict[tuple[int, str], Takeover] = {}
    for seed in seeds:
        for tx in TransactionStream.for_days(world, seed=seed, days=days, start=start).iter_dicts():
            label = tx.get("label")
            if not label or label.get("pattern") != "account_takeover" or not tx.get("device"):
                continue
            key = (seed, tx["device"]["device_id"])
            ts = _ms(tx["ts"])
            known = found.get(key)
            if known is None:
                geo = tx.get("geo") or {}
                found[key] = Takeover(
                    stream_seed=seed,
                    customer_id=tx["debtor"]["customer_id"],
                    account_id=tx["debtor"]["account_id"],
                    device_id=tx["device"]["device_id"],
                    ip=tx["device"]["ip"],
                    user_agent=tx["device"].get("user_agent") or "",
                    channel=tx["channel"],
                    country=geo.get("country", ""),
                    lat=float(geo.get("lat", 0.0)),
                    lon=float(geo.get("lon", 0.0)),
                    first_ms=ts,
                    tx_ids=(tx["tx_id"],),
                )
            else:
                known.tx_ids = (*known.tx_ids, tx["tx_id"])
    return sorted(found.values(), key=lambda t: (t.first_ms, t.stream_seed, t.device_id))


def generate_telemetry(
    world: World,
    world_seed: int,
    stream_seeds: Sequence[int] | None = None,
    days: int = DEFAULT_DAYS,
    start: datetime | None = None,
) -> Telemetry:
    """Telemetry for `days` days from `start` (the streams' start), with three days of history before it."""
    if days < 1:
        raise ValueError("days must be at least 1")
    seeds = demo_stream_seeds(world_seed) if stream_seeds is None else tuple(stream_seeds)
    begin = start or DEFAULT_START
    takeovers = stream_takeovers(world, seeds, days, begin)
    first = int((begin - timedelta(days=3)).timestamp() * _MS)
    end = int((begin + timedelta(days=days)).timestamp() * _MS)
    builder = TelemetryBuilder(world, random.Random(f"telemetry:{world_seed}"), first, end)
    builder.normal_activity()
    builder.takeover_campaigns(takeovers)
    builder.background_iocs()
    builder.flows()
    return Telemetry(
        auth_events=builder.sorted("auth_events"),
        network_flows=builder.sorted("network_flows"),
        endpoint_events=builder.sorted("endpoint_events"),
        iocs=builder.sorted("iocs"),
        takeovers=takeovers,
    )


def write_telemetry(
    world: World,
    directory: Path,
    world_seed: int,
    stream_seeds: Sequence[int] | None = None,
    days: int = DEFAULT_DAYS,
) -> Telemetry:
    telemetry = generate_telemetry(world, world_seed, stream_seeds, days)
    telemetry.write(directory)
    return telemetry


def ensure_telemetry(
    world_dir: Path, world_seed: int, stream_seeds: Sequence[int] | None = None, days: int = DEFAULT_DAYS
) -> Path:
    """Write the telemetry of the world in `world_dir` unless this very telemetry is already there.

    A marker file names the generator version, the world's files and the streams; a world written
    before telemetry existed (or regenerated since) gets its telemetry on the next call.
    """
    seeds = demo_stream_seeds(world_seed) if stream_seeds is None else tuple(stream_seeds)
    marker = world_dir / f".telemetry-{_fingerprint(world_dir, world_seed, seeds, days)}"
    if marker.exists() and all((world_dir / f"{n}.jsonl").exists() for n in TELEMETRY_FILES):
        return world_dir
    write_telemetry(World.read(world_dir), world_dir, world_seed, seeds, days)
    for old in world_dir.glob(".telemetry-*"):
        old.unlink()
    marker.touch()
    return world_dir


def _fingerprint(world_dir: Path, world_seed: int, seeds: Sequence[int], days: int) -> str:
    digest = hashlib.sha256(f"v{TELEMETRY_VERSION}:{world_seed}:{list(seeds)}:{days}".encode())
    for name in World.FILES:
        path = world_dir / f"{name}.jsonl"
        stat = path.stat() if path.exists() else None
        digest.update(f"{name}:{stat.st_size if stat else -1}:{stat.st_mtime_ns if stat else -1}".encode())
    return digest.hexdigest()[:16]


def _ms(stamp: str) -> int:
    return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * _MS)
