"""The risk graph of customers, accounts, devices, IPs and payees: the port and its in-memory backend.

Nodes are typed ids `kind:id` (kind in customer | account | device | ip). Links:
- associations, undirected: customer ▶ account (`owns`), account or customer ▶ device / ip (`uses`);
- payments, directed: debtor account ▶ creditor account, with count, amount and last time per pair.

Seeded from reference data (accounts ▶ customers, devices.jsonl, frozen accounts as known-bad) and updated from
the stream by `observe` (idempotent per tx_id). Time is *stream time*, the latest transaction time observed, so
windows are reproducible on replayed data.

Every stream-built link lives in a window, as a bank's graph analytics do: payments and device / IP use count
for `window_ms` (30 days) after they were last seen, money flows for 24 hours, and payment rings are looked for
among person-to-person payments (`RING_TYPES`) of the last `ring_window_ms` (7 days), at least `min_cycle`
(3) accounts long. A graph that only grew would, over months, put every account in some cycle and within a
few hops of a known-bad node (a review rate climbing from 15 % to 63 % over 100k synthetic transactions was
measured that way, docs/performance.md). Links from reference data never expire.

Queries are bounded: breadth-first searches stop at `max_hops`, never expand hubs (nodes with more than
`hub_degree` current neighbours) and visit at most `max_visits` nodes. Distances to known-bad nodes only
shrink as links arrive (propagated from the touched nodes); every `rebuild_every` observed transactions the
store drops expired links and recomputes the distances from scratch. State lives for the process lifetime
only; production would put the same port in front of a graph database shared by every replica.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from riskmesh.mcp_servers.graph_window import Flows, Links
from riskmesh.mcp_servers.stores import ReferenceData

__all__ = ["RING_TYPES", "GraphStore", "GraphTx", "MemoryGraphStore", "node_id"]

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
NODE_KINDS = ("customer", "account", "device", "ip")
RING_TYPES: frozenset[str] = frozenset({"transfer", "payment"})
"""Transaction types whose edges can close a payment ring: money sent from one party to another on purpose.
Card purchases, cash, refunds and loan disbursements do not (a refund back from a shop is not a ring)."""


def node_id(kind: str, ident: str) -> str:
    return f"{kind}:{ident}"


@dataclass(frozen=True, slots=True)
class GraphTx:
    """The slice of a transaction the graph needs. `device_id`/`ip` are the debtor's (when it initiated);
    `type` (the transaction type) decides whether the payment can be part of a ring (None: it can)."""

    tx_id: str
    ts_ms: int
    debtor: str
    creditor: str
    amount: float
    device_id: str | None = None
    ip: str | None = None
    type: str | None = None


@runtime_checkable
class GraphStore(Protocol):
    """Where the risk graph lives. Every method takes a whole batch: one round trip each."""

    async def observe(self, transactions: Sequence[GraphTx]) -> int:
        """Add the transactions not seen before (by tx_id); return how many were new."""
        ...

    async def mark_bad(self, nodes: Mapping[str, str]) -> int:
        """Flag typed node ids as known-bad (node ▶ reason); return how many were newly flagged."""
        ...

    async def features(self, items: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
        """Graph features per item ref (items: ref, account_id, device_id?, ip?, counterparty_account_id?)."""
        ...

    async def neighbourhood(self, node: str, depth: int, max_nodes: int) -> dict[str, Any]:
        """Nodes and edges within `depth` hops of `node` (at most `max_nodes` nodes)."""
        ...


class MemoryGraphStore:
    """The graph in this process, in plain dicts (see graph_window). Not shared between processes or replicas."""

    def __init__(
        self,
        *,
        max_hops: int = 4,
        cycle_hops: int = 4,
        min_cycle: int = 3,
        hub_degree: int = 200,
        max_visits: int = 2_000,
        window_ms: int = 30 * DAY_MS,
        ring_window_ms: int = 7 * DAY_MS,
        rebuild_every: int = 20_000,
        seen_capacity: int = 200_000,
    ) -> None:
        self.bad: dict[str, str] = {}
        self.max_hops, self.cycle_hops, self.min_cycle = max_hops, cycle_hops, min_cycle
        self.hub_degree, self.max_visits = hub_degree, max_visits
        self.window_ms, self.ring_window_ms, self.rebuild_every = window_ms, ring_window_ms, rebuild_every
        self.now_ms = 0
        self._assoc: dict[str, Links] = {}  # typed node ▶ associated typed nodes (owns / uses), both ways
        self._pay_out: dict[str, Links] = {}  # account id ▶ payee account ids
        self._pay_in: dict[str, Links] = {}
        self._ring_out: dict[str, Links] = {}  # the same for RING_TYPES payments only
        self._ring_in: dict[str, Links] = {}
        self._flows: dict[str, Flows] = {}
        self._pairs: dict[tuple[str, str], list[Any]] = {}  # (debtor, creditor) ▶ [count, amount, last_ms]
        self._seen: set[str] = set()  # tx ids observed (redeliveries and the second agent's call are no-ops)
        self._seen_order: deque[str] = deque()  # oldest first, to forget beyond `seen_capacity`
        self._seen_capacity = seen_capacity
        self._bad_distance: dict[str, tuple[int, str]] = {}  # typed node ▶ (hops, nearest bad node)
        self._since_rebuild = 0
        self._epoch = 0  # bumped by every change: answers computed at one epoch hold until the next
        self._memo_epoch = -1
        self._account_memo: dict[str, dict[str, Any]] = {}
        self._item_memo: dict[tuple[str, Any, Any, Any], dict[str, Any]] = {}

    # -- writes ---------------------------------------------------------------------------------

    def seed(self, data: ReferenceData) -> None:
        """Ownership and device links of the reference data (permanent); frozen accounts become known-bad."""
        for account in data.accounts.values():
            self._pin(node_id("customer", account.customer_id), node_id("account", account.account_id))
        for device in data.devices.values():
            for customer_id in device.customer_ids:
                self._pin(node_id("customer", customer_id), node_id("device", device.device_id))
        frozen = {
            node_id("account", a.account_id): "account frozen in reference data"
            for a in data.accounts.values()
            if a.status == "frozen"
        }
        self._flag(frozen)

    def _pin(self, a: str, b: str) -> None:
        _links(self._assoc, a).pin(b)
        _links(self._assoc, b).pin(a)

    async def observe(self, transactions: Sequence[GraphTx]) -> int:
        new = 0
        links: list[tuple[str, str]] = []  # the links this batch made or refreshed, as typed node pairs
        for tx in transactions:
            if tx.tx_id in self._seen:
                continue
            self._remember(tx.tx_id)
            new += 1
            ts, debtor, creditor = tx.ts_ms, tx.debtor, tx.creditor
            self.now_ms = max(self.now_ms, ts)
            _links(self._pay_out, debtor).touch(creditor, ts)
            _links(self._pay_in, creditor).touch(debtor, ts)
            if tx.type is None or tx.type in RING_TYPES:
                _links(self._ring_out, debtor).touch(creditor, ts)
                _links(self._ring_in, creditor).touch(debtor, ts)
            pair = self._pairs.get((debtor, creditor))
            if pair is None:
                self._pairs[(debtor, creditor)] = [1, tx.amount, ts]
            else:
                pair[0] += 1
                pair[1] += tx.amount
                pair[2] = max(pair[2], ts)
            _flows(self._flows, debtor).add(ts, tx.amount, creditor, False)
            _flows(self._flows, creditor).add(ts, tx.amount, debtor, True)
            debtor_node = "account:" + debtor
            links.append((debtor_node, "account:" + creditor))
            for kind, ident in (("device:", tx.device_id), ("ip:", tx.ip)):
                if ident:
                    other = kind + ident
                    _links(self._assoc, debtor_node).touch(other, ts)
                    _links(self._assoc, other).touch(debtor_node, ts)
                    links.append((debtor_node, other))
        self._since_rebuild += new
        if new:
            self._epoch += 1
        if self._since_rebuild >= self.rebuild_every:
            self.rebuild()
        elif self._bad_distance:
            self._relax_links(links)
        return new

    def _remember(self, tx_id: str) -> None:
        self._seen.add(tx_id)
        self._seen_order.append(tx_id)
        if len(self._seen_order) > self._seen_capacity:
            self._seen.discard(self._seen_order.popleft())

    async def mark_bad(self, nodes: Mapping[str, str]) -> int:
        return self._flag(nodes)

    def _flag(self, nodes: Mapping[str, str]) -> int:
        fresh = {n: r for n, r in nodes.items() if n not in self.bad}
        if fresh:
            self._epoch += 1
        for node in fresh:
            self._bad_distance[node] = (0, node)
        self.bad.update(fresh)
        self._relax(fresh)
        return len(fresh)

    def rebuild(self) -> None:
        """Drop links and flows that left their windows, then recompute every distance to a known-bad node."""
        self._since_rebuild = 0
        self._epoch += 1
        cutoff, day = self.now_ms - self.window_ms, self.now_ms - DAY_MS
        for table in (self._assoc, self._pay_out, self._pay_in, self._ring_out, self._ring_in):
            for key in [k for k, links in table.items() if not _live_links(links, cutoff)]:
                del table[key]
        for key in [k for k, flows in self._flows.items() if not _live_flows(flows, day)]:
            del self._flows[key]
        for pair_key in [k for k, pair in self._pairs.items() if pair[2] < cutoff]:
            del self._pairs[pair_key]
        self._bad_distance = {node: (0, node) for node in self.bad}
        self._relax(self.bad)

    # -- reads ----------------------------------------------------------------------------------

    async def features(self, items: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
        """Per item ref. Answers are kept until the graph changes: fraud and compliance both record a batch and
        then read it, so the second reader finds the graph as the first left it and most of its answers known."""
        if self._memo_epoch != self._epoch:
            self._memo_epoch, self._account_memo, self._item_memo = self._epoch, {}, {}
        account_memo, item_memo = self._account_memo, self._item_memo
        distances, bad = self._bad_distance, self.bad
        out: dict[str, dict[str, Any]] = {}
        for item in items:
            account = str(item["account_id"])
            device, ip, other = item.get("device_id"), item.get("ip"), item.get("counterparty_account_id")
            key = (account, device, ip, other)
            feats = item_memo.get(key)
            if feats is None:
                base = account_memo.get(account)
                if base is None:
                    base = account_memo[account] = self._account_features(account)
                best = distances.get("account:" + account)
                for node in ("device:" + str(device) if device else None, "ip:" + str(ip) if ip else None,
                             "account:" + str(other) if other else None):
                    found = distances.get(node) if node else None
                    if found is not None and (best is None or found < best):
                        best = found
                feats = item_memo[key] = {
                    **base,
                    "accounts_sharing_device": self._sharing(device, "device", account),
                    "accounts_sharing_ip": self._sharing(ip, "ip", account),
                    "distance_to_bad": best[0] if best else None,
                    "nearest_bad": best[1] if best else None,
                    "nearest_bad_reason": bad.get(best[1]) if best else None,
                }
            out[str(item["ref"])] = feats
        return out

    def _account_features(self, account: str) -> dict[str, Any]:
        node = node_id("account", account)
        cutoff = self.now_ms - self.window_ms
        payers, payees = self._current(self._pay_in, account, cutoff), self._current(self._pay_out, account, cutoff)
        flows = self._flows.get(account)
        if flows is not None:
            flows.expire(self.now_ms - DAY_MS)
        in_amount = flows.in_amount if flows else 0.0
        out_amount = flows.out_amount if flows else 0.0
        known = node in self._assoc or account in self._pay_out or account in self._pay_in
        cycle = self._cycle_length(account) if known else None
        return {
            "known": known,
            "fan_in": len(payers) if payers else 0,
            "fan_out": len(payees) if payees else 0,
            "fan_in_24h": len(flows.payers) if flows else 0,
            "fan_out_24h": len(flows.payees) if flows else 0,
            "in_amount_24h": round(in_amount, 2),
            "out_amount_24h": round(out_amount, 2),
            "pass_through_ratio": round(out_amount / in_amount, 4) if in_amount > 0 else None,
            "in_cycle": cycle is not None,
            "cycle_length": cycle,
            "is_bad": node in self.bad,
        }

    @staticmethod
    def _current(table: Mapping[str, Links], key: str, cutoff: int) -> Links | None:
        links = table.get(key)
        if links is not None:
            links.expire(cutoff)
        return links

    def _sharing(self, ident: Any, kind: str, account: str) -> int:
        """Other accounts linked to a device / IP now, directly or through the customers using it."""
        node = node_id(kind, str(ident)) if ident else None
        users = self._current(self._assoc, node, self.now_ms - self.window_ms) if node else None
        if not users:
            return 0
        accounts: set[str] = set()
        for neighbour in users:
            if neighbour.startswith("account:"):
                accounts.add(neighbour)
            elif neighbour.startswith("customer:"):
                owned = self._assoc.get(neighbour)
                if owned is not None and len(owned) <= self.hub_degree:
                    accounts.update(n for n in owned if n.startswith("account:"))
        accounts.discard(node_id("account", account))
        return len(accounts)

    def _cycle_length(self, start: str) -> int | None:
        """Length of the shortest recent ring of person-to-person payments through `start`, from `min_cycle`
        to `cycle_hops` accounts: meet in the middle.

        Level sets forward over payees and backward over payers, each to about half the bound: a node at
        forward level i and backward level j closes a walk start ▶ … ▶ start of i + j hops, which holds a
        cycle through `start` at most that long. Set algebra keeps it in C.
        """
        cutoff = self.now_ms - self.ring_window_ms
        if not _has_recent(self._ring_in.get(start), cutoff) or not _has_recent(self._ring_out.get(start), cutoff):
            return None
        ahead = self._levels(start, self._ring_out, self.cycle_hops // 2 + self.cycle_hops % 2, cutoff)
        behind = self._levels(start, self._ring_in, self.cycle_hops // 2, cutoff)
        pairs = sorted(
            (i + j, i, j) for i in range(1, len(ahead)) for j in range(1, len(behind))
            if self.min_cycle <= i + j <= self.cycle_hops
        )  # fmt: skip
        for length, i, j in pairs:
            if not ahead[i].isdisjoint(behind[j]):
                return length
        return None

    def _levels(self, start: str, adjacency: Mapping[str, Links], hops: int, cutoff: int) -> list[set[str]]:
        """Accounts first reached at each level 0..hops over links seen since `cutoff` (hubs reached but not
        expanded; `start` excluded)."""
        levels = [{start}]
        seen = {start}
        for _ in range(hops):
            reached: set[str] = set()
            for n in levels[-1]:
                links = adjacency.get(n)
                if links is not None and (n == start or len(links) <= self.hub_degree):
                    reached.update(links.recent(cutoff))
            reached -= seen
            if not reached:
                break
            seen |= reached
            levels.append(reached)
            if len(seen) >= self.max_visits:
                break
        return levels

    def _neighbours(self, node: str) -> Iterator[str]:
        """Every current neighbour of a typed node: its associations and, for an account, its payment links."""
        assoc = self._assoc.get(node)
        if assoc is not None:
            yield from assoc
        if node.startswith("account:"):
            account = node[8:]
            for table in (self._pay_out, self._pay_in):
                links = table.get(account)
                if links is not None:
                    yield from (node_id("account", a) for a in links)

    def _degree(self, node: str) -> int:
        degree = len(self._assoc.get(node) or ())
        if node.startswith("account:"):
            account = node[8:]
            degree += len(self._pay_out.get(account) or ()) + len(self._pay_in.get(account) or ())
        return degree

    def _relax_links(self, links: Iterable[tuple[str, str]]) -> None:
        """Lower distances across links just made: only a link whose one end is closer to a known-bad node than
        the other end minus one changes anything, and only from the end whose distance dropped does it spread."""
        distances = self._bad_distance
        lowered: list[str] = []
        for a, b in links:
            da, db = distances.get(a), distances.get(b)
            if da is None and db is None:
                continue
            for near, far, dn, df in ((a, b, da, db), (b, a, db, da)):
                if dn is not None and dn[0] < self.max_hops and (df is None or df[0] > dn[0] + 1) \
                        and self._degree(near) <= self.hub_degree:
                    distances[far] = (dn[0] + 1, dn[1])
                    lowered.append(far)
        if lowered:
            self._relax(lowered)

    def _relax(self, sources: Iterable[str]) -> None:
        """Lower distances to known-bad nodes after links or bad nodes were added (decrease-only BFS).

        Between rebuilds links are only added, so a distance can only shrink: propagating from the touched
        nodes keeps every distance exact within `max_hops` without recomputing the whole map. Hubs get a
        distance but do not pass it on (a popular merchant does not link its payers).
        """
        distances = self._bad_distance
        queue = deque(n for n in dict.fromkeys(sources) if n in distances)
        while queue:
            node = queue.popleft()
            hops, origin = distances[node]
            if hops >= self.max_hops or self._degree(node) > self.hub_degree:
                continue
            for nxt in self._neighbours(node):
                known = distances.get(nxt)
                if known is None or known[0] > hops + 1:
                    distances[nxt] = (hops + 1, origin)
                    queue.append(nxt)

    def pair(self, debtor: str, creditor: str) -> dict[str, Any] | None:
        """The payments from one account to another still in the window: count, amount, last time."""
        found = self._pairs.get((debtor, creditor))
        return None if found is None else {"count": found[0], "amount": found[1], "last_ms": found[2]}

    async def neighbourhood(self, node: str, depth: int, max_nodes: int) -> dict[str, Any]:
        if not self._known_node(node):
            return {"node": node, "found": False, "nodes": [], "edges": []}
        seen = {node: 0}
        frontier = [node]
        for hops in range(1, depth + 1):
            following = []
            for current in frontier:
                for nxt in self._neighbours(current):
                    if nxt not in seen and len(seen) < max_nodes:
                        seen[nxt] = hops
                        following.append(nxt)
            frontier = following
        nodes = [{"id": n, "kind": n.split(":", 1)[0], "hops": h, "bad": self.bad.get(n)} for n, h in seen.items()]
        edges: list[dict[str, Any]] = []
        for n in seen:
            for other in self._assoc.get(n) or ():
                if n < other and other in seen:
                    kinds = {n.split(":", 1)[0], other.split(":", 1)[0]}
                    edges.append({"source": n, "target": other, "kind": "owns" if "customer" in kinds
                                  and "account" in kinds else "uses"})
            if n.startswith("account:"):
                for payee in self._pay_out.get(n[8:]) or ():
                    target = node_id("account", payee)
                    if target in seen:
                        edges.append({"source": n, "target": target, "kind": "pays",
                                      **(self.pair(n[8:], payee) or {})})
        return {"node": node, "found": True, "nodes": nodes, "edges": edges}

    def _known_node(self, node: str) -> bool:
        if node in self._assoc or node in self.bad:
            return True
        return node.startswith("account:") and (node[8:] in self._pay_out or node[8:] in self._pay_in)


def _links(table: dict[str, Links], key: str) -> Links:
    links = table.get(key)
    if links is None:
        links = table[key] = Links()
    return links


def _flows(table: dict[str, Flows], key: str) -> Flows:
    flows = table.get(key)
    if flows is None:
        flows = table[key] = Flows()
    return flows


def _live_links(links: Links, cutoff: int) -> bool:
    """Expire `links`; True when something is left (the sweep keeps it)."""
    links.expire(cutoff)
    return bool(links)


def _live_flows(flows: Flows, cutoff: int) -> bool:
    flows.expire(cutoff)
    return bool(flows)


def _has_recent(links: Links | None, cutoff: int) -> bool:
    return links is not None and next(links.recent(cutoff), None) is not None
