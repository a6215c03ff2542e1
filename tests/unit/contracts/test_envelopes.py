"""The internal envelopes: what the supervisor writes is exactly what the agents' request models accept."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from pydantic import ValidationError

from riskmesh.contracts import (
    ActionRequest,
    AgentVerdict,
    AggregatedDecision,
    AggregationRequest,
    AssessBatchReply,
    AssessBatchRequest,
    AssessBatchResponse,
    Reason,
    Transaction,
    TxFacts,
    action_request_json,
    aggregation_request_json,
    assess_request_json,
)


@pytest.fixture
def txs(valid_tx) -> list[Transaction]:
    inbound = {**valid_tx, "tx_id": "T2", "type": "deposit", "amount": 12.5}
    return [Transaction.model_validate(valid_tx), Transaction.model_validate(inbound)]


def _verdict(tx_id: str) -> AgentVerdict:
    return AgentVerdict(tx_id=tx_id, agent="fraud", score=0.3, model_version="m", hard_block=True,
                        reasons=[Reason(code="FRAUD_X", agent="fraud", weight=0.3)], evidence={"big": [1, 2, 3]})


def test_the_assess_request_carries_whole_transactions(txs):
    request = AssessBatchRequest.model_validate_json(assess_request_json("B1", txs))
    assert request.batch_id == "B1"
    assert request.transactions == txs


def test_the_aggregation_request_carries_tx_facts_and_verdicts_without_evidence(txs):
    verdicts = {"fraud": [_verdict(t.tx_id) for t in txs]}
    payload = aggregation_request_json("B1", txs, verdicts)
    assert b"evidence" not in payload and b"device" not in payload
    request = AggregationRequest.model_validate_json(payload)
    assert request.transactions == [TxFacts.model_validate(t) for t in txs]
    assert request.transactions[1].amount == txs[1].amount and request.transactions[1].type == "deposit"
    got = request.verdicts["fraud"][0]
    assert (got.score, got.hard_block, got.reasons) == (0.3, True, verdicts["fraud"][0].reasons)


def test_the_action_request_carries_tx_facts_decisions_and_the_batch_time(txs):
    decided_at = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    decisions = [AggregatedDecision(tx_id=t.tx_id, decision="review", risk_score=0.6) for t in txs]
    payload = action_request_json("B1", decided_at, "p-1", txs, decisions)
    assert orjson.loads(payload)["decided_at"] == "2026-01-02T03:04:05.678Z"
    request = ActionRequest.model_validate_json(payload)
    assert (request.decided_at, request.policy_version, request.decisions) == (decided_at, "p-1", decisions)
    assert [t.debtor.account_id for t in request.transactions] == [t.debtor.account_id for t in txs]


def test_tx_facts_are_validated_like_a_transaction_and_refuse_other_fields(txs):
    facts = orjson.loads(TxFacts.model_validate(txs[0]).model_dump_json())
    with pytest.raises(ValidationError, match="currency"):
        TxFacts.model_validate_json(orjson.dumps({**facts, "currency": "XXQ"}))
    with pytest.raises(ValidationError, match="amount"):
        TxFacts.model_validate_json(orjson.dumps({**facts, "amount": "-1"}))
    with pytest.raises(ValidationError, match="channel"):
        TxFacts.model_validate_json(orjson.dumps({**facts, "channel": "wire"}))


def test_the_supervisor_reads_an_analysis_reply_without_its_evidence(txs):
    reply = AssessBatchResponse(batch_id="B1", agent="fraud", model_version="m",
                                verdicts=[_verdict(t.tx_id) for t in txs]).model_dump_json()
    read = AssessBatchReply.model_validate_json(reply)
    assert [v.tx_id for v in read.verdicts] == [t.tx_id for t in txs]
    assert not hasattr(read.verdicts[0], "evidence")
    with pytest.raises(ValidationError, match="score"):
        AssessBatchReply.model_validate_json(reply.replace('"score":0.3', '"score":3.0', 1))
