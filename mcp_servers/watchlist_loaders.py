"""Watchlist loaders: riskmesh JSONL and OFAC's own SDN CSV layout (sdn.csv, alt.csv).

OFAC CSV files have no header, quote text fields, write `-0-` for an empty value and may end
with a DOS end-of-file byte (0x1A). `ent_num` links the files: sdn.csv holds the primary name,
type and programs; alt.csv the alternate names (aka / fka / nka). Without sdn.csv, each alt.csv
entity becomes an entry named by its first alias (type unknown, recorded as `entity`).
add.csv (addresses) and OpenSanctions `targets.simple.csv` are later work.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from riskmesh.contracts import WatchlistEntry, describe_validation_error
from riskmesh.mcp_servers.stores import load_jsonl

__all__ = ["OFAC_LIST", "load_ofac_alt", "load_ofac_dir", "load_ofac_sdn", "load_watchlist_jsonl"]

logger = logging.getLogger("riskmesh.mcp.watchlists")

OFAC_LIST = "OFAC-SDN"
_EMPTY = "-0-"
_SDN_TYPES: dict[str, Literal["person", "entity", "vessel", "aircraft"]] = {
    "individual": "person",
    "vessel": "vessel",
    "aircraft": "aircraft",
    "": "entity",
}


def load_watchlist_jsonl(path: Path) -> list[WatchlistEntry]:
    return load_jsonl(path, WatchlistEntry)


def _value(field: str) -> str:
    field = field.strip()
    return "" if field == _EMPTY else field


def _rows(path: Path, columns: int) -> Iterator[tuple[int, list[str]]]:
    """Rows of an OFAC CSV with at least `columns` fields; short rows are logged and skipped."""
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        for line_no, row in enumerate(csv.reader(handle), start=1):
            if not row or row == ["\x1a"]:
                continue
            if len(row) < columns:
                logger.warning(
                    "%s:%d: skipped, %d columns where %d expected", path, line_no, len(row), columns
                )
                continue
            yield line_no, [_value(f) for f in row]


def _entry_id(ent_num: str) -> str:
    return f"OFAC-{ent_num}"


def load_ofac_sdn(path: Path) -> dict[str, WatchlistEntry]:
    """sdn.csv: `ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type, Tonnage, GRT,
    Vess_flag, Vess_owner, Remarks` ▶ entries keyed by ent_num."""
    entries: dict[str, WatchlistEntry] = {}
    for line_no, row in _rows(path, 4):
        ent_num, name, sdn_type, program = row[:4]
        remarks = row[11] if len(row) > 11 else ""
        try:
            entries[ent_num] = WatchlistEntry(
                entry_id=_entry_id(ent_num),
                list=OFAC_LIST,
                name=name,
                type=_SDN_TYPES.get(sdn_type.lower(), "entity"),
                programs=[p.strip() for p in program.replace("]", "").split("[") if p.strip()],
                metadata={
                    "ent_num": ent_num,
                    "source": path.name,
                    **({"remarks": remarks} if remarks else {}),
                },
            )
        except ValidationError as exc:
            logger.warning("%s:%d: skipped, %s", path, line_no, describe_validation_error(exc)[0])
    return entries


def load_ofac_alt(path: Path, base: dict[str, WatchlistEntry] | None = None) -> list[WatchlistEntry]:
    """alt.csv: `ent_num, alt_num, alt_type, alt_name, alt_remarks` ▶ aliases added to `base`
    (entries from sdn.csv), or new alias-only entries for entities `base` does not have."""
    aliases: dict[str, list[str]] = {}
    for _line_no, row in _rows(path, 4):
        ent_num, _alt_num, _alt_type, alt_name = row[:4]
        if ent_num and alt_name:
            aliases.setdefault(ent_num, []).append(alt_name)
    entries = dict(base or {})
    for ent_num, names in aliases.items():
        known = entries.get(ent_num)
        unique = [n for n in dict.fromkeys(names) if known is None or n != known.name]
        if known is not None:
            merged = list(dict.fromkeys([*known.aliases, *unique]))
            entries[ent_num] = known.model_copy(update={"aliases": merged})
            continue
        try:
            entries[ent_num] = WatchlistEntry(
                entry_id=_entry_id(ent_num),
                list=OFAC_LIST,
                name=unique[0],
                aliases=unique[1:],
                type="entity",
                metadata={"ent_num": ent_num, "source": path.name, "sdn_type": "unknown"},
            )
        except ValidationError as exc:
            logger.warning("%s: entity %s skipped, %s", path, ent_num, describe_validation_error(exc)[0])
    return list(entries.values())


def load_ofac_dir(directory: Path) -> list[WatchlistEntry]:
    """Every OFAC file present in `directory` (sdn.csv and/or alt.csv); none present = []."""
    sdn_path, alt_path = directory / "sdn.csv", directory / "alt.csv"
    base = load_ofac_sdn(sdn_path) if sdn_path.exists() else {}
    entries = load_ofac_alt(alt_path, base) if alt_path.exists() else list(base.values())
    logger.info("loaded %d OFAC entries from %s", len(entries), directory)
    return entries
