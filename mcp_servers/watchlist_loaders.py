"""Watchlist loaders: riskmesh JSONL, OFAC's own SDN CSV layout and OpenSanctions `targets.simple.csv`.

OFAC CSV files have no header, quote text fields, write `-0-` for an empty value and may end
with a DOS end-of-file byte (0x1A). `ent_num` links the files: sdn.csv holds the primary name,
type and programs; alt.csv the alternate names (aka / fka / nka). Without sdn.csv, each alt.csv
entity becomes an entry named by its first alias (type unknown, recorded as `entity`). add.csv
(addresses) gives each entry the ISO codes of its address countries (regions map to their country).

OpenSanctions `targets.simple.csv` has a header row: id, schema, name, aliases (";"-separated),
birth_date, countries (ISO, ";"), addresses, identifiers, sanctions, phones, emails, dataset,
first_seen, last_seen, last_change. Each row becomes one entry of list `OpenSanctions`.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from riskmesh.contracts import WatchlistEntry, describe_validation_error
from riskmesh.mcp_servers.countries import country_code
from riskmesh.mcp_servers.stores import load_jsonl

__all__ = [
    "OFAC_LIST",
    "OPENSANCTIONS_LIST",
    "load_ofac_add",
    "load_ofac_alt",
    "load_ofac_dir",
    "load_ofac_sdn",
    "load_opensanctions",
    "load_watchlist_jsonl",
]

logger = logging.getLogger("riskmesh.mcp.watchlists")

OFAC_LIST = "OFAC-SDN"
OPENSANCTIONS_LIST = "OpenSanctions"
_OS_TYPES: dict[str, Literal["person", "entity", "vessel", "aircraft"]] = {
    "person": "person",
    "vessel": "vessel",
    "airplane": "aircraft",
}
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
                logger.warning("%s:%d: skipped, %d columns where %d expected", path, line_no, len(row), columns)
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


def load_ofac_add(path: Path) -> dict[str, list[str]]:
    """add.csv: `ent_num, add_num, address, city_state_postal, country, add_remarks` ▶ ent_num ▶ ISO
    codes of its address countries, in file order. Unknown country names are logged once each."""
    countries: dict[str, list[str]] = {}
    unknown: set[str] = set()
    for _line_no, row in _rows(path, 5):
        ent_num, name = row[0], row[4]
        if not ent_num or not name or name == "undetermined":
            continue
        code = country_code(name.removeprefix("Region: "))
        if code is None:
            code = country_code(name)
        if code is None:
            unknown.add(name)
            continue
        known = countries.setdefault(ent_num, [])
        if code not in known:
            known.append(code)
    if unknown:
        logger.info("%s: countries without an ISO code, ignored: %s", path, sorted(unknown))
    return countries


def load_ofac_dir(directory: Path) -> list[WatchlistEntry]:
    """Every OFAC file present in `directory` (sdn.csv, alt.csv, add.csv); none present = []."""
    sdn_path, alt_path, add_path = directory / "sdn.csv", directory / "alt.csv", directory / "add.csv"
    base = load_ofac_sdn(sdn_path) if sdn_path.exists() else {}
    entries = load_ofac_alt(alt_path, base) if alt_path.exists() else list(base.values())
    if add_path.exists():
        addresses = load_ofac_add(add_path)
        entries = [
            e.model_copy(update={"countries": list(dict.fromkeys([*e.countries, *addresses[num]]))})
            if (num := str(e.metadata.get("ent_num"))) in addresses
            else e
            for e in entries
        ]
    logger.info("loaded %d OFAC entries from %s", len(entries), directory)
    return entries


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(";") if v.strip()]


def load_opensanctions(path: Path) -> list[WatchlistEntry]:
    """OpenSanctions `targets.simple.csv` ▶ entries (invalid rows are logged with their line and skipped)."""
    entries: list[WatchlistEntry] = []
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        for line_no, row in enumerate(csv.DictReader(handle), start=2):
            name = (row.get("name") or "").strip()
            if not row.get("id") or not name:
                logger.warning("%s:%d: skipped, no id or name", path, line_no)
                continue
            codes = [c for c in (country_code(v) for v in _split(row.get("countries"))) if c]
            births = _split(row.get("birth_date"))
            try:
                entries.append(
                    WatchlistEntry(
                        entry_id=f"OS-{row['id']}"[:128],
                        list=OPENSANCTIONS_LIST,
                        name=name,
                        aliases=[a for a in dict.fromkeys(_split(row.get("aliases"))) if a != name],
                        type=_OS_TYPES.get((row.get("schema") or "").casefold(), "entity"),
                        countries=list(dict.fromkeys(codes)),
                        date_of_birth=births[0] if births else None,
                        programs=_split(row.get("sanctions"))[:20],
                        metadata={
                            "source": path.name,
                            "schema": row.get("schema"),
                            "dataset": row.get("dataset"),
                            "last_change": row.get("last_change"),
                        },
                    )
                )
            except ValidationError as exc:
                logger.warning("%s:%d: skipped, %s", path, line_no, describe_validation_error(exc)[0])
    logger.info("loaded %d OpenSanctions entries from %s", len(entries), path)
    return entries
