"""One entry of the append-only, hash-chained audit trail (issue #4).

Each event carries the hash of the one before it; its own hash is SHA-256 over the canonical JSON of every
other field, so altering, deleting or reordering a stored event is detectable. See
docs/decisions/0003-hash-chained-audit-trail.md.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field

from riskmesh.contracts.base import RiskmeshModel, UtcDatetime

__all__ = ["GENESIS_HASH", "AuditEvent", "canonical_bytes", "compute_hash", "seal"]

GENESIS_HASH = "0" * 64
"""The `prev_hash` of the first event."""

HexDigest = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]

_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
"""What `json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False)` builds on every call.

The canonical form is defined by stdlib `json`: it must stay byte-for-byte what stored chains were hashed
with (orjson, for one, writes 1e-05 as 0.00001). Reusing one encoder only saves its construction."""


def canonical_bytes(event_fields: Mapping[str, Any]) -> bytes:
    """Sorted-key, space-free UTF-8 JSON of the JSON-mode fields of an event, without `hash`."""
    body = {k: v for k, v in event_fields.items() if k != "hash"}
    return _CANONICAL.encode(body).encode()


def compute_hash(event_fields: Mapping[str, Any]) -> str:
    """Hex SHA-256 of `canonical_bytes(event_fields)`."""
    return hashlib.sha256(canonical_bytes(event_fields)).hexdigest()


def seal(event_fields: Mapping[str, Any]) -> tuple[str, str]:
    """The event's hash and a JSON text to store it as, from one encoding.

    The stored text is the canonical JSON with `"hash"` added as its last key: a reader parses it back to
    the same fields, so `verify` recomputes the same hash, and storing costs no second serialisation.
    """
    canonical = canonical_bytes(event_fields)
    digest = hashlib.sha256(canonical).hexdigest()
    return digest, f'{canonical[:-1].decode()},"hash":"{digest}"}}'


class AuditEvent(RiskmeshModel):
    """Who did what to which subject, when; chained to the previous event by `prev_hash`."""

    seq: int = Field(ge=1)
    event_id: str = Field(min_length=1)
    at: UtcDatetime
    actor: str = Field(min_length=1)
    action: str = Field(min_length=1, description='e.g. "decision.made", "alert.claimed", "policy.changed"')
    subject: str = Field(min_length=1, description='e.g. "tx:T-1"')
    details: dict[str, Any] = Field(default_factory=dict)
    prev_hash: HexDigest
    hash: HexDigest

    def expected_hash(self) -> str:
        """The hash these fields should carry (compare with `hash`)."""
        return compute_hash(self.model_dump(mode="json"))
