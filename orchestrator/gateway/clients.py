"""Who may call the risk gateway: clients with hashed secrets, per-skill scopes and a per-client rate limit.

Clients file (JSON or YAML, `RISKMESH_GATEWAY_CLIENTS_FILE`):

    clients:
      - id: payments-gateway
        scopes: [assess, "assess:task", explain, feedback]
        rate_per_s: 500          # token bucket: sustained calls per second ...
        burst: 1000              # ... and how many may come at once
        credentials:
          - {type: bearer, sha256: "<hex SHA-256 of the token>"}
          - {type: api_key, sha256: "<hex SHA-256 of the key>"}

Only SHA-256 digests are stored: the secrets are random 256-bit values (`python -m
riskmesh.orchestrator.gateway.clients new-secret` prints one and its digest), so a slow password hash would
add cost to every call without adding safety. A bearer secret is accepted only as `Authorization: Bearer`, an
API key only as `X-API-Key`. Without a clients file the embedded stack has one `dev` client (every scope) whose
bearer token and API key are both `RISKMESH_GATEWAY_DEV_TOKEN`.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, Field

from riskmesh.orchestrator.gateway.skills import SCOPES

__all__ = [
    "AuthError",
    "Authenticator",
    "ClientConfig",
    "ClientsFile",
    "Credential",
    "Principal",
    "dev_clients",
    "hash_secret",
    "load_clients",
]

log = logging.getLogger("riskmesh.gateway.auth")

CredentialType = Literal["bearer", "api_key"]
DEV_CLIENT_ID = "dev"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class Credential(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: CredentialType
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class ClientConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    scopes: list[Literal["assess", "assess:task", "explain", "feedback"]]
    rate_per_s: float = Field(default=100.0, gt=0)
    burst: int = Field(default=200, ge=1)
    credentials: list[Credential] = Field(min_length=1)


class ClientsFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    clients: list[ClientConfig]


def load_clients(path: Path) -> ClientsFile:
    """The clients of a JSON or YAML file; ValueError naming the file on a bad one."""
    text = path.read_bytes()
    data = orjson.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    try:
        parsed = ClientsFile.model_validate(data)
    except ValueError as exc:
        raise ValueError(f"{path}: not a valid gateway clients file: {exc}") from exc
    ids = [c.id for c in parsed.clients]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{path}: a client id appears twice")
    return parsed


def dev_clients(token: str) -> ClientsFile:
    """The embedded stack's one client: every scope, `token` as bearer token and as API key."""
    digest = hash_secret(token)
    return ClientsFile(clients=[ClientConfig(
        id=DEV_CLIENT_ID, scopes=list(SCOPES), rate_per_s=5000, burst=10000,  # type: ignore[arg-type]
        credentials=[Credential(type="bearer", sha256=digest), Credential(type="api_key", sha256=digest)])])


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated client. Doubles as Starlette's `request.user` (the SDK names task owners after it)."""

    client_id: str
    scopes: frozenset[str]
    scheme: CredentialType

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.client_id

    @property
    def user_name(self) -> str:
        return self.client_id

    @property
    def identity(self) -> str:
        return self.client_id


class AuthError(Exception):
    """A refused call: `status` 401 (no or bad credentials), 403 (missing scope) or 429 (rate limit)."""

    def __init__(self, status: int, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after_s = retry_after_s


@dataclass
class _Bucket:
    rate: float
    burst: float
    tokens: float
    at: float
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, now: float) -> float:
        """0 when a call may go now; otherwise seconds until one may."""
        with self.lock:
            self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
            self.at = now
            if self.tokens >= 1:
                self.tokens -= 1
                return 0.0
            return (1 - self.tokens) / self.rate


class Authenticator:
    """Checks credentials and rate limits; one per process, shared by the HTTP and gRPC bindings."""

    def __init__(self, clients: ClientsFile, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._by_digest: dict[tuple[str, str], ClientConfig] = {}
        self._buckets: dict[str, _Bucket] = {}
        now = clock()
        for client in clients.clients:
            for cred in client.credentials:
                self._by_digest[(cred.type, cred.sha256)] = client
            self._buckets[client.id] = _Bucket(client.rate_per_s, client.burst, client.burst, now)

    @property
    def client_ids(self) -> list[str]:
        return sorted(self._buckets)

    def authenticate(self, headers: Mapping[str, str]) -> Principal:
        """The client behind `authorization: Bearer …` or `x-api-key: …` (lower-case header names).

        AuthError 401 without valid credentials, 429 over the client's rate limit.
        """
        scheme, secret = _presented(headers)
        if secret is None:
            raise AuthError(401, "missing credentials: send 'Authorization: Bearer <token>' or 'X-API-Key: <key>'")
        client = self._by_digest.get((scheme, hash_secret(secret)))
        if client is None:
            raise AuthError(401, f"invalid {'bearer token' if scheme == 'bearer' else 'API key'}")
        wait = self._buckets[client.id].take(self._clock())
        if wait > 0:
            raise AuthError(429, f"rate limit of client {client.id} exceeded ({client.rate_per_s:g}/s)", wait)
        return Principal(client.id, frozenset(client.scopes), scheme)

    def identify(self, headers: Mapping[str, str]) -> Principal | None:
        """The client behind the headers without charging its rate limit (already charged at the edge)."""
        scheme, secret = _presented(headers)
        client = self._by_digest.get((scheme, hash_secret(secret))) if secret is not None else None
        return Principal(client.id, frozenset(client.scopes), scheme) if client is not None else None

    @staticmethod
    def authorize(principal: Principal, needed: frozenset[str], what: str) -> None:
        """AuthError 403 naming the missing scopes."""
        missing = sorted(needed - principal.scopes)
        if missing:
            raise AuthError(403, f"client {principal.client_id} lacks scope {', '.join(missing)} for {what}")


def _presented(headers: Mapping[str, str]) -> tuple[CredentialType, str | None]:
    header = headers.get("authorization")
    if header:
        kind, _, value = header.strip().partition(" ")
        if kind.lower() == "bearer" and value.strip():
            return "bearer", value.strip()
    key = headers.get("x-api-key")
    if key and key.strip():
        return "api_key", key.strip()
    return "bearer", None


def main(argv: list[str] | None = None) -> int:
    """`new-secret`: print a fresh random secret and the SHA-256 digest to put in the clients file."""
    args = sys.argv[1:] if argv is None else argv
    if args != ["new-secret"]:
        sys.stderr.write("usage: python -m riskmesh.orchestrator.gateway.clients new-secret\n")
        return 2
    secret = secrets.token_urlsafe(32)
    sys.stdout.write(orjson.dumps({"secret": secret, "sha256": hash_secret(secret)}).decode() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
