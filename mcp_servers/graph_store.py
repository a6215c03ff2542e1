"""The risk graph of customers, accounts, devices, IPs and payees: the port and its in-memory backend.

Nodes are typed ids `kind:id` (kind in customer | account | device | ip). Edges of a `networkx.DiGraph`:
- `owns` customer ▶ account and `uses` account/customer ▶ device/ip, stored both ways (associations);
- `pays` debtor account ▶ creditor account, one edge per pair with count, amount and last time.

Seeded from reference data (accounts ▶ customers, devices.jsonl, frozen accounts as known-bad) and
updated from the stream by `observe` (idempotent per tx_id). Time is *stream time*: the latest
transaction time observed, so windows are reproducible on replayed data. Queries are bounded:
BFS stops at `max_hops`, never expands hubs (nodes with more than `hub_degree` neighbours) and
visits at most `max_visits` nodes. State lives for the process lifetime only; production would put
the same port in front of a graph database (Neo4j, Neptune, TigerGraph) shared by every replica.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import networkx as nx

from riskmesh.mcp_servers.stores import ReferenceData

__all__ = ["GraphStore", "GraphTx", "MemoryGraphStore", "node_id"]

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
NODE_KINDS = ("customer", "account", "device", "ip")


def node_id(kind: str, ident: str) -> str:
    return f"{kind}:{ident}"


@dataclass(frozen=True, slots=True)
class GraphTx:
    """The slice of a transaction the graph needs."""

    tx_id: str
    ts_ms: int
    debtor: str
    creditor: str
    amount: float
    device_id: str | None = None
    ip: str | None = None


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
    """The graph in this process (networkx). Not shared between processes or replicas."""

    def __init__(
        self,
        *,
        max_hops: int = 4,
        cycle_hops: int = 4,
        hub_degree: int = 200,
        max_visits: int = 2_000,
        window_events: int = 256,
        seen_capacity: int = 1_000_000,
    ) -> None:
        self.graph: nx.DiGraph = nx.DiGraph()
        self.bad: dict[str, str] = {}
        self.max_hops, self.cycle_hops = max_hops, cycle_hops
        self.hub_degree, self.max_visits = hub_degree, max_visits
        self.now_ms = 0
        self._payees: dict[str, set[str]] = {}  # payment adjacency, kept beside the graph for fast BFS
        self._payers: dict[str, set[str]] = {}
        self._events: dict[str, deque[tuple[int, float, str, int]]] = {}  # account ▶ (ts, amount, other, ±1)
        self._window_events = window_events
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._seen_capacity = seen_capacity
        self._bad_distance: dict[str, tuple[int, str]] = {}  # node ▶ (hops, nearest bad node)

    # -- writes ---------------------------------------------------------------------------------

    def seed(self, data: ReferenceData) -> None:
        """Ownership and device links of the reference data; frozen accounts become known-bad."""
        for account in data.accounts.values():
            self._link(node_id("customer", account.customer_id), node_id("account", account.account_id), "owns")
        for device in data.devices.values():
            for customer_id in device.customer_ids:
                self._link(node_id("customer", customer_id), node_id("device", device.device_id), "uses")
        frozen = {
            node_id("account", a.account_id): "account frozen in reference data"
            for a in data.accounts.values()
            if a.status == "frozen"
        }
        self._flag(frozen)

    def _link(self, a: str, b: str, kind: str) -> None:
        for node in (a, b):
            if node not in self.graph:
                self.graph.add_node(node, kind=node.split(":", 1)[0])
        self.graph.add_edge(a, b, kind=kind)
        self.graph.add_edge(b, a, kind=kind)

    async def observe(self, transactions: Sequence[GraphTx]) -> int:
        new = 0
        touched: list[str] = []
        for tx in transactions:
            if tx.tx_id in self._seen:
                continue
            self._remember(tx.tx_id)
            new += 1
            debtor, creditor = node_id("account", tx.debtor), node_id("account", tx.creditor)
            for node in (debtor, creditor):
                if node not in self.graph:
                    self.graph.add_node(node, kind="account")
            self._payees.setdefault(debtor, set()).add(creditor)
            self._payers.setdefault(creditor, set()).add(debtor)
            edge = self.graph.get_edge_data(debtor, creditor)
            if edge is None:
                self.graph.add_edge(debtor, creditor, kind="pays", count=1, amount=tx.amount, last_ms=tx.ts_ms)
            elif edge["kind"] == "pays":
                edge["count"] += 1
                edge["amount"] += tx.amount
                edge["last_ms"] = max(edge["last_ms"], tx.ts_ms)
            for kind, ident in (("device", tx.device_id), ("ip", tx.ip)):
                if ident:
                    self._link(debtor, node_id(kind, ident), "uses")
                    touched.append(node_id(kind, ident))
            touched += [debtor, creditor]
            self._event(tx.debtor, (tx.ts_ms, tx.amount, tx.creditor, -1))
            self._event(tx.creditor, (tx.ts_ms, tx.amount, tx.debtor, +1))
            self.now_ms = max(self.now_ms, tx.ts_ms)
        if self._bad_distance:
            self._relax(touched)
        return new

    def _remember(self, tx_id: str) -> None:
        self._seen[tx_id] = None
        if len(self._seen) > self._seen_capacity:
            self._seen.popitem(last=False)

    def _event(self, account: str, event: tuple[int, float, str, int]) -> None:
        events = self._events.get(account)
        if events is None:
            events = self._events[account] = deque(maxlen=self._window_events)
        events.append(event)

    async def mark_bad(self, nodes: Mapping[str, str]) -> int:
        return self._flag(nodes)

    def _flag(self, nodes: Mapping[str, str]) -> int:
        fresh = {n: r for n, r in nodes.items() if n not in self.bad}
        for node in fresh:
            if node not in self.graph:
                self.graph.add_node(node, kind=node.split(":", 1)[0])
            self._bad_distance[node] = (0, node)
        self.bad.update(fresh)
        self._relax(fresh)
        return len(fresh)

    # -- reads ----------------------------------------------------------------------------------

    async def features(self, items: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
        distances = self._bad_distance
        memo: dict[str, dict[str, Any]] = {}
        out: dict[str, dict[str, Any]] = {}
        for item in items:
            account = str(item["account_id"])
            base = memo.get(account)
            if base is None:
                base = memo[account] = self._account_features(account, distances)
            feats = dict(base)
            feats["accounts_sharing_device"] = self._sharing(item.get("device_id"), "device", account)
            feats["accounts_sharing_ip"] = self._sharing(item.get("ip"), "ip", account)
            found = [distances.get(node_id(k, str(v))) for k, v in self._item_nodes(item)]
            best = min((d for d in found if d is not None), default=None)
            feats["distance_to_bad"] = best[0] if best else None
            feats["nearest_bad"] = best[1] if best else None
            feats["nearest_bad_reason"] = self.bad.get(best[1]) if best else None
            out[str(item["ref"])] = feats
        return out

    @staticmethod
    def _item_nodes(item: Mapping[str, Any]) -> Iterable[tuple[str, Any]]:
        yield "account", item["account_id"]
        for kind, key in (("device", "device_id"), ("ip", "ip"), ("account", "counterparty_account_id")):
            if item.get(key):
                yield kind, item[key]

    def _account_features(self, account: str, distances: Mapping[str, tuple[int, str]]) -> dict[str, Any]:
        node = node_id("account", account)
        known = node in self.graph
        pays_out = self._payees.get(node, set())
        pays_in = self._payers.get(node, set())
        since = self.now_ms - DAY_MS
        recent = [e for e in self._events.get(account, ()) if e[0] >= since]
        in_amount = sum(e[1] for e in recent if e[3] > 0)
        out_amount = sum(e[1] for e in recent if e[3] < 0)
        cycle = self._cycle_length(node) if known else None
        return {
            "known": known,
            "fan_in": len(pays_in),
            "fan_out": len(pays_out),
            "fan_in_24h": len({e[2] for e in recent if e[3] > 0}),
            "fan_out_24h": len({e[2] for e in recent if e[3] < 0}),
            "in_amount_24h": round(in_amount, 2),
            "out_amount_24h": round(out_amount, 2),
            "pass_through_ratio": round(out_amount / in_amount, 4) if in_amount > 0 else None,
            "in_cycle": cycle is not None,
            "cycle_length": cycle,
            "is_bad": node in self.bad,
        }

    def _sharing(self, ident: Any, kind: str, account: str) -> int:
        """Other accounts linked to a device / IP, directly or through the customers using it."""
        node = node_id(kind, str(ident)) if ident else None
        if node is None or node not in self.graph:
            return 0
        accounts: set[str] = set()
        for neighbour in self.graph.successors(node):
            if neighbour.startswith("account:"):
                accounts.add(neighbour)
            elif neighbour.startswith("customer:") and self.graph.degree(neighbour) <= 2 * self.hub_degree:
                accounts.update(n for n in self.graph.successors(neighbour) if n.startswith("account:"))
        accounts.discard(node_id("account", account))
        return len(accounts)

    def _cycle_length(self, start: str) -> int | None:
        """Length of the shortest payment cycle through `start` (≤ cycle_hops): meet in the middle.

        Level sets forward over payees and backward over payers, each to about half the bound:
        a node at forward level i and backward level j closes a walk start ▶ … ▶ start of i + j
        hops, which holds a cycle through `start` at most that long. Set algebra keeps it in C.
        """
        if not self._payers.get(start) or not self._payees.get(start):
            return None
        ahead = self._levels(start, self._payees, self.cycle_hops // 2 + self.cycle_hops % 2)
        behind = self._levels(start, self._payers, self.cycle_hops // 2)
        pairs = sorted(
            (i + j, i, j) for i in range(1, len(ahead)) for j in range(1, len(behind)) if i + j <= self.cycle_hops
        )
        for length, i, j in pairs:
            if not ahead[i].isdisjoint(behind[j]):
                return length
        return None

    def _levels(self, start: str, adjacency: Mapping[str, set[str]], hops: int) -> list[set[str]]:
        """Nodes first reached at each level 0..hops (hubs reached but not expanded; `start` excluded)."""
        levels = [{start}]
        seen = {start}
        for _ in range(hops):
            expandable = [adjacency.get(n, set()) for n in levels[-1]]
            reached = set().union(*(a for a in expandable if len(a) <= self.hub_degree or levels[-1] == {start}))
            reached -= seen
            if not reached:
                break
            seen |= reached
            levels.append(reached)
            if len(seen) >= self.max_visits:
                break
        return levels

    def _relax(self, sources: Iterable[str]) -> None:
        """Lower distances to known-bad nodes after edges or bad nodes were added (decrease-only BFS).

        Edges are only ever added, so a distance can only shrink: propagating from the touched
        nodes keeps every distance exact within `max_hops` without recomputing the whole map.
        Hubs get a distance but do not pass it on (a popular merchant does not link its payers).
        """
        queue = deque(n for n in dict.fromkeys(sources) if n in self._bad_distance)
        while queue:
            node = queue.popleft()
            hops, origin = self._bad_distance[node]
            if hops >= self.max_hops or node not in self.graph or self._is_hub(node):
                continue
            for nxt in (*self.graph.succ[node], *self.graph.pred[node]):
                known = self._bad_distance.get(nxt)
                if known is None or known[0] > hops + 1:
                    self._bad_distance[nxt] = (hops + 1, origin)
                    queue.append(nxt)

    def _is_hub(self, node: str) -> bool:
        return len(self.graph.succ[node]) + len(self.graph.pred[node]) > 2 * self.hub_degree

    async def neighbourhood(self, node: str, depth: int, max_nodes: int) -> dict[str, Any]:
        if node not in self.graph:
            return {"node": node, "found": False, "nodes": [], "edges": []}
        seen = {node: 0}
        frontier = [node]
        for hops in range(1, depth + 1):
            following = []
            for current in frontier:
                for nxt in (*self.graph.successors(current), *self.graph.predecessors(current)):
                    if nxt not in seen and len(seen) < max_nodes:
                        seen[nxt] = hops
                        following.append(nxt)
            frontier = following
        nodes = [
            {"id": n, "kind": self.graph.nodes[n].get("kind"), "hops": h, "bad": self.bad.get(n)}
            for n, h in seen.items()
        ]
        edges = [
            {"source": a, "target": b, **attrs}
            for a, b, attrs in self.graph.subgraph(seen).edges(data=True)
            if attrs.get("kind") == "pays" or a < b
        ]
        return {"node": node, "found": True, "nodes": nodes, "edges": edges}
