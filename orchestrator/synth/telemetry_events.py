"""Builders of the SOC telemetry records (see `telemetry` for the files and how they link to the fraud).

All times are integer milliseconds internally and RFC 3339 `...Z` strings in the records. Every draw
comes from the one generator handed in, in a fixed order, so the output is a function of its inputs.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from riskmesh.contracts import Customer, DeviceRecord
from riskmesh.orchestrator.synth import catalog
from riskmesh.orchestrator.synth.kit import DAY, HOUR, MIN, new_ip
from riskmesh.orchestrator.synth.world import World, person_name

__all__ = ["BANK_ENDPOINTS", "Takeover", "TelemetryBuilder", "stamp"]

Json = dict[str, Any]
BANK_ENDPOINTS: dict[str, tuple[str, str, str]] = {
    "online_banking": ("login.riskmesh-bank.example", "198.51.100.10", "/auth/login"),
    "mobile": ("api.riskmesh-bank.example", "198.51.100.20", "/api/v2/session"),
}
"""channel ▶ (host, IP, login path) of the bank's login endpoints (documentation address range)."""
_LOGIN_RATE = {"mobile": 0.25, "desktop": 0.1, "server": 0.2}
_BOT_AGENTS = ("python-requests/2.31.0", "okhttp/4.12.0", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0")
_CAMPAIGN_MS = 3 * DAY
# family ▶ (platform, detection name or None when the SDK misses it, process / package name, C2 words)
_FAMILIES: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "lumma": ("windows", "Trojan:Win32/LummaStealer", "SetupInstaller.exe", ("cdn-telemetry", "lumma-cloud")),
    "redline": ("windows", "Trojan:MSIL/RedLineStealer", "AdobeUpdate.exe", ("update-check", "redgate-sync")),
    "vidar": ("windows", "Trojan:Win32/Vidar", "ChromeSetup_x64.exe", ("steam-profile", "tg-mirror")),
    "amos": ("macos", "OSX/AtomicStealer", "Installer.app", ("mac-store-sync", "icloud-backup-auth")),
    "anatsa": ("android", "Android/Anatsa.Banker", "com.pdf.reader.scanner.pro", ("doc-viewer-api", "anx-push")),
    "hook": ("android", "Android/Hook.RAT", "com.qr.scan.toolkit", ("qr-tools-cdn", "hk-gate")),
    "rogue-mdm": ("ios", "iOS/RogueMDMProfile", "Device Management Profile", ("mdm-enroll", "profile-update")),
}
_TLDS = (".top", ".xyz", ".shop", ".live", ".icu")
_BENIGN = {
    "windows": (("chrome.exe", "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe", "explorer.exe"),
                ("OneDrive.exe", "C:\\Program Files\\Microsoft OneDrive\\OneDrive.exe", "explorer.exe"),
                ("msedge.exe", "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe", "explorer.exe")),
    "macos": (("Safari", "/Applications/Safari.app", "launchd"), ("zoom.us", "/Applications/zoom.us.app", "launchd")),
    "android": (("com.riskmesh.bank", "/data/app/com.riskmesh.bank/base.apk", "zygote64"),
                ("com.whatsapp", "/data/app/com.whatsapp/base.apk", "zygote64")),
    "ios": (("RiskmeshBank", "/var/containers/Bundle/Application/RiskmeshBank.app", "launchd"),),
    "linux": (("firefox", "/usr/lib/firefox/firefox", "systemd"),),
}


@dataclass
class Takeover:
    """One account-takeover episode of a stream: the attacker's device and IP, the victim, when."""

    stream_seed: int
    customer_id: str
    account_id: str
    device_id: str
    ip: str
    user_agent: str
    channel: str
    country: str
    lat: float
    lon: float
    first_ms: int
    tx_ids: tuple[str, ...]


