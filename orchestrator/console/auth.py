"""Who may use the console: users and roles, hashed passwords, sessions, machine tokens, login throttling.

- Passwords are hashed with scrypt (stdlib); the stored form names its parameters, so they can be raised later
  without invalidating existing hashes.
- A session id is 256 random bits handed to the browser in an HttpOnly, SameSite=Strict cookie. The store keeps
  only its SHA-256, with an idle TTL; each session also has an absolute lifetime (one shift) and a CSRF token
  that cookie-authenticated writes must echo in the `X-CSRF-Token` header.
- Machine users authenticate with `Authorization: Bearer rmk_…`; tokens are stored as SHA-256 (they carry 256
  random bits, so a slow hash adds nothing) and shown once, when issued.
- Failed logins are counted per user name and per client address; past the limit, logins answer 429 for a while.

`AuthStore` is the storage port (memory and Redis, one conformance suite); `Authenticator` holds the rules.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Protocol

import redis.asyncio as aioredis

from riskmesh.contracts.review import ROLES, Role
from riskmesh.orchestrator.review.errors import Forbidden, InvalidRequest, ReviewError

__all__ = [
    "PERMISSIONS",
    "AuthStore",
    "Authenticator",
    "MemoryAuthStore",
    "PasswordHasher",
    "Principal",
    "RedisAuthStore",
    "Session",
    "TokenRecord",
    "TooManyAttempts",
    "Unauthenticated",
    "User",
    "has_permission",
    "require",
    "seed_demo_users",
]

Clock = Callable[[], float]

_ANALYST = frozenset({"queue.read", "alert.read", "alert.claim", "alert.note", "alert.decide", "alert.approve",
                      "audit.read", "dashboard.read", "account.read", "control.lift_request", "case.open",
                      "report.generate"})
_SENIOR_CASEWORK = frozenset({"control.lift_approve", "customer.rate"})
"""Four-eyes on control lifts and customer risk ratings (review/controls_desk.py checks the same roles)."""
_INVESTIGATE = frozenset({"investigation.start"})
"""Start a SOC investigation from an alert and follow it (console/investigate_api.py)."""
PERMISSIONS: dict[str, frozenset[str]] = {
    "analyst": _ANALYST | _INVESTIGATE,
    "supervisor": _ANALYST | _SENIOR_CASEWORK | _INVESTIGATE | {"alert.reassign", "queue.escalated"},
    "compliance_officer": _ANALYST | _SENIOR_CASEWORK | {"customer.full", "queue.escalated"},
    "soc_engineer": frozenset({"queue.read", "alert.read", "audit.read", "dashboard.read", "account.read"})
    | _INVESTIGATE,
    "admin": frozenset({"queue.read", "alert.read", "alert.reassign", "queue.escalated", "audit.read",
                        "dashboard.read", "account.read", "users.manage", "tokens.manage", "policy.write"}),
}
"""Role ▶ what the console lets it do. Admins run the system but never decide alerts (separation of duties)."""

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_TOKEN_PREFIX = "rmk_"  # noqa: S105 - a public marker, not a secret


class Unauthenticated(ReviewError):
    code = "unauthenticated"


class TooManyAttempts(ReviewError):
    code = "too_many_attempts"


def has_permission(role: str, permission: str) -> bool:
    return permission in PERMISSIONS.get(role, frozenset())


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class PasswordHasher:
    """scrypt with stored parameters: `scrypt$n$r$p$salt$hash` (base64). n=2**15 costs ~60 ms and 32 MiB."""

    n: int = 2**15
    r: int = 8
    p: int = 1

    def hash(self, password: str) -> str:
        salt = secrets.token_bytes(16)
        digest = self._derive(password, salt, self.n, self.r, self.p)
        b64 = base64.b64encode
        return f"scrypt${self.n}${self.r}${self.p}${b64(salt).decode()}${b64(digest).decode()}"

    def verify(self, password: str, stored: str) -> bool:
        try:
            scheme, n, r, p, salt, digest = stored.split("$")
            if scheme != "scrypt":
                return False
            expected = base64.b64decode(digest)
            actual = self._derive(password, base64.b64decode(salt), int(n), int(r), int(p))
        except ValueError:
            return False
        return hmac.compare_digest(actual, expected)

    @staticmethod
    def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
        return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=32)


@dataclass(frozen=True, slots=True)
class User:
    username: str
    role: Role
    password_hash: str = ""
    """Empty for machine users: they authenticate with tokens only."""
    machine: bool = False
    disabled: bool = False
    created_at: float = 0.0

    def public(self) -> dict[str, object]:
        return {"username": self.username, "role": self.role, "machine": self.machine, "disabled": self.disabled}


@dataclass(frozen=True, slots=True)
class Session:
    username: str
    role: Role
    csrf_token: str
    created_at: float
    expires_at: float
    """Absolute end (one shift); the store's TTL is the idle timeout."""


