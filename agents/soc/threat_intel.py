"""threat-intel agent: the IOC feed's view of the indicators and of what was observed around the entities.

Steps: `ioc-feed` (each ip, domain and hash indicator looked up, with reputation and first/last seen),
`sightings` (feed entries observed around the entities: the IPs that logged into or attacked them, the
hashes, domains and remote IPs on their devices; the server returns matches, never raw logs),
`campaigns` (the matches grouped by the campaigns and malware families the feed tags them with).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from riskmesh.agents.soc.base import Event, Progress, Specialist, ind, indicator_json, of_kinds
from riskmesh.contracts.investigation import Finding, InvestigationRequest, Severity

__all__ = ["ThreatIntelAgent"]

Record = dict[str, Any]
_OBSERVABLES = ("ip", "domain", "hash")
_PIVOTS = ("account", "customer", "user", "device", "host", "ip")
_GROUP_TAGS = ("campaign:", "family:")


def _severity(ioc: Record) -> Severity:
    if ioc.get("reputation") == "malicious":
        return "high" if int(ioc.get("confidence", 0)) >= 75 else "medium"
    return "low" if ioc.get("reputation") == "suspicious" else "info"


class ThreatIntelAgent(Specialist):
    name = "threat-intel"

    async def investigate(self, request: InvestigationRequest) -> AsyncIterator[Event]:
        observables = of_kinds(request, _OBSERVABLES)
        yield Progress(f"looking {len(observables)} indicator(s) up in the IOC feed…")
        matched: dict[tuple[str, str], Record] = {}
        findings: list[Finding] = []
        if observables:
            answer = await self.call("ioc_lookup", {"indicators": indicator_json(observables)})
            for ioc in answer.get("matches", []):
                matched[(ioc["kind"], ioc["value"])] = ioc
                findings.append(self._match(request, ioc, "ioc_match", []))
        yield self.batch(request, "ioc-feed", findings)

        pivots = of_kinds(request, _PIVOTS)
        yield Progress("looking for feed entries observed around the investigated entities…")
        sightings: list[Record] = []
        if pivots:
            answer = await self.call("ioc_sightings", {
                "indicators": indicator_json(pivots), "window_start": request.window_start.isoformat(),
                "window_end": request.window_end.isoformat(),
            })  # fmt: skip
            sightings = list(answer.get("sightings", []))
        findings = []
        for seen in sightings:
            ioc = seen["ioc"]
            if (ioc["kind"], ioc["value"]) in matched:
                continue
            matched[(ioc["kind"], ioc["value"])] = ioc
            findings.append(self._match(request, ioc, "ioc_sighting", seen["entities"], seen))
        yield self.batch(request, "sightings", findings)

        yield Progress("grouping matches by campaign and malware family…")
        yield self.batch(request, "campaigns", self._campaigns(request, list(matched.values())), final=True)

    def _match(self, request: InvestigationRequest, ioc: Record, kind: str, around: list[Record],
               seen: Record | None = None) -> Finding:  # fmt: skip
        where = ""
        if seen is not None:
            names = ", ".join(f"{e['kind']} {e['value']}" for e in around[:4])
            where = f"; seen {seen['count']} times around {names} ({seen['first']} … {seen['last']})"
        return self.finding(
            request, kind, f"{ioc['kind']}|{ioc['value']}",
            f"{ioc['kind']} {ioc['value']} is {ioc['reputation']} in the IOC feed (confidence {ioc['confidence']}, "
            f"{', '.join(ioc.get('tags', []))}; first seen {ioc['first_seen']}, last seen {ioc['last_seen']})" + where,
            severity=_severity(ioc), confidence=int(ioc.get("confidence", 50)) / 100,
            observed_at=seen["first"] if seen else ioc["last_seen"],
            entities=[ind(ioc["kind"], ioc["value"]), *(ind(e["kind"], e["value"]) for e in around)],
            evidence={"ioc": ioc, **({"sighting": {k: seen[k] for k in ("count", "first", "last")}} if seen else {})},
        )  # fmt: skip

    def _campaigns(self, request: InvestigationRequest, iocs: list[Record]) -> list[Finding]:
        groups: dict[str, list[Record]] = defaultdict(list)
        for ioc in iocs:
            for tag in ioc.get("tags", []):
                if tag.startswith(_GROUP_TAGS):
                    groups[tag].append(ioc)
        out = []
        for tag, members in sorted(groups.items()):
            label, name = tag.split(":", 1)
            kinds = ", ".join(f"{sum(1 for m in members if m['kind'] == k)} {k}" for k in _OBSERVABLES
                              if any(m["kind"] == k for m in members))  # fmt: skip
            out.append(self.finding(
                request, "campaign_attribution", tag,
                f"{kinds} of {'credential-stuffing campaign' if label == 'campaign' else 'malware family'} {name} "
                "in the feed are tied to this investigation",
                severity="high", confidence=min(0.95, 0.6 + 0.1 * len(members)),
                observed_at=min(m["first_seen"] for m in members),
                entities=[ind(m["kind"], m["value"]) for m in members],
                evidence={"tag": tag, "indicators": [m["value"] for m in members]},
            ))  # fmt: skip
        return out
