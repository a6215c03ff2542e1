"""Turning raw bytes into a Transaction, or into a clear reason why not."""

from __future__ import annotations

from pydantic import ValidationError

from riskmesh.contracts.transaction import Transaction

__all__ = ["MAX_TRANSACTION_BYTES", "ContractError", "describe_validation_error", "parse_transaction"]

MAX_TRANSACTION_BYTES = 64 * 1024
"""A transaction is a few hundred bytes; anything this large is refused before parsing."""


class ContractError(ValueError):
    """Input that does not follow the public contract. `fields` names the offending dotted paths."""

    def __init__(self, error_type: str, reason: str, fields: list[str] | None = None) -> None:
        super().__init__(reason)
        self.error_type = error_type
        self.reason = reason
        self.fields = fields or []


def describe_validation_error(exc: ValidationError, limit: int = 5) -> tuple[str, list[str]]:
    """A one-line message naming each bad field, and the list of those fields."""
    parts, fields = [], []
    for err in exc.errors(include_url=False)[:limit]:
        loc = ".".join(str(p) for p in err["loc"]) or "<root>"
        fields.append(loc)
        parts.append(f"{loc}: {err['msg']}")
    more = exc.error_count() - limit
    if more > 0:
        parts.append(f"(+{more} more)")
    return "; ".join(parts), fields


def parse_transaction(raw: bytes | str, max_bytes: int = MAX_TRANSACTION_BYTES) -> Transaction:
    """Validate one JSON transaction strictly; raise ContractError naming the field on failure."""
    data = raw.encode() if isinstance(raw, str) else raw
    if len(data) > max_bytes:
        raise ContractError("oversized", f"payload is {len(data)} bytes, the limit is {max_bytes}")
    stripped = data.lstrip()
    if not stripped:
        raise ContractError("invalid_json", "payload is empty")
    if stripped[:1] != b"{":
        if stripped[:1] in b'["0123456789-tfn':
            raise ContractError("not_an_object", "payload is JSON but not an object")
        raise ContractError("invalid_json", "payload is not valid JSON")
    try:
        return Transaction.model_validate_json(data)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            msg = exc.errors()[0]["msg"]
            raise ContractError("invalid_json", f"payload is not valid JSON: {msg}") from None
        reason, fields = describe_validation_error(exc)
        raise ContractError("invalid_transaction", reason, fields) from None