@dataclass(frozen=True, slots=True)
class TokenRecord:
    username: str
    label: str
    created_at: float
    token_id: str = field(default="")
    """The first characters of the token, to tell tokens apart in lists without revealing them."""


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: a user and, for cookie sessions, the CSRF token its writes must carry."""

    username: str
    role: Role
    via: str
    """"session" or "token"."""
    csrf_token: str | None = None


class AuthStore(Protocol):
    """Storage of users, sessions (by id hash, with an idle TTL), tokens (by hash) and failure counters."""

    async def put_user(self, user: User) -> None: ...

    async def get_user(self, username: str) -> User | None: ...

    async def list_users(self) -> list[User]: ...

    async def put_session(self, key: str, session: Session, ttl_s: float) -> None: ...

    async def get_session(self, key: str, ttl_s: float) -> Session | None:
        """The session, its idle TTL renewed; None when unknown or expired."""
        ...

    async def delete_session(self, key: str) -> None: ...

    async def put_token(self, key: str, record: TokenRecord) -> None: ...

    async def get_token(self, key: str) -> TokenRecord | None: ...

    async def delete_token(self, key: str) -> bool: ...

    async def add_failure(self, key: str, window_s: float) -> int:
        """Count one failure under `key`; the count resets `window_s` after the first one. Returns the count."""
        ...

    async def failures(self, key: str) -> int: ...

    async def clear_failures(self, key: str) -> None: ...


def _user_from(raw: str | bytes) -> User:
    return User(**json.loads(raw))


def _session_from(raw: str | bytes) -> Session:
    return Session(**json.loads(raw))


class MemoryAuthStore:
    """In-process store (tests, the single-process embedded console)."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._users: dict[str, User] = {}
        self._sessions: dict[str, tuple[Session, float]] = {}
        self._tokens: dict[str, TokenRecord] = {}
        self._failures: dict[str, tuple[int, float]] = {}

    async def put_user(self, user: User) -> None:
        self._users[user.username] = user

    async def get_user(self, username: str) -> User | None:
        return self._users.get(username)

    async def list_users(self) -> list[User]:
        return sorted(self._users.values(), key=lambda u: u.username)

    async def put_session(self, key: str, session: Session, ttl_s: float) -> None:
        self._sessions[key] = (session, self._clock() + ttl_s)

    async def get_session(self, key: str, ttl_s: float) -> Session | None:
        entry = self._sessions.get(key)
        if entry is None or entry[1] <= self._clock():
            self._sessions.pop(key, None)
            return None
        self._sessions[key] = (entry[0], self._clock() + ttl_s)
        return entry[0]

    async def delete_session(self, key: str) -> None:
        self._sessions.pop(key, None)

    async def put_token(self, key: str, record: TokenRecord) -> None:
        self._tokens[key] = record

    async def get_token(self, key: str) -> TokenRecord | None:
        return self._tokens.get(key)

    async def delete_token(self, key: str) -> bool:
        return self._tokens.pop(key, None) is not None

    async def add_failure(self, key: str, window_s: float) -> int:
        count, until = self._failures.get(key, (0, 0.0))
        if until <= self._clock():
            count, until = 0, self._clock() + window_s
        self._failures[key] = (count + 1, until)
        return count + 1

    async def failures(self, key: str) -> int:
        count, until = self._failures.get(key, (0, 0.0))
        return count if until > self._clock() else 0

    async def clear_failures(self, key: str) -> None:
        self._failures.pop(key, None)


