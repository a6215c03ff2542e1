"""Sliding-window building blocks of the risk graph: links that expire and 24-hour flows, all amortised O(1).

Stream time only moves forward, and links are refreshed when they are seen again, so each structure keeps
its entries in order of last update (a dict re-inserted on update is ordered that way): expiring is popping
from the front until an entry is recent enough. Every count the features need is then a `len`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

__all__ = ["Flows", "Links"]


class Links:
    """Neighbours with the time each link was last seen; links older than the window drop out.

    `permanent` links (from reference data: an owner's account, a registered device) never expire.
    """

    __slots__ = ("_last", "permanent")

    def __init__(self) -> None:
        self._last: dict[str, int] = {}
        self.permanent: set[str] | None = None

    def touch(self, other: str, ts_ms: int) -> None:
        last = self._last.pop(other, None)
        self._last[other] = ts_ms if last is None else max(last, ts_ms)

    def pin(self, other: str) -> None:
        if self.permanent is None:
            self.permanent = set()
        self.permanent.add(other)

    def expire(self, cutoff_ms: int) -> None:
        last = self._last
        while last:
            other = next(iter(last))
            if last[other] >= cutoff_ms:
                return
            del last[other]

    def last_seen(self, other: str) -> int | None:
        return self._last.get(other)

    def recent(self, cutoff_ms: int) -> Iterator[str]:
        """Neighbours linked at or after `cutoff_ms`, newest first (permanent links are not "recent")."""
        last = self._last
        for other in reversed(last):
            if last[other] < cutoff_ms:
                return
            yield other

    def __len__(self) -> int:
        """Distinct neighbours, linked recently or permanently (call `expire` first)."""
        if not self.permanent:
            return len(self._last)
        return len(self._last) + sum(1 for p in self.permanent if p not in self._last)

    def __iter__(self) -> Iterator[str]:
        yield from self._last
        if self.permanent:
            yield from (p for p in self.permanent if p not in self._last)

    def __bool__(self) -> bool:
        return bool(self._last) or bool(self.permanent)


class Flows:
    """One account's money in and out over the last 24 hours: sums and distinct counterparties, kept running."""

    __slots__ = ("_events", "in_amount", "out_amount", "payees", "payers")

    def __init__(self) -> None:
        self._events: deque[tuple[int, float, str, bool]] = deque()  # (ts, amount, counterparty, inbound)
        self.in_amount = 0.0
        self.out_amount = 0.0
        self.payers: dict[str, int] = {}  # counterparty ▶ payments in the window
        self.payees: dict[str, int] = {}

    def add(self, ts_ms: int, amount: float, other: str, inbound: bool) -> None:
        self._events.append((ts_ms, amount, other, inbound))
        side = self.payers if inbound else self.payees
        side[other] = side.get(other, 0) + 1
        if inbound:
            self.in_amount += amount
        else:
            self.out_amount += amount

    def expire(self, cutoff_ms: int) -> None:
        events = self._events
        while events and events[0][0] < cutoff_ms:
            _, amount, other, inbound = events.popleft()
            side = self.payers if inbound else self.payees
            left = side[other] - 1
            if left:
                side[other] = left
            else:
                del side[other]
            if inbound:
                self.in_amount -= amount
            else:
                self.out_amount -= amount
        if not events:  # no rounding residue once the window is empty
            self.in_amount = self.out_amount = 0.0

    def __bool__(self) -> bool:
        return bool(self._events)
