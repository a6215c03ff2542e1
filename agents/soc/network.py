"""network-log agent: authentication logs and network flows around the investigated entities.

Steps: `auth-logs` (the entities' own logins: impossible travel, failures from several sources),
`ip-pivot` (what every source IP of those logins did to all users: credential-stuffing bursts, the
subjects' logins that succeeded from a stuffing IP), `flows` (request and 401 volumes of those IPs at the
bank's login endpoints).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import AsyncIterator
from itertools import pairwise
from typing import Any

from riskmesh.agents.soc.base import ENTITY_KINDS, Event, Progress, Specialist, ind, of_kinds, parse_ts
from riskmesh.contracts.investigation import Finding, Indicator, InvestigationRequest

__all__ = ["NetworkLogAgent"]

Record = dict[str, Any]
STUFFING_MIN_FAILURES = 8
STUFFING_MIN_USERS = 5
TRAVEL_KMH = 1000.0
TRAVEL_MIN_KM = 500.0


def _km(a: Record, b: Record) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a["lat"], a["lon"], b["lat"], b["lon"]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


class NetworkLogAgent(Specialist):
    name = "network-log"

    async def investigate(self, request: InvestigationRequest) -> AsyncIterator[Event]:
        yield Progress("scanning auth logs of the investigated accounts…")
        own = await self.records("auth_events", request, of_kinds(request, ENTITY_KINDS - {"host"}))
        findings, suspects = self._own_logins(request, own)
        subjects = {r["customer_id"] for r in own if r.get("customer_id")}
        yield self.batch(request, "auth-logs", findings)

        ips = list(dict.fromkeys([*(i.value for i in of_kinds(request, ["ip"])), *suspects]))
        yield Progress(f"tracing {len(ips)} source IPs across all users…")
        seen = await self.records("auth_events", request, [ind("ip", ip) for ip in ips], limit=5000)
        stuffing = self._stuffing(request, seen, subjects)
        yield self.batch(request, "ip-pivot", stuffing)

        yield Progress("checking network flows to the login endpoints…")
        flows = await self.records("network_flows", request, [ind("ip", ip) for ip in ips], limit=5000)
        yield self.batch(request, "flows", self._flows(request, flows), final=True)

    # -- the entities' own logins ------------------------------------------------------------------------

    def _own_logins(self, request: InvestigationRequest, rows: list[Record]) -> tuple[list[Finding], list[str]]:
        """Impossible travel and failures from several sources; every IP seen is a suspect for the pivot."""
        findings: list[Finding] = []
        by_customer: dict[str, list[Record]] = defaultdict(list)
        for row in rows:
            by_customer[row.get("customer_id") or row["user"]].append(row)
        for customer, events in by_customer.items():
            findings += self._travel(request, customer, [e for e in events if e["result"] == "success"])
            failures = [e for e in events if e["result"] == "failure"]
            sources = sorted({e["ip"] for e in failures})
            if len(sources) >= 2:
                findings.append(self.finding(
                    request, "failed_logins_many_sources", customer,
                    f"{customer}: {len(failures)} failed logins from {len(sources)} different IPs "
                    f"({', '.join(sorted({e['country'] for e in failures}))})",
                    severity="medium", confidence=0.6, observed_at=failures[0]["ts"],
                    entities=[ind("customer" if events[0].get("customer_id") else "user", customer),
                              *(ind("ip", ip) for ip in sources)],
                    evidence={"failures": failures[-20:]},
                ))  # fmt: skip
        return findings, list(dict.fromkeys(r["ip"] for r in rows))

    def _travel(self, request: InvestigationRequest, customer: str, successes: list[Record]) -> list[Finding]:
        out = []
        ordered = sorted(successes, key=lambda r: r["ts"])
        for a, b in pairwise(ordered):
            km = _km(a, b)
            hours = max((parse_ts(b["ts"]) - parse_ts(a["ts"])).total_seconds() / 3600, 1 / 60)
            if km >= TRAVEL_MIN_KM and km / hours >= TRAVEL_KMH:
                out.append(self.finding(
                    request, "impossible_travel", f"{a['event_id']}>{b['event_id']}",
                    f"{customer}: logins from {a['country']} ({a['ip']}) and {b['country']} ({b['ip']}) "
                    f"{hours:.1f} h apart, {km:,.0f} km: {km / hours:,.0f} km/h",
                    severity="high", confidence=0.75, observed_at=b["ts"],
                    entities=[*self._entities(a), *self._entities(b)],
                    evidence={"from": a, "to": b, "km": round(km), "hours": round(hours, 2)},
                ))  # fmt: skip
        return out

    # -- what the source IPs did to everyone --------------------------------------------------------------

    def _stuffing(self, request: InvestigationRequest, rows: list[Record], subjects: set[str]) -> list[Finding]:
        by_ip: dict[str, list[Record]] = defaultdict(list)
        for row in rows:
            by_ip[row["ip"]].append(row)
        findings = []
        bots = []
        for ip, events in sorted(by_ip.items()):
            failures = [e for e in events if e["result"] == "failure"]
            users = {e["user"] for e in failures}
            if len(failures) < STUFFING_MIN_FAILURES or len(users) < STUFFING_MIN_USERS:
                continue
            bots.append(ip)
            wins = sorted({e["customer_id"] for e in events if e["result"] == "success" and e.get("customer_id")})
            hit = sorted(subjects.intersection(wins))
            unknown = sum(1 for e in failures if e["reason"] == "unknown_user")
            findings.append(self.finding(
                request, "credential_stuffing", ip,
                f"{ip} ({events[0]['country']}) failed {len(failures)} logins against {len(users)} users "
                f"({unknown} unknown to the bank) between {events[0]['ts']} and {events[-1]['ts']}"
                + (f", then got into {', '.join(wins)}" if wins else ""),
                severity="critical" if hit else "high", confidence=min(0.98, 0.6 + len(users) / 100),
                observed_at=events[0]["ts"],
                entities=[ind("ip", ip), *(ind("customer", c) for c in wins)],
                evidence={"failures": len(failures), "users": len(users), "unknown_users": unknown,
                          "successes": wins, "first": events[0]["ts"], "last": events[-1]["ts"],
                          "user_agents": sorted({e["user_agent"] for e in events if e.get("user_agent")})[:5]},
            ))  # fmt: skip
        findings += self._compromised(request, rows, bots, subjects)
        if len(bots) > 1:
            targets = sorted(subjects)
            findings.append(self.finding(
                request, "credential_stuffing_campaign", ",".join(bots),
                f"{len(bots)} IPs ran credential stuffing in the window"
                + (f", including against {', '.join(targets)}" if targets else "")
                + ": a coordinated botnet",
                severity="critical" if targets else "high", confidence=0.85, observed_at=min(
                    f.observed_at for f in findings),
                entities=[*(ind("ip", ip) for ip in bots), *(ind("customer", c) for c in targets)],
                evidence={"ips": bots},
            ))  # fmt: skip
        return findings

    def _compromised(self, request: InvestigationRequest, rows: list[Record], bots: list[str],
                     subjects: set[str]) -> list[Finding]:  # fmt: skip
        """A subject's successful login from a stuffing IP: its password is in the botnet's hands."""
        out = []
        for customer in sorted(subjects):
            theirs = [r for r in rows if r.get("customer_id") == customer]
            wins = [r for r in theirs if r["result"] == "success" and r["ip"] in bots]
            if not wins:
                continue
            first = wins[0]
            failures = [r for r in theirs if r["result"] == "failure" and r["ts"] < first["ts"]]
            devices = sorted({w["device_id"] for w in wins if w.get("device_id")})
            out.append(self.finding(
                request, "account_compromise", customer,
                f"{customer}: login succeeded from botnet IP {first['ip']} ({first['country']}) at {first['ts']} "
                f"after {len(failures)} failed attempts"
                + (f"; the botnet came back with device {', '.join(devices)}" if devices else ""),
                severity="critical", confidence=0.9, observed_at=first["ts"],
                entities=[ind("customer", customer), *(ind("ip", w["ip"]) for w in wins),
                          *(ind("device", d) for d in devices)],
                evidence={"successes": wins, "failures": failures[-20:]},
            ))  # fmt: skip
        return out

    def _flows(self, request: InvestigationRequest, rows: list[Record]) -> list[Finding]:
        by_ip: dict[str, list[Record]] = defaultdict(list)
        for row in rows:
            by_ip[row["src_ip"]].append(row)
        out = []
        for ip, flows in sorted(by_ip.items()):
            requests = sum(f["requests"] for f in flows)
            denied = sum(f["http_401"] for f in flows)
            if denied < STUFFING_MIN_FAILURES / 2 or denied / max(requests, 1) < 0.2:
                continue
            out.append(self.finding(
                request, "login_endpoint_abuse", ip,
                f"{ip} sent {requests} requests to the login endpoints in {len(flows)} active hours, "
                f"{denied} answered 401 ({denied / requests:.0%})",
                severity="high", confidence=0.7, observed_at=flows[0]["ts"], entities=[ind("ip", ip)],
                evidence={"requests": requests, "http_401": denied, "hours": len(flows),
                          "hosts": sorted({f["host"] for f in flows}), "first": flows[0]["ts"],
                          "last": flows[-1]["ts_end"]},
            ))  # fmt: skip
        return out

    @staticmethod
    def _entities(e: Record) -> list[Indicator]:
        out = [ind("ip", e["ip"]), ind("user", e["user"])]
        if e.get("customer_id"):
            out.append(ind("customer", e["customer_id"]))
        if e.get("device_id"):
            out.append(ind("device", e["device_id"]))
        return out
