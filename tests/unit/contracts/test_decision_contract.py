from __future__ import annotations

import pytest
from pydantic import ValidationError

from riskmesh.contracts import AgentVerdict, Decision, Reason

EXAMPLE = {
    "schema_version": "1", "tx_id": "T-2026-000001", "decision": "review",
    "risk_score": 0.71, "decided_at": "2026-11-21T09:15:02.140Z", "latency_ms": 6.2,
    "reasons": [{"code": "BEHAVIOUR_NEW_DEVICE_HIGH_AMOUNT", "agent": "behaviour", "weight": 0.34, "detail": "..."}],
    "verdicts": {"fraud": {"score": 0.62, "status": "ok", "model_version": "fraud-lgbm-3", "reasons": []},
                 "credit": {}, "behaviour": {}, "compliance": {}},
    "policy_version": "policy-7", "degraded": ["behaviour", "compliance", "credit"], "actions": ["hold_transaction"],
    "alert_id": "AL-1",
}


def test_the_contracts_example_decision_is_accepted():
    d = Decision.model_validate(EXAMPLE)
    assert d.decision == "review" and d.verdicts["fraud"].model_version == "fraud-lgbm-3"


def test_a_verdict_that_is_not_ok_must_be_listed_in_degraded():
    bad = {**EXAMPLE, "degraded": []}
    with pytest.raises(ValidationError, match="not listed in degraded"):
        Decision.model_validate(bad)


def test_a_degraded_decision_can_never_be_pass():
    bad = {**EXAMPLE, "decision": "pass"}
    with pytest.raises(ValidationError, match="never be pass"):
        Decision.model_validate(bad)


def test_reason_codes_are_upper_snake_case():
    with pytest.raises(ValidationError):
        Reason(code="lower case", agent="fraud")


def test_a_failed_agent_verdict_is_fail_closed():
    v = AgentVerdict.failed("T1", "compliance", "timeout", "missed its deadline")
    assert v.status == "timeout" and v.score == 1.0 and v.reasons[0].code == "AGENT_TIMEOUT"