class RedisAuthStore:
    """Users and tokens in two hashes, sessions and failure counters as keys with a TTL."""

    def __init__(self, client: aioredis.Redis, prefix: str = "riskmesh:console") -> None:
        self._r = client
        self._p = prefix

    async def put_user(self, user: User) -> None:
        await self._r.hset(f"{self._p}:users", user.username, json.dumps(asdict(user)))

    async def get_user(self, username: str) -> User | None:
        raw = await self._r.hget(f"{self._p}:users", username)
        return _user_from(raw) if raw is not None else None

    async def list_users(self) -> list[User]:
        raws = await self._r.hvals(f"{self._p}:users")
        return sorted((_user_from(raw) for raw in raws), key=lambda u: u.username)

    async def put_session(self, key: str, session: Session, ttl_s: float) -> None:
        await self._r.set(f"{self._p}:session:{key}", json.dumps(asdict(session)), px=max(int(ttl_s * 1000), 1))

    async def get_session(self, key: str, ttl_s: float) -> Session | None:
        name = f"{self._p}:session:{key}"
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.get(name)
            pipe.pexpire(name, max(int(ttl_s * 1000), 1))
            raw, _ = await pipe.execute()
        return _session_from(raw) if raw is not None else None

    async def delete_session(self, key: str) -> None:
        await self._r.delete(f"{self._p}:session:{key}")

    async def put_token(self, key: str, record: TokenRecord) -> None:
        await self._r.hset(f"{self._p}:tokens", key, json.dumps(asdict(record)))

    async def get_token(self, key: str) -> TokenRecord | None:
        raw = await self._r.hget(f"{self._p}:tokens", key)
        return TokenRecord(**json.loads(raw)) if raw is not None else None

    async def delete_token(self, key: str) -> bool:
        return bool(await self._r.hdel(f"{self._p}:tokens", key))

    async def add_failure(self, key: str, window_s: float) -> int:
        name = f"{self._p}:fail:{key}"
        async with self._r.pipeline(transaction=True) as pipe:  # SET NX PX starts the window; INCR keeps the TTL
            pipe.set(name, 0, nx=True, px=max(int(window_s * 1000), 1))
            pipe.incr(name)
            _, count = await pipe.execute()
        return int(count)

    async def failures(self, key: str) -> int:
        raw = await self._r.get(f"{self._p}:fail:{key}")
        return int(raw) if raw is not None else 0

    async def clear_failures(self, key: str) -> None:
        await self._r.delete(f"{self._p}:fail:{key}")


