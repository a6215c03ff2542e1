"""A seeded synthetic bank: reference data (`World`), a labelled transaction stream, bad payloads.

    world = World.generate(seed=7, customers=2000)
    world.write(Path(".riskmesh/world"))
    stream = TransactionStream(world, seed=7)
    lines = stream.take_json(10_000)      # contract-valid JSON bytes, fast path
    txs = stream.take(100)                # validated Transaction models, labelled
    write_dataset(Path("data"), customers=3000, days=30, seed=42, split_day=20)  # files for training

The acting customer is always where the money moves from or to: for outgoing transfers, payments,
card purchases and withdrawals it is the debtor; for deposits, refunds, loan disbursements and
mule fan-in it is the creditor (the debtor is then a cash point, a merchant, the loan book or a sender).
"""

from riskmesh.orchestrator.synth.bad import BAD_KINDS, bad_messages
from riskmesh.orchestrator.synth.dataset import write_dataset
from riskmesh.orchestrator.synth.lookalikes import LOOKALIKE_RATES
from riskmesh.orchestrator.synth.patterns import FRAUD_PATTERNS, PATTERN_RATES
from riskmesh.orchestrator.synth.stream import DEFAULT_START, TransactionStream
from riskmesh.orchestrator.synth.world import World

__all__ = [
    "BAD_KINDS",
    "DEFAULT_START",
    "FRAUD_PATTERNS",
    "LOOKALIKE_RATES",
    "PATTERN_RATES",
    "TransactionStream",
    "World",
    "bad_messages",
    "write_dataset",
]
