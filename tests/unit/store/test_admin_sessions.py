"""Admin sessions in the store (SQLite and PostgreSQL): kept until they expire or end, one
at a time (logout) or all at once (log out everywhere)."""

from __future__ import annotations

from tests.unit.store.builders import AnyStore

NOW = 1_800_000_000.0


async def test_a_session_is_active_until_it_expires_or_ends(store: AnyStore) -> None:
    await store.add_admin_session("a" * 64, NOW + 100, NOW)
    await store.add_admin_session("b" * 64, NOW + 100, NOW)
    assert await store.admin_session_active("a" * 64, NOW)
    assert not await store.admin_session_active("a" * 64, NOW + 100)  # expired
    assert not await store.admin_session_active("c" * 64, NOW)  # never started
    assert await store.end_admin_sessions("a" * 64) == 1
    assert not await store.admin_session_active("a" * 64, NOW)
    assert await store.admin_session_active("b" * 64, NOW)


async def test_log_out_everywhere_ends_every_session(store: AnyStore) -> None:
    for n in range(3):
        await store.add_admin_session(f"{n}" * 64, NOW + 100, NOW)
    assert await store.end_admin_sessions() == 3
    assert not await store.admin_session_active("0" * 64, NOW)


async def test_expired_sessions_are_dropped_when_a_new_one_starts(store: AnyStore) -> None:
    await store.add_admin_session("old" + "0" * 61, NOW + 10, NOW)
    await store.add_admin_session("new" + "0" * 61, NOW + 1000, NOW + 20)
    assert await store.end_admin_sessions() == 1  # only the new one was left
