"""Labelled fraud and AML patterns, injected into the stream at their own base rates.

`PATTERN_RATES` is the chance, per normal transaction, that an episode of the pattern starts;
the builders live in `fraud` (is_fraud) and `aml` (is_suspicious_aml). With the stream's
look-alikes and pay days, about 1% of transactions are fraud and 0.7% AML-suspicious.
"""

from __future__ import annotations

from bisect import bisect
from collections.abc import Callable
from itertools import accumulate

from riskmesh.orchestrator.synth import aml, fraud
from riskmesh.orchestrator.synth.kit import Episode, Kit

__all__ = ["FRAUD_PATTERNS", "PATTERN_RATES", "PatternBook"]

#: Episodes started per normal transaction, per pattern (mean transactions per episode in comments).
PATTERN_RATES: dict[str, float] = {
    "account_takeover": 0.0012,  # 2.2 transactions, fraud
    "card_testing": 0.00035,  # 11, fraud
    "app_scam": 0.0015,  # 1.5, fraud
    "credit_bust_out": 0.00012,  # 9, fraud
    "mule": 0.00022,  # 9, AML (pass-through legs also fraud)
    "mule_ring": 0.00008,  # 25, AML (forwarding legs also fraud)
    "structuring": 0.0004,  # 5, AML
    "sanctions_exposure": 0.0004,  # 1.25, AML
    "high_risk_jurisdiction": 0.0006,  # 1.25, AML
}
FRAUD_PATTERNS = frozenset({"account_takeover", "card_testing", "app_scam", "credit_bust_out"})
"""Patterns whose every transaction is fraud; mule and mule_ring legs are fraud only when money leaves."""

_BUILDERS: dict[str, Callable[[Kit, int], Episode]] = {
    "account_takeover": fraud.account_takeover,
    "card_testing": fraud.card_testing,
    "app_scam": fraud.app_scam,
    "credit_bust_out": fraud.credit_bust_out,
    "mule": aml.mule,
    "mule_ring": aml.mule_ring,
    "structuring": aml.structuring,
    "sanctions_exposure": aml.sanctions_exposure,
    "high_risk_jurisdiction": aml.high_risk_jurisdiction,
}


class PatternBook:
    """Chooses and builds pattern episodes; shares the stream's random generator through `kit`."""

    def __init__(self, kit: Kit, rates: dict[str, float] | None = None) -> None:
        self._kit = kit
        rates = dict(PATTERN_RATES if rates is None else rates)
        if not kit.screened:
            rates.pop("sanctions_exposure", None)
        names = [n for n in _BUILDERS if rates.get(n, 0.0) > 0.0]
        self._builders = [_BUILDERS[n] for n in names]
        self._cum = list(accumulate(rates[n] for n in names))
        self.total_rate = self._cum[-1] if self._cum else 0.0

    def episode(self, start: int) -> Episode:
        """One episode of a pattern chosen in proportion to its rate."""
        i = min(len(self._builders) - 1, bisect(self._cum, self._kit.rng.random() * self.total_rate))
        return self._builders[i](self._kit, start)
