"""Doubles for the review graph tests: an action agent with per-alert idempotency, tickets, resolutions."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from riskmesh.contracts.review import (
    RESOLUTION_REQUEST_MEDIA_TYPE,
    Resolution,
    ResolutionOutcome,
    ResolutionRequest,
    ResolutionResponse,
)
from riskmesh.orchestrator.review.graph import ReviewTicket

DECIDED_AT = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def ticket(i: int) -> ReviewTicket:
    return ReviewTicket(alert_id=f"AL-{i:04d}", tx_id=f"T-{i:04d}", risk_score=0.71, decided_at=DECIDED_AT,
                        reason_codes=("FRAUD_SCORE",), policy_version="policy-1")


def resolution(i: int, disposition: str = "release", by: str = "ana") -> Resolution:
    return Resolution(alert_id=f"AL-{i:04d}", tx_id=f"T-{i:04d}", debtor_account_id="A000123-01",
                      disposition=disposition, decided_by=by, reason="checked with the customer",
                      decided_at=DECIDED_AT)


class FakeActionAgent:
    """The action agent's `resolve` skill: counts requests per alert, applies each alert's actions once."""

    def __init__(self, fail_calls: int = 0, error_outcome: bool = False) -> None:
        self.requests: Counter[str] = Counter()
        self.applied: Counter[str] = Counter()
        self.fail_calls = fail_calls
        self.error_outcome = error_outcome

    async def call(self, agent: str, payload: bytes, media_type: str, timeout_s: float) -> bytes:
        assert agent == "action"
        assert media_type == RESOLUTION_REQUEST_MEDIA_TYPE
        request = ResolutionRequest.model_validate_json(payload)
        for r in request.resolutions:
            self.requests[r.alert_id] += 1
        if self.fail_calls:
            self.fail_calls -= 1
            raise TimeoutError("action agent missed its deadline")
        outcomes = []
        for r in request.resolutions:
            if self.error_outcome:
                outcomes.append(ResolutionOutcome(alert_id=r.alert_id, tx_id=r.tx_id, status="error",
                                                  detail="risk-actions unavailable"))
                continue
            first = self.applied[r.alert_id] == 0
            self.applied[r.alert_id] += 1
            actions = [f"{r.disposition}_transaction"] if first else []
            outcomes.append(ResolutionOutcome(alert_id=r.alert_id, tx_id=r.tx_id, actions=actions))
        return ResolutionResponse(request_id=request.request_id, outcomes=outcomes).model_dump_json().encode()
