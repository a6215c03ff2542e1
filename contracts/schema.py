"""JSON Schemas of the contracts, generated into contracts/schemas/ (`python -m riskmesh.contracts.schema`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import BaseModel

from riskmesh.contracts import (
    Account,
    ActionRequest,
    ActionResponse,
    AgentVerdict,
    AggregationRequest,
    AggregationResponse,
    Alert,
    AssessBatchRequest,
    AssessBatchResponse,
    CreditRecord,
    Customer,
    DeadLetter,
    Decision,
    DeviceRecord,
    ShadowDecision,
    Transaction,
    WatchlistEntry,
)
from riskmesh.contracts.audit import AuditEvent
from riskmesh.contracts.gateway import (
    BatchAssessRequest,
    BatchAssessResponse,
    ExplainRequest,
    Explanation,
    FeedbackReceipt,
    FeedbackRequest,
    ReviewOutcome,
)

__all__ = ["SCHEMA_DIR", "SCHEMA_MODELS", "render_schemas", "write_schemas"]

SCHEMA_DIR = Path(__file__).parent / "schemas"
SCHEMA_MODELS: dict[str, type[BaseModel]] = {
    "transaction": Transaction,
    "decision": Decision,
    "customer": Customer,
    "account": Account,
    "credit": CreditRecord,
    "watchlist-entry": WatchlistEntry,
    "device": DeviceRecord,
    "agent-verdict": AgentVerdict,
    "assess-batch-request": AssessBatchRequest,
    "assess-batch-response": AssessBatchResponse,
    "aggregation-request": AggregationRequest,
    "aggregation-response": AggregationResponse,
    "action-request": ActionRequest,
    "action-response": ActionResponse,
    "dead-letter": DeadLetter,
    "alert": Alert,
    "shadow-decision": ShadowDecision,
    "audit-event": AuditEvent,
    "gateway-assess-batch-request": BatchAssessRequest,
    "gateway-assess-batch-response": BatchAssessResponse,
    "gateway-explain-request": ExplainRequest,
    "gateway-explanation": Explanation,
    "gateway-feedback-request": FeedbackRequest,
    "gateway-feedback-receipt": FeedbackReceipt,
    "review-outcome": ReviewOutcome,
}


def render_schemas() -> dict[str, str]:
    """File name ▶ schema text, exactly as it is committed."""
    out = {}
    for name, model in SCHEMA_MODELS.items():
        schema = model.model_json_schema(mode="validation")
        schema["$id"] = f"https://riskmesh.dev/schemas/v1/{name}.json"
        out[f"{name}.schema.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, text in render_schemas().items():
        path = directory / filename
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write_schemas():
        sys.stdout.write(f"wrote {p}\n")