def stamp(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _platform(device: DeviceRecord) -> str:
    agent = str(device.metadata.get("user_agent", ""))
    if "Windows" in agent:
        return "windows"
    if "Macintosh" in agent:
        return "macos"
    if "iPhone" in agent or "iPad" in agent:
        return "ios"
    if "Android" in agent:
        return "android"
    return "linux"


def _host(device: DeviceRecord) -> str:
    tail = device.device_id[2:9].upper()
    kind = str(device.metadata.get("kind", "mobile"))
    return {"desktop": f"DESKTOP-{tail}", "server": f"SRV-{tail}"}.get(kind, f"{_platform(device)}-{tail.lower()}")


class TelemetryBuilder:
    """Accumulates the four record lists; call the steps in order, then `sorted(name)`."""

    def __init__(self, world: World, rng: random.Random, first_ms: int, end_ms: int) -> None:
        self.rng = rng
        self.first_ms, self.end_ms = first_ms, end_ms
        self.customers: dict[str, Customer] = {c.customer_id: c for c in world.customers}
        self.devices_of: dict[str, list[DeviceRecord]] = defaultdict(list)
        for device in world.devices:
            for cid in device.customer_ids:
                self.devices_of[cid].append(device)
        self.records: dict[str, list[Json]] = defaultdict(list)
        self._seq: dict[str, int] = defaultdict(int)
        self._customer_ids = list(self.customers)
        self._flow_hits: defaultdict[tuple[str, int, str], list[tuple[bool, str]]] = defaultdict(list)
        """(source IP, hour, channel) ▶ (success?, country) of each login attempt, for `flows`."""
        self.families = {name: self._family(name, spec) for name, spec in _FAMILIES.items()}

    def sorted(self, name: str) -> list[Json]:
        key = "first_seen" if name == "iocs" else "ts"
        return sorted(self.records[name], key=lambda r: (r[key], r.get("event_id") or r.get("flow_id") or r["value"]))

    # -- records --------------------------------------------------------------------------------------

    def _id(self, prefix: str) -> str:
        self._seq[prefix] += 1
        return f"{prefix}-{self._seq[prefix]:08d}"

    def _geo(self, customer_id: str | None, country: str | None = None) -> tuple[str, float, float]:
        if customer_id is not None and country is None:
            c = self.customers[customer_id]
            city = next((x for x in catalog.CITIES[c.country] if x[0] == c.metadata.get("city")),
                        catalog.CITIES[c.country][0])
            return c.country, city[1], city[2]
        where = country or "US"
        _, lat, lon = catalog.CITIES.get(where, catalog.CITIES["US"])[0]
        return where, lat, lon

    def auth(self, ms: int, user: str, customer_id: str | None, ip: str, ok: bool, reason: str, *,
             device_id: str | None = None, agent: str = "", channel: str = "online_banking",
             geo: tuple[str, float, float] | None = None) -> None:
        country, lat, lon = geo or self._geo(customer_id)
        host, _, path = BANK_ENDPOINTS[channel if channel in BANK_ENDPOINTS else "online_banking"]
        self.records["auth_events"].append({
            "event_id": self._id("AU"), "ts": stamp(ms), "user": user, "customer_id": customer_id, "ip": ip,
            "device_id": device_id, "user_agent": agent, "channel": channel, "result": "success" if ok else "failure",
            "reason": reason, "country": country, "lat": lat, "lon": lon, "endpoint": f"https://{host}{path}",
        })  # fmt: skip
        self._flow_hits[(ip, ms // HOUR, channel)].append((ok, country))

    def endpoint(self, ms: int, device: DeviceRecord | None, customer_id: str, kind: str, **fields: Any) -> None:
        row = {"event_id": self._id("EP"), "ts": stamp(ms), "device_id": device.device_id if device else None,
               "host": _host(device) if device else None, "customer_id": customer_id, "kind": kind, "process": None,
               "path": None, "sha256": None, "parent": None, "signed": None, "domain": None, "remote_ip": None,
               "detection": None, "ip": None}  # fmt: skip
        row.update(fields)
        self.records["endpoint_events"].append(row)

    def ioc(self, kind: str, value: str, reputation: str, confidence: int, tags: list[str], first: int, last: int,
            description: str, source: str = "fs-isac-share") -> None:
        self.records["iocs"].append({
            "kind": kind, "value": value, "reputation": reputation, "confidence": confidence, "tags": tags,
            "sources": [source], "first_seen": stamp(first), "last_seen": stamp(min(last, self.end_ms)),
            "description": description,
        })  # fmt: skip

    def flows(self) -> None:
        """One flow summary per source IP, hour and endpoint: requests, 401s and bytes."""
        rng = self.rng
        for (ip, hour, channel), hits in sorted(self._flow_hits.items()):
            host, dst, _ = BANK_ENDPOINTS[channel if channel in BANK_ENDPOINTS else "online_banking"]
            failures = sum(1 for ok, _ in hits if not ok)
            requests = len(hits) * rng.randint(2, 3) + (rng.randint(3, 25) if failures < len(hits) else 0)
            self.records["network_flows"].append({
                "flow_id": self._id("FL"), "ts": stamp(hour * HOUR), "ts_end": stamp((hour + 1) * HOUR - 1),
                "src_ip": ip, "dst_ip": dst, "dst_port": 443, "host": host, "requests": requests,
                "http_401": failures, "bytes_in": requests * rng.randint(900, 1400),
                "bytes_out": requests * rng.randint(2_000, 9_000), "country": hits[0][1],
            })  # fmt: skip

    # -- normal activity --------------------------------------------------------------------------------

    def normal_activity(self) -> None:
        """Daily logins (with the odd typo), benign processes and a few legitimate new phones."""
        rng = self.rng
        for cid in self._customer_ids:
            user = cid.lower()
            for device in self.devices_of.get(cid, []):
                kind = str(device.metadata.get("kind", "mobile"))
                channel = "mobile" if kind == "mobile" else "online_banking"
                ip, agent, platform = str(device.metadata.get("ip")), str(device.metadata.get("user_agent")), _platform(
                    device)
                for day in range(self.first_ms // DAY, self.end_ms // DAY):
                    if rng.random() < _LOGIN_RATE.get(kind, 0.2):
                        ms = day * DAY + int(rng.triangular(6, 23, 15) * HOUR) + rng.randrange(HOUR)
                        if rng.random() < 0.04:
                            self.auth(ms - rng.randint(5_000, 60_000), user, cid, ip, False, "bad_password",
                                      device_id=device.device_id, agent=agent, channel=channel)
                        how = "password+otp" if channel == "online_banking" else "biometric"
                        self.auth(ms, user, cid, ip, True, how, device_id=device.device_id, agent=agent,
                                  channel=channel)
                    if rng.random() < 0.06:
                        name, path, parent = rng.choice(_BENIGN[platform])
                        self.endpoint(day * DAY + rng.randrange(DAY), device, cid, "process_start", process=name,
                                      path=path, parent=parent, signed=True, sha256=_sha(f"benign:{name}"), ip=ip)
            if rng.random() < 0.03:  # a new phone, enrolled from home
                self._new_phone(cid, user)

    def _new_phone(self, cid: str, user: str) -> None:
        rng = self.rng
        ms = self.first_ms + rng.randrange(self.end_ms - self.first_ms)
        home = self.devices_of.get(cid)
        ip = str(home[0].metadata.get("ip")) if home else new_ip(rng, self.customers[cid].country)
        agent = rng.choice(catalog.USER_AGENTS["mobile"])
        when = datetime.fromtimestamp(ms / 1000, UTC)
        device = DeviceRecord(device_id=f"D-{rng.getrandbits(40):010x}", first_seen=when,
                              customer_ids=[cid], metadata={"kind": "mobile", "ip": ip, "user_agent": agent})
        self.endpoint(ms, device, cid, "device_registration", ip=ip, process="enrolment", signed=True)
        self.auth(ms + 40_000, user, cid, ip, True, "biometric", device_id=device.device_id,
                  agent=str(device.metadata["user_agent"]), channel="mobile")

    # -- the botnet and its victims ------------------------------------------------------------------------

    def takeover_campaigns(self, takeovers: list[Takeover]) -> None:
        """Credential-stuffing waves, infostealers and the takeover logins, and the IOCs that list them."""
        waves: dict[int, list[Takeover]] = defaultdict(list)
        for t in takeovers:
            waves[(t.first_ms - self.first_ms) // _CAMPAIGN_MS].append(t)
        for bucket, group in sorted(waves.items()):
            self._campaign(f"CS-{stamp(self.first_ms + bucket * _CAMPAIGN_MS)[:10].replace('-', '')}", group)

    def _campaign(self, name: str, group: list[Takeover]) -> None:
        rng = self.rng
        start = min(t.first_ms for t in group) - 40 * HOUR
        end = max(t.first_ms for t in group) - HOUR
        extra = [new_ip(rng, rng.choice((*catalog.FRAUDSTER_COUNTRIES, "US", "DE"))) for _ in range(rng.randint(5, 10))]
        bots = list(dict.fromkeys([t.ip for t in group] + extra))
        for ip in extra:
            country = self._bot_country(ip)
            for _ in range(rng.randint(15, 40)):
                self._stuff(start + rng.randrange(end - start), ip, country)
        for t in group:
            self._takeover(t, [b for b in bots if b != t.ip])
        tags = ["botnet", "credential-stuffing", f"campaign:{name}"]
        for ip in bots:
            if rng.random() < 0.7:
                self.ioc("ip", ip, "malicious", rng.randint(60, 95), tags, start - rng.randint(0, 10) * DAY,
                         end + rng.randint(0, 2) * DAY, f"credential-stuffing bot ({name}) against retail banks")

    def _bot_country(self, ip: str) -> str:
        first = int(ip.split(".", 1)[0])
        return next((c for c, prefixes in catalog.IP_PREFIX.items() if first in prefixes), "US")

    def _stuff(self, ms: int, ip: str, country: str, channel: str = "online_banking") -> None:
        """One failed attempt of a bot: a real customer with a leaked password, or a user the bank never had."""
        rng = self.rng
        geo = self._geo(None, country)
        if rng.random() < 0.6:
            cid = rng.choice(self._customer_ids)
            self.auth(ms, cid.lower(), cid, ip, False, "bad_password", agent=rng.choice(_BOT_AGENTS), channel=channel,
                      geo=geo)
        else:
            user = person_name(rng, "US").lower().replace(" ", ".") + str(rng.randint(1, 99))
            self.auth(ms, user, None, ip, False, "unknown_user", agent=rng.choice(_BOT_AGENTS), channel=channel,
                      geo=geo)

    def _takeover(self, t: Takeover, others: list[str]) -> None:
        rng = self.rng
        cid, user = t.customer_id, t.customer_id.lower()
        bot_geo = (t.country, t.lat, t.lon) if t.country else self._geo(None, self._bot_country(t.ip))
        attempts_from = t.first_ms - 40 * HOUR
        for _ in range(rng.randint(12, 30)):  # this bot's share of the wave
            self._stuff(attempts_from + rng.randrange(38 * HOUR), t.ip, bot_geo[0])
        valid = t.first_ms - rng.randint(2 * HOUR, 30 * HOUR)  # the leaked password is validated
        for ip in rng.sample(others, k=min(len(others), rng.randint(1, 2))):
            self.auth(valid - rng.randint(20 * MIN, 4 * HOUR), user, cid, ip, False, "bad_password",
                      agent=rng.choice(_BOT_AGENTS), geo=self._geo(None, self._bot_country(ip)))
        self.auth(valid - rng.randint(10_000, 90_000), user, cid, t.ip, False, "bad_password",
                  agent=rng.choice(_BOT_AGENTS), geo=bot_geo)
        self.auth(valid, user, cid, t.ip, True, "password", agent=rng.choice(_BOT_AGENTS), geo=bot_geo)
        own = self.devices_of.get(cid, [])
        if own:  # the victim's own, ordinary login a few hours before
            home = own[0]
            kind = str(home.metadata.get("kind"))
            mobile = kind == "mobile"
            self.auth(t.first_ms - rng.randint(HOUR, 6 * HOUR), user, cid, str(home.metadata.get("ip")), True,
                      "biometric" if mobile else "password+otp", device_id=home.device_id,
                      agent=str(home.metadata.get("user_agent")), channel="mobile" if mobile else "online_banking")
        enrol = t.first_ms - rng.randint(3 * MIN, 20 * MIN)
        self.endpoint(enrol, None, cid, "device_registration", device_id=t.device_id, host=None, ip=t.ip,
                      process="enrolment", signed=True)
        channel = t.channel if t.channel in BANK_ENDPOINTS else "online_banking"
        self.auth(enrol + rng.randint(30_000, 2 * MIN), user, cid, t.ip, True, "password+sms_otp",
                  device_id=t.device_id, agent=t.user_agent, channel=channel, geo=bot_geo)
        if own:
            self._infect(cid, own, t.first_ms - rng.randint(26 * HOUR, 60 * HOUR))

    # -- infostealers -------------------------------------------------------------------------------------

    def _family(self, name: str, spec: tuple[str, str, str, tuple[str, ...]]) -> Json:
        rng = self.rng
        platform, detection, process, words = spec
        domains = [f"{w}{rng.randint(10, 99)}{rng.choice(_TLDS)}" for w in words]
        return {"name": name, "platform": platform, "detection": detection, "process": process,
                "hashes": [_sha(f"{name}:{rng.getrandbits(64)}") for _ in range(3)], "domains": domains,
                "c2_ips": [new_ip(rng, rng.choice(("RU", "NG", "DE"))) for _ in range(2)], "listed": False}  # fmt: skip

    def _infect(self, cid: str, own: list[DeviceRecord], ms: int) -> None:
        rng = self.rng
        device = next((d for d in own if d.metadata.get("kind") == "desktop"), own[0])
        platform = _platform(device)
        names = [n for n, f in self.families.items() if f["platform"] == platform] or ["lumma"]
        family = self.families[rng.choice(names)]
        sha, domain, c2 = rng.choice(family["hashes"]), rng.choice(family["domains"]), rng.choice(family["c2_ips"])
        detected = family["detection"] if rng.random() < 0.7 else None
        ip = str(device.metadata.get("ip"))
        mobile = platform in ("android", "ios")
        path = (f"/data/app/{family['process']}/base.apk" if platform == "android" else
                "/var/MobileDevice/ProfileInstallation" if platform == "ios" else
                f"/Users/Shared/{family['process']}" if platform == "macos" else
                f"C:\\Users\\user\\AppData\\Local\\Temp\\{family['process']}")  # fmt: skip
        parent = "com.android.packageinstaller" if mobile else "chrome.exe" if platform == "windows" else "launchd"
        self.endpoint(ms, device, cid, "app_install" if mobile else "process_start", process=family["process"],
                      path=path, parent=parent, signed=False, sha256=sha, detection=detected, ip=ip)
        self.endpoint(ms + rng.randint(MIN, 5 * MIN), device, cid,
                      "accessibility_grant" if mobile else "credential_access", process=family["process"],
                      path=path, sha256=sha, signed=False, ip=ip,
                      domain=None, parent=parent)  # fmt: skip
        self.endpoint(ms + rng.randint(5 * MIN, 9 * MIN), device, cid, "dns_query", process=family["process"],
                      sha256=sha, domain=domain, ip=ip)
        self.endpoint(ms + rng.randint(9 * MIN, 15 * MIN), device, cid, "network_connect", process=family["process"],
                      sha256=sha, domain=domain, remote_ip=c2, ip=ip)
        if not family["listed"]:
            family["listed"] = True
            tags = ["infostealer" if not mobile else "banking-trojan", f"family:{family['name']}"]
            first = ms - rng.randint(5, 40) * DAY
            for h in family["hashes"]:
                self.ioc("hash", h, "malicious", 90, tags, first, self.end_ms, f"{family['name']} sample")
            for d in family["domains"]:
                self.ioc("domain", d, "malicious", 85, [*tags, "c2"], first, self.end_ms, f"{family['name']} C2")
            for c in family["c2_ips"]:
                self.ioc("ip", c, "malicious", 80, [*tags, "c2"], first, self.end_ms, f"{family['name']} C2 server")

    # -- unrelated feed entries ------------------------------------------------------------------------------

    def background_iocs(self) -> None:
        """Scanners, TOR exits, phishing kits and other malware: what a real feed mostly holds."""
        rng = self.rng
        span = self.end_ms - self.first_ms
        for _ in range(250):
            kind = rng.choice(("scanner", "tor-exit", "spam", "vpn"))
            reputation = "suspicious" if kind in ("tor-exit", "vpn") else "malicious"
            first = self.first_ms - rng.randint(1, 90) * DAY
            self.ioc("ip", new_ip(rng, rng.choice(list(catalog.IP_PREFIX))), reputation, rng.randint(30, 90), [kind],
                     first, first + rng.randrange(span + 90 * DAY), f"{kind} seen by the feed", "open-threat-feed")
        for _ in range(60):
            first = self.first_ms - rng.randint(1, 60) * DAY
            domain = f"secure-{rng.choice(('bank', 'login', 'verify', 'account'))}-{rng.getrandbits(24):06x}.com"
            self.ioc("domain", domain, "malicious", rng.randint(50, 95), ["phishing"], first, first + 30 * DAY,
                     "phishing kit", "open-threat-feed")
        for _ in range(40):
            first = self.first_ms - rng.randint(1, 120) * DAY
            self.ioc("hash", _sha(f"other:{rng.getrandbits(64)}"), "malicious", rng.randint(60, 95), ["malware"],
                     first, first + 60 * DAY, "commodity malware sample", "open-threat-feed")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