class Authenticator:
    """The console's authentication rules over an `AuthStore`."""

    def __init__(
        self,
        store: AuthStore,
        *,
        hasher: PasswordHasher | None = None,
        session_idle_s: float = 30 * 60,
        session_max_s: float = 12 * 3600,
        max_failures: int = 5,
        failure_window_s: float = 15 * 60,
        clock: Clock = time.time,
    ) -> None:
        self.store = store
        self.hasher = hasher or PasswordHasher()
        self.session_idle_s = session_idle_s
        self.session_max_s = session_max_s
        self.max_failures = max_failures
        self.failure_window_s = failure_window_s
        self._clock = clock
        self._dummy_hash = ""

    # -- users and tokens ----------------------------------------------------------------------

    async def add_user(self, username: str, role: str, password: str | None = None, *, machine: bool = False) -> User:
        """Create or replace a user. People need a password of at least 12 characters; machines get none."""
        if not _USERNAME.match(username):
            raise InvalidRequest("user names are 1-64 of a-z 0-9 . _ - and start with a letter or digit")
        if role not in ROLES:
            raise InvalidRequest(f"unknown role {role!r}; choose from {', '.join(ROLES)}")
        if not machine and (password is None or len(password) < 12):
            raise InvalidRequest("a password needs at least 12 characters")
        hashed = await asyncio.to_thread(self.hasher.hash, password) if password else ""
        user = User(username, role, hashed, machine, False, self._clock())  # type: ignore[arg-type]
        await self.store.put_user(user)
        return user

    async def issue_token(self, username: str, label: str = "") -> str:
        """A new API token for `username`; only its hash is kept, so this is the only time it is seen."""
        if await self.store.get_user(username) is None:
            raise InvalidRequest(f"no user {username!r}")
        token = _TOKEN_PREFIX + secrets.token_urlsafe(32)
        record = TokenRecord(username, label or "api", self._clock(), token[: len(_TOKEN_PREFIX) + 6])
        await self.store.put_token(_sha256(token), record)
        return token

    async def revoke_token(self, token: str) -> bool:
        return await self.store.delete_token(_sha256(token))

    # -- sign-in -------------------------------------------------------------------------------

    async def login(self, username: str, password: str, client: str) -> tuple[str, Session]:
        """Check the password and open a session; returns the raw session id (for the cookie) and the session."""
        keys = (f"user:{username.lower()}", f"addr:{client}")
        if await self.store.failures(keys[0]) >= self.max_failures or \
                await self.store.failures(keys[1]) >= self.max_failures * 4:
            raise TooManyAttempts("too many failed sign-ins; try again later")
        user = await self.store.get_user(username)
        ok = await asyncio.to_thread(self._check, user, password)
        if user is None or not ok or user.disabled or user.machine:
            for key in keys:
                await self.store.add_failure(key, self.failure_window_s)
            raise Unauthenticated("wrong user name or password")
        await self.store.clear_failures(keys[0])
        now = self._clock()
        session = Session(user.username, user.role, secrets.token_urlsafe(32), now, now + self.session_max_s)
        raw = secrets.token_urlsafe(32)
        await self.store.put_session(_sha256(raw), session, self.session_idle_s)
        return raw, session

    def _check(self, user: User | None, password: str) -> bool:
        if user is None or not user.password_hash:
            if not self._dummy_hash:  # same work for unknown users: no timing oracle on user names
                self._dummy_hash = self.hasher.hash(secrets.token_hex(8))
            self.hasher.verify(password, self._dummy_hash)
            return False
        return self.hasher.verify(password, user.password_hash)

    async def logout(self, raw_session: str) -> None:
        await self.store.delete_session(_sha256(raw_session))

    # -- per request ---------------------------------------------------------------------------

    async def from_session(self, raw_session: str) -> Principal | None:
        session = await self.store.get_session(_sha256(raw_session), self.session_idle_s)
        if session is None:
            return None
        if session.expires_at <= self._clock():
            await self.store.delete_session(_sha256(raw_session))
            return None
        user = await self.store.get_user(session.username)
        if user is None or user.disabled or user.role != session.role:  # role changed: sign in again
            return None
        return Principal(user.username, user.role, "session", session.csrf_token)

    async def from_token(self, token: str) -> Principal | None:
        if not token.startswith(_TOKEN_PREFIX):
            return None
        record = await self.store.get_token(_sha256(token))
        if record is None:
            return None
        user = await self.store.get_user(record.username)
        if user is None or user.disabled:
            return None
        return Principal(user.username, user.role, "token")


def require(principal: Principal, permission: str) -> None:
    if not has_permission(principal.role, permission):
        raise Forbidden(f"role {principal.role} may not {permission.replace('.', ' ')}")


DEMO_USERS: tuple[tuple[str, str], ...] = (
    ("ana", "analyst"), ("ben", "analyst"), ("sam", "supervisor"), ("cora", "compliance_officer"),
    ("sol", "soc_engineer"), ("adam", "admin"),
)


async def seed_demo_users(store: AuthStore, password: str, hasher: PasswordHasher | None = None) -> list[User]:
    """The embedded stack's demo users (ana, ben analysts; sam supervisor; cora compliance; sol SOC; adam admin),
    all with `password`. Existing users are left as they are."""
    auth = Authenticator(store, hasher=hasher)
    created = []
    for username, role in DEMO_USERS:
        if await store.get_user(username) is None:
            created.append(await auth.add_user(username, role, password))
    return created
