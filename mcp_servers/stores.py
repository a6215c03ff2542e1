"""Reference data of a world directory, loaded from JSONL into in-memory stores.

One object per line, one file per kind (CONTRACTS.md). Each line is validated with its contract
model; a bad line is logged with file:line and skipped, never fatal. A missing file is an empty store.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import orjson
from pydantic import ValidationError

from riskmesh.contracts import (
    Account,
    CreditRecord,
    Customer,
    DeviceRecord,
    ReferenceRecord,
    WatchlistEntry,
    describe_validation_error,
)

__all__ = ["ReferenceData", "iter_jsonl", "load_jsonl", "load_reference_data"]

logger = logging.getLogger("riskmesh.mcp.stores")

RecordT = TypeVar("RecordT", bound=ReferenceRecord)


@dataclass
class ReferenceData:
    """Every reference store, keyed by its natural id."""

    customers: dict[str, Customer] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    credit: dict[str, CreditRecord] = field(default_factory=dict)
    watchlist: list[WatchlistEntry] = field(default_factory=list)
    devices: dict[str, DeviceRecord] = field(default_factory=dict)

    def summary(self) -> dict[str, int]:
        return {
            "customers": len(self.customers),
            "accounts": len(self.accounts),
            "credit": len(self.credit),
            "watchlist": len(self.watchlist),
            "devices": len(self.devices),
        }


def iter_jsonl(path: Path, model: type[RecordT]) -> Iterator[RecordT]:
    """Valid records of a JSONL file, in file order; bad lines are logged (file:line) and skipped."""
    if not path.exists():
        logger.info("reference file %s not found: empty store", path)
        return
    with path.open("rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            line = raw.strip()
            if not line or line.startswith(b"#"):
                continue
            try:
                data = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                logger.warning("%s:%d: skipped, invalid JSON: %s", path, line_no, exc)
                continue
            if not isinstance(data, dict):
                logger.warning("%s:%d: skipped, expected a JSON object", path, line_no)
                continue
            try:
                yield model.model_validate(data)
            except ValidationError as exc:
                logger.warning("%s:%d: skipped, %s", path, line_no, _describe(exc))


def _describe(exc: ValidationError) -> str:
    message, _fields = describe_validation_error(exc)
    return message


def load_jsonl(path: Path, model: type[RecordT]) -> list[RecordT]:
    return list(iter_jsonl(path, model))


def load_reference_data(world_dir: Path | str | None) -> ReferenceData:
    """Load `customers`, `accounts`, `credit`, `watchlist` and `devices` JSONL files of `world_dir`.

    Later lines win when an id repeats (a file may be appended to with corrections).
    """
    data = ReferenceData()
    if world_dir is None:
        return data
    root = Path(world_dir)
    if not root.is_dir():
        logger.warning("world directory %s does not exist: all reference stores are empty", root)
        return data
    data.customers = {c.customer_id: c for c in iter_jsonl(root / "customers.jsonl", Customer)}
    data.accounts = {a.account_id: a for a in iter_jsonl(root / "accounts.jsonl", Account)}
    data.credit = {c.customer_id: c for c in iter_jsonl(root / "credit.jsonl", CreditRecord)}
    data.watchlist = load_jsonl(root / "watchlist.jsonl", WatchlistEntry)
    data.devices = {d.device_id: d for d in iter_jsonl(root / "devices.jsonl", DeviceRecord)}
    logger.info("reference data loaded from %s: %s", root, data.summary())
    return data
