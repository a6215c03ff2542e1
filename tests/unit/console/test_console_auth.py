"""Console authentication: one conformance suite for the memory and Redis stores, and the Authenticator's rules."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from riskmesh.orchestrator.console.auth import (
    PERMISSIONS,
    Authenticator,
    MemoryAuthStore,
    PasswordHasher,
    RedisAuthStore,
    Session,
    TokenRecord,
    TooManyAttempts,
    Unauthenticated,
    User,
    seed_demo_users,
)
from riskmesh.orchestrator.review.errors import InvalidRequest

FAST = PasswordHasher(n=2**4)
PASSWORD = "correct horse battery"


@pytest.fixture(params=["memory", "redis"])
async def store(request, redis_socket: str) -> AsyncIterator[object]:
    if request.param == "memory":
        yield MemoryAuthStore()
        return
    client = Redis(unix_socket_path=redis_socket)
    await client.flushdb()
    try:
        yield RedisAuthStore(client)
    finally:
        await client.aclose()


# -- store conformance ----------------------------------------------------------------------------


async def test_a_store_keeps_users_and_lists_them_by_name(store) -> None:
    await store.put_user(User("ben", "analyst", "h1"))
    await store.put_user(User("ana", "supervisor", "h2", created_at=1.5))
    assert await store.get_user("ana") == User("ana", "supervisor", "h2", created_at=1.5)
    assert await store.get_user("nobody") is None
    assert [u.username for u in await store.list_users()] == ["ana", "ben"]


async def test_a_store_keeps_sessions_until_their_idle_ttl_and_forgets_deleted_ones(store) -> None:
    session = Session("ana", "analyst", "csrf", 1.0, 2.0)
    await store.put_session("k1", session, 60)
    assert await store.get_session("k1", 60) == session
    await store.put_session("k2", session, 0.001)
    # an expired session is gone: bounded poll, no fixed sleep
    async with asyncio.timeout(2):
        while await store.get_session("k2", 0.001) is not None:  # noqa: ASYNC110 - bounded poll of a TTL
            await asyncio.sleep(0.005)
    await store.delete_session("k1")
    assert await store.get_session("k1", 60) is None


async def test_a_store_keeps_tokens_by_hash_and_deletes_them(store) -> None:
    record = TokenRecord("gateway", "ci", 3.0, "rmk_abc")
    await store.put_token("h", record)
    assert await store.get_token("h") == record
    assert await store.delete_token("h") is True
    assert await store.delete_token("h") is False
    assert await store.get_token("h") is None


async def test_a_store_counts_failures_per_key_and_clears_them(store) -> None:
    assert await store.failures("user:ana") == 0
    assert await store.add_failure("user:ana", 60) == 1
    assert await store.add_failure("user:ana", 60) == 2
    assert await store.failures("user:ben") == 0
    await store.clear_failures("user:ana")
    assert await store.failures("user:ana") == 0


# -- authenticator ---------------------------------------------------------------------------------


def test_passwords_are_salted_scrypt_hashes_that_verify_only_the_right_password() -> None:
    one, two = FAST.hash(PASSWORD), FAST.hash(PASSWORD)
    assert one.startswith("scrypt$16$8$1$") and one != two and PASSWORD not in one
    assert FAST.verify(PASSWORD, one) and not FAST.verify("wrong", one)
    assert not FAST.verify(PASSWORD, "garbage") and not FAST.verify(PASSWORD, "bcrypt$1$2$3$4$5")
    assert PasswordHasher().verify(PASSWORD, one)  # parameters travel with the hash


async def test_login_opens_a_session_found_by_its_raw_id_only(store) -> None:
    auth = Authenticator(store, hasher=FAST)
    await auth.add_user("ana", "analyst", PASSWORD)
    raw, session = await auth.login("ana", PASSWORD, "10.0.0.1")
    principal = await auth.from_session(raw)
    assert principal is not None and principal.username == "ana" and principal.csrf_token == session.csrf_token
    assert await store.get_session(raw, 60) is None  # stored under its hash, not the id itself
    await auth.logout(raw)
    assert await auth.from_session(raw) is None


async def test_a_session_ends_at_its_absolute_lifetime_and_when_the_role_changes(store) -> None:
    now = [1000.0]
    auth = Authenticator(store, hasher=FAST, session_max_s=100, clock=lambda: now[0])
    await auth.add_user("ana", "analyst", PASSWORD)
    raw, _ = await auth.login("ana", PASSWORD, "x")
    now[0] += 101
    assert await auth.from_session(raw) is None
    raw, _ = await auth.login("ana", PASSWORD, "x")
    await auth.add_user("ana", "supervisor", PASSWORD)
    assert await auth.from_session(raw) is None


async def test_wrong_passwords_unknown_users_and_machine_users_cannot_sign_in(store) -> None:
    auth = Authenticator(store, hasher=FAST, max_failures=10)
    await auth.add_user("ana", "analyst", PASSWORD)
    await auth.add_user("gateway", "soc_engineer", machine=True)
    for username, password in (("ana", "nope"), ("nobody", PASSWORD), ("gateway", "")):
        with pytest.raises(Unauthenticated):
            await auth.login(username, password, "x")


async def test_after_too_many_failures_even_the_right_password_is_refused_for_a_while(store) -> None:
    auth = Authenticator(store, hasher=FAST, max_failures=2)
    await auth.add_user("ana", "analyst", PASSWORD)
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            await auth.login("ana", "nope", "x")
    with pytest.raises(TooManyAttempts):
        await auth.login("ana", PASSWORD, "x")


async def test_tokens_authenticate_their_user_until_revoked_and_are_not_stored_in_clear(store) -> None:
    auth = Authenticator(store, hasher=FAST)
    await auth.add_user("gateway", "soc_engineer", machine=True)
    token = await auth.issue_token("gateway", "ci")
    principal = await auth.from_token(token)
    assert principal is not None and (principal.username, principal.via) == ("gateway", "token")
    assert await store.get_token(token) is None
    assert await auth.from_token("rmk_forged") is None and await auth.from_token("not-even-prefixed") is None
    assert await auth.revoke_token(token)
    assert await auth.from_token(token) is None


async def test_user_names_roles_and_password_length_are_validated(store) -> None:
    auth = Authenticator(store, hasher=FAST)
    with pytest.raises(InvalidRequest):
        await auth.add_user("Ana Smith", "analyst", PASSWORD)
    with pytest.raises(InvalidRequest):
        await auth.add_user("ana", "god", PASSWORD)
    with pytest.raises(InvalidRequest):
        await auth.add_user("ana", "analyst", "short")
    with pytest.raises(InvalidRequest):
        await auth.issue_token("nobody")


async def test_demo_users_cover_every_role_and_existing_users_are_kept(store) -> None:
    await store.put_user(User("ana", "supervisor", "keep"))
    created = await seed_demo_users(store, PASSWORD, FAST)
    assert {u.username for u in created} == {"ben", "sam", "cora", "sol", "adam"}
    assert (await store.get_user("ana")).password_hash == "keep"
    assert {u.role for u in await store.list_users()} == set(PERMISSIONS)


def test_admins_run_the_system_but_never_decide_and_soc_engineers_only_read() -> None:
    assert "alert.decide" not in PERMISSIONS["admin"] and "policy.write" in PERMISSIONS["admin"]
    assert all(p.endswith(".read") for p in PERMISSIONS["soc_engineer"] - {"investigation.start"})  # + SOC work
    assert "customer.full" in PERMISSIONS["compliance_officer"] and "customer.full" not in PERMISSIONS["analyst"]
    assert "policy.write" not in PERMISSIONS["analyst"] | PERMISSIONS["supervisor"]
