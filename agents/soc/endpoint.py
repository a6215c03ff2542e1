"""endpoint-forensics agent: the investigated customers' devices, what ran on them, where logins came from.

Steps: `devices` (devices seen for the entities, new device registrations), `processes` (each device's
events: malware detections, unsigned sideloaded or temp-folder binaries, credential access, C2 lookups
and connections), `logins` (successful logins from a newly registered device or from an infected one).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from riskmesh.agents.soc.base import ENTITY_KINDS, Event, Progress, Specialist, ind, of_kinds
from riskmesh.contracts.investigation import Finding, Indicator, InvestigationRequest

__all__ = ["EndpointForensicsAgent"]

Record = dict[str, Any]
_SUSPICIOUS_PATHS = ("\\appdata\\local\\temp\\", "\\downloads\\", "/users/shared/", "/tmp/")  # noqa: S108 (matched, not used)
_SIDELOADERS = ("com.android.packageinstaller",)
_THEFT = ("credential_access", "accessibility_grant")
_LOGIN_KINDS = ("account", "customer", "user", "device")


class EndpointForensicsAgent(Specialist):
    name = "endpoint-forensics"

    async def investigate(self, request: InvestigationRequest) -> AsyncIterator[Event]:
        yield Progress("listing the investigated customers' devices and enrolments…")
        entities = of_kinds(request, ENTITY_KINDS - {"user"})
        seen = await self.records("endpoint_events", request, entities)
        registrations = [e for e in seen if e["kind"] == "device_registration"]
        yield self.batch(request, "devices", [self._new_device(request, e) for e in registrations])

        devices = sorted({e["device_id"] for e in seen if e.get("device_id") and e["kind"] != "device_registration"})
        yield Progress(f"inspecting processes on {len(devices)} device(s)…")
        events = await self.records("endpoint_events", request, [ind("device", d) for d in devices], limit=5000)
        findings, infected = self._processes(request, events)
        yield self.batch(request, "processes", findings)

        yield Progress("matching logins against new and infected devices…")
        logins = await self.records("auth_events", request, of_kinds(request, _LOGIN_KINDS))
        new = {e["device_id"]: e for e in registrations if e.get("device_id")}
        yield self.batch(request, "logins", self._logins(request, logins, new, infected), final=True)

    def _new_device(self, request: InvestigationRequest, e: Record) -> Finding:
        return self.finding(
            request, "new_device", e["device_id"] or e["event_id"],
            f"new device {e['device_id']} enrolled for {e['customer_id']} from {e.get('ip') or 'an unknown IP'} "
            f"at {e['ts']}",
            severity="medium", confidence=0.6, observed_at=e["ts"],
            entities=[ind("device", e["device_id"]), ind("customer", e["customer_id"]),
                      *([ind("ip", e["ip"])] if e.get("ip") else [])],
            evidence={"event": e},
        )  # fmt: skip

    def _processes(self, request: InvestigationRequest, events: list[Record]) -> tuple[list[Finding], dict[str, str]]:
        """Findings per (device, binary) and per C2 domain; `infected` maps device ▶ the first bad event's ts."""
        by_binary: dict[tuple[str, str], list[Record]] = defaultdict(list)
        for e in events:
            if e.get("sha256"):
                by_binary[(e["device_id"], e["sha256"])].append(e)
        findings: list[Finding] = []
        infected: dict[str, str] = {}
        for (device, sha), chain in sorted(by_binary.items()):
            start = chain[0]
            detected = next((e["detection"] for e in chain if e.get("detection")), None)
            unsigned = any(e.get("signed") is False for e in chain)
            odd_place = any(p in str(start.get("path") or "").lower() for p in _SUSPICIOUS_PATHS)
            sideloaded = any(e.get("parent") in _SIDELOADERS for e in chain)
            theft = [e for e in chain if e["kind"] in _THEFT]
            if not detected and not (unsigned and (odd_place or sideloaded)):
                continue
            infected.setdefault(device, start["ts"])
            domains = sorted({e["domain"] for e in chain if e.get("domain")})
            remotes = sorted({e["remote_ip"] for e in chain if e.get("remote_ip")})
            what = detected or f"unsigned {'sideloaded app' if sideloaded else 'binary in a temp folder'}"
            findings.append(self.finding(
                request, "malware_process", f"{device}|{sha}",
                f"{what} ({start.get('process')}) on {start.get('host') or device} of {start['customer_id']} "
                f"at {start['ts']}" + ("; it read stored credentials / took accessibility control" if theft else "")
                + (f"; it contacted {', '.join(domains)}" if domains else ""),
                severity="critical" if detected and theft else "high", confidence=0.9 if detected else 0.65,
                observed_at=start["ts"],
                entities=[ind("device", device), ind("customer", start["customer_id"]), ind("hash", sha),
                          *([ind("host", start["host"])] if start.get("host") else []),
                          *(ind("domain", d) for d in domains), *(ind("ip", r) for r in remotes)],
                evidence={"detection": detected, "process": start.get("process"), "path": start.get("path"),
                          "parent": start.get("parent"), "signed": not unsigned, "chain": chain[:10]},
            ))  # fmt: skip
            for domain in domains:
                contact = next(e for e in chain if e.get("domain") == domain)
                findings.append(self.finding(
                    request, "c2_communication", f"{device}|{domain}",
                    f"{start.get('process')} on {start.get('host') or device} looked up {domain}"
                    + (f" and connected to {contact['remote_ip']}" if contact.get("remote_ip") else ""),
                    severity="high", confidence=0.75, observed_at=contact["ts"],
                    entities=[ind("domain", domain), ind("device", device), ind("hash", sha),
                              *(ind("ip", r) for r in remotes)],
                    evidence={"events": [e for e in chain if e.get("domain") == domain][:5]},
                ))  # fmt: skip
        return findings, infected

    def _logins(self, request: InvestigationRequest, logins: list[Record], new: dict[str, Record],
                infected: dict[str, str]) -> list[Finding]:  # fmt: skip
        out = []
        for e in logins:
            device = e.get("device_id")
            if e["result"] != "success" or not device:
                continue
            if device in new:
                enrolled = new[device]
                out.append(self.finding(
                    request, "login_from_new_device", e["event_id"],
                    f"{e['customer_id']} logged in from device {device} enrolled {enrolled['ts']} via {e['ip']} "
                    f"({e['country']}), user agent {e.get('user_agent') or '?'}",
                    severity="high", confidence=0.75, observed_at=e["ts"], entities=self._entities(e),
                    evidence={"login": e, "enrolment": enrolled},
                ))  # fmt: skip
            elif device in infected and e["ts"] >= infected[device]:
                out.append(self.finding(
                    request, "login_from_infected_host", e["event_id"],
                    f"{e['customer_id']} logged in from {device}, infected since {infected[device]}: "
                    "its credentials and session may be stolen",
                    severity="medium", confidence=0.6, observed_at=e["ts"], entities=self._entities(e),
                    evidence={"login": e},
                ))  # fmt: skip
        return out

    @staticmethod
    def _entities(e: Record) -> list[Indicator]:
        out = [ind("device", e["device_id"]), ind("ip", e["ip"])]
        if e.get("customer_id"):
            out.append(ind("customer", e["customer_id"]))
        return out
