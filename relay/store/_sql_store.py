"""The ``Store`` methods both SQL backends share, written once: each builds an operation
(relay/store/_sql.py) and hands it to the backend's two hooks, ``_read_op`` and ``_write_op``
(SQLite: the reader pool or the group-commit writer; PostgreSQL: a pooled connection, in a
transaction unless the operation is one statement). The backends keep their connections,
ingest, claim and finish (the hot paths), and what only one of them has."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TypeVar

from relay.store import _admin as admin
from relay.store import _moves as moves
from relay.store import _reads as reads
from relay.store import _run_moves as run_moves
from relay.store._sql import Dialect, MakeOp
from relay.store.base import (
    AttemptRecord,
    AuditRecord,
    CheckResult,
    ClaimedDelivery,
    DeliveryRecord,
    EventRecord,
    TargetOverview,
    TargetState,
    TransitionRecord,
)
from relay.store.log_queries import (
    Activity,
    AttemptQuery,
    DeliveryQuery,
    EventQuery,
    RejectionRecord,
)

__all__ = ["SqlStore"]

T = TypeVar("T")


class SqlStore:
    """A base class: subclasses set ``_dialect`` and implement the two hooks."""

    _dialect: Dialect

    async def _read_op(self, make: MakeOp[T], *, atomic: bool = False) -> T:
        """Run the operation ``make()`` as a read (``atomic``: its statements see one
        snapshot). A factory, not the operation: a backend may run it again (a group
        commit's batch is run again when one of its writes fails)."""
        raise NotImplementedError

    async def _write_op(self, make: MakeOp[T], *, heavy: bool = False, single: bool = False) -> T:
        """Run a write in one transaction (``heavy``: it may touch many rows; ``single``: one
        statement, atomic by itself)."""
        raise NotImplementedError

    async def probe_write(self, now: float) -> None:
        await self._write_op(partial(admin.probe_write, now), single=True)

    # runs followed to their end ----------------------------------------------------------

    async def note_run_created(self, claimed: ClaimedDelivery, run_id: str, now: float) -> bool:
        op = partial(run_moves.note_run_created, self._dialect, claimed, run_id)
        return await self._write_op(op, single=self._dialect is Dialect.POSTGRES)

    async def claim_checks(
        self, target: str, limit: int, now: float, owner: str, lease_seconds: float
    ) -> list[DeliveryRecord]:
        op = partial(run_moves.claim_checks, target, limit, now, owner, lease_seconds)
        return await self._write_op(op, single=True)

    async def finish_check(self, delivery: DeliveryRecord, owner: str, check: CheckResult) -> bool:
        return await self._write_op(partial(run_moves.finish_check, delivery, owner, check))

    async def request_stop(self, delivery_id: str, now: float, *, actor: str) -> DeliveryRecord:
        return await self._write_op(partial(run_moves.request_stop, delivery_id, now, actor))

    # a delivery's moves ------------------------------------------------------------------

    async def recover_expired(self, now: float, owner: str | None = None) -> list[str]:
        return await self._write_op(
            partial(moves.recover_expired, self._dialect, now, owner), heavy=True
        )

    async def next_due_at(self, target: str) -> float | None:
        return await self._read_op(partial(reads.next_due_at, target))

    async def replay(
        self, delivery_id: str, now: float, *, actor: str = "operator"
    ) -> DeliveryRecord:
        return await self._write_op(partial(moves.replay, delivery_id, now, actor))

    async def replay_matching(
        self, selection: DeliveryQuery, now: float, *, actor: str
    ) -> list[str]:
        op = partial(moves.replay_matching, self._dialect, selection, now, actor)
        return await self._write_op(op, heavy=True)

    async def retry_now(self, delivery_id: str, now: float, *, actor: str) -> DeliveryRecord:
        return await self._write_op(partial(moves.retry_now, delivery_id, now, actor))

    async def cancel(
        self, delivery_id: str, now: float, *, actor: str, reason: str | None = None
    ) -> DeliveryRecord:
        return await self._write_op(partial(moves.cancel, delivery_id, now, actor, reason))

    # operators and housekeeping ----------------------------------------------------------

    async def list_transitions(self, delivery_id: str) -> list[TransitionRecord]:
        return await self._read_op(partial(admin.list_transitions, delivery_id))

    async def set_target_paused(
        self, target: str, paused: bool, now: float, *, actor: str
    ) -> TargetState:
        return await self._write_op(partial(admin.set_target_paused, target, paused, now, actor))

    async def save_target_health(self, state: TargetState) -> None:
        await self._write_op(partial(admin.save_target_health, state), single=True)

    async def list_target_states(self) -> list[TargetState]:
        return await self._read_op(admin.list_target_states)

    async def target_overview(self) -> list[TargetOverview]:
        return await self._read_op(admin.target_overview, atomic=True)

    async def list_audit(self, limit: int = 100) -> list[AuditRecord]:
        return await self._read_op(partial(admin.list_audit, limit))

    async def add_source_secret(self, source: str, secret: str, origin: str, now: float) -> None:
        await self._write_op(
            partial(admin.add_source_secret, source, secret, origin, now), single=True
        )

    async def list_source_secrets(self) -> dict[str, list[str]]:
        return await self._read_op(admin.list_source_secrets)

    async def delete_source_secrets(self, source: str) -> int:
        return await self._write_op(partial(admin.delete_source_secrets, source), single=True)

    async def add_admin_session(self, digest: str, expires_at: float, now: float) -> None:
        await self._write_op(partial(admin.add_admin_session, digest, expires_at, now))

    async def admin_session_active(self, digest: str, now: float) -> bool:
        return await self._read_op(partial(admin.admin_session_active, digest, now))

    async def end_admin_sessions(self, digest: str | None = None) -> int:
        return await self._write_op(partial(admin.end_admin_sessions, digest), single=True)

    async def purge_expired(
        self,
        before: float,
        *,
        source: str | None = None,
        exclude_sources: Sequence[str] = (),
        limit: int = 500,
    ) -> int:
        op = partial(
            admin.purge_expired, self._dialect, before, source, tuple(exclude_sources), limit
        )
        return await self._write_op(op, heavy=True)

    # reads: one query per entity ---------------------------------------------------------

    async def get_event(self, event_id: str) -> EventRecord | None:
        return await self._read_op(partial(reads.get_event, event_id))

    async def get_delivery(self, delivery_id: str) -> DeliveryRecord | None:
        return await self._read_op(partial(reads.get_delivery, delivery_id))

    # the delivery-log queries (relay/store/log_queries.py) -------------------------------

    async def record_rejections(self, rejections: Sequence[RejectionRecord]) -> None:
        await self._write_op(partial(reads.insert_rejections, rejections))

    async def query_events(self, query: EventQuery) -> list[EventRecord]:
        return await self._read_op(partial(reads.query_events, self._dialect, query))

    async def query_rejections(self, query: EventQuery) -> list[RejectionRecord]:
        return await self._read_op(partial(reads.query_rejections, self._dialect, query))

    async def query_deliveries(self, query: DeliveryQuery) -> list[DeliveryRecord]:
        return await self._read_op(partial(reads.query_deliveries, self._dialect, query))

    async def query_attempts(self, query: AttemptQuery) -> list[AttemptRecord]:
        return await self._read_op(partial(reads.query_attempts, self._dialect, query))

    async def activity(self, since: float, until: float | None = None) -> Activity:
        return await self._read_op(partial(reads.activity, since, until))
