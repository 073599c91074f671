"""Sessions: read, list, long-poll, and the client's updates (accept, reject, cancel)."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, update

from execbroker.model.components import Update, UpdateKind
from execbroker.model.phases import SessionPhase, client_options
from execbroker.model.text import shorten
from execbroker.model.times import format_instant, utcnow
from execbroker.services.errors import Conflict, NotFound, ServiceError, Unprocessable
from execbroker.services.notify import Notifier
from execbroker.store import tables
from execbroker.store.db import Database
from execbroker.store.ledger import Ledger
from execbroker.store.offersets import get_offerset, list_offersets
from execbroker.store.records import OfferSetRecord, SessionRecord
from execbroker.store.sessions import (
    component_session,
    get_session,
    get_siblings,
    list_sessions,
    record_event,
    record_events,
    save_session,
    session_stamps,
)

PHASE_PATHS = frozenset({"phase", "/phase", "state", "/state"})

#: Phases in which nothing has been created on the platform yet: a cancel ends the session at once.
_NOTHING_PREPARED = (SessionPhase.ACCEPTED, SessionPhase.WAITING)

#: How often the long-polls' shared poll reads the database (for changes made by other processes).
POLL_INTERVAL = 0.5


@dataclass(slots=True)
class Page:
    items: list[SessionRecord] | list[OfferSetRecord]
    total: int
    limit: int
    offset: int


class SessionService:
    def __init__(self, db: Database, ledger: Ledger, notifier: Notifier) -> None:
        self.db = db
        self.ledger = ledger
        self.notifier = notifier
        #: session uuid -> the latest ``modified`` a long-poll on it has seen
        self._seen: dict[str, float] = {}
        self._poller: asyncio.Task[None] | None = None

    async def get(self, uuid: str) -> SessionRecord:
        uuid = uuid.lower()  # uuids are written in lower case and compare case-insensitively
        record = await self.db.run_read(lambda conn: get_session(conn, uuid))
        if record is None:
            raise NotFound(f"No session with uuid [{uuid}]")
        return record

    async def get_offerset(self, uuid: str) -> tuple[OfferSetRecord, list[SessionRecord]]:
        uuid = uuid.lower()
        found = await self.db.run_read(lambda conn: get_offerset(conn, uuid))
        if found is None:
            raise NotFound(f"No offer set with uuid [{uuid}]")
        return found

    async def component(self, uuid: str, family: str) -> SessionRecord:
        uuid = uuid.lower()

        def find(conn: Connection) -> SessionRecord | None:
            owner = component_session(conn, uuid, family)
            return get_session(conn, owner) if owner else None

        record = await self.db.run_read(find)
        if record is None:
            raise NotFound(f"No {family} component with uuid [{uuid}]")
        return record

    async def list(
        self,
        *,
        owner: str | None,
        phases: Sequence[SessionPhase] | None,
        offerset: str | None,
        limit: int,
        offset: int,
    ) -> Page:
        items, total = await self.db.run_read(
            lambda conn: list_sessions(
                conn, owner=owner, phases=phases, offerset=offerset, limit=limit, offset=offset
            )
        )
        return Page(items, total, limit, offset)

    async def list_offersets(self, *, owner: str | None, result: str | None, limit: int, offset: int) -> Page:
        items, total = await self.db.run_read(
            lambda conn: list_offersets(conn, owner=owner, result=result, limit=limit, offset=offset)
        )
        return Page(items, total, limit, offset)

    async def wait(self, uuid: str, seconds: float, phase: SessionPhase | None = None) -> SessionRecord:
        """UWS-style blocking read: return when the phase changes or the time is up.

        With ``phase``, block only while the session is in that phase (return at once otherwise).
        A change made in this process wakes the wait at once; one made by another process on the same
        database is seen by a poll shared by every wait (one query per interval, not one per wait).
        """
        record = await self.get(uuid)
        uuid = record.uuid  # as stored (and as the notifier names it), whatever case was asked
        watched = phase if phase is not None else record.phase
        if record.phase != watched or (record.phase.is_final and phase is None):
            return record
        deadline = time.monotonic() + max(0.0, seconds)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return record
            self._seen[uuid] = max(self._seen.get(uuid, 0.0), record.modified)
            if self._poller is None or self._poller.done():
                self._poller = asyncio.create_task(self._poll())
            if not await self.notifier.wait_change(uuid, left):
                return record
            record = await self.get(uuid)
            if record.phase != watched:
                return record

    async def _poll(self) -> None:
        """While anyone waits: read the waited-on sessions' modification times in one query and wake
        the waits of those that changed (the changes other processes made)."""
        while True:
            await asyncio.sleep(POLL_INTERVAL)
            watched = self.notifier.watched()
            for uuid in [u for u in self._seen if u not in watched]:
                del self._seen[uuid]
            if not watched:
                self._poller = None
                return
            stamps = await self.db.run_read(functools.partial(session_stamps, uuids=watched))
            changed = [u for u in watched if stamps.get(u, 0.0) > self._seen.get(u, 0.0)]
            if changed:
                self.notifier.session_changed(changed)

    async def apply(self, uuid: str, change: Update, actor: str) -> SessionRecord:
        """Apply a client's update; raises NotFound, ServiceError (400), Unprocessable (422) or Conflict
        (409)."""
        uuid = uuid.lower()
        if change.subject is not None and change.subject.lower() != uuid:
            # The WD's rule: an update MAY repeat the session's id; if it does it MUST match the URL.
            raise ServiceError(
                f"The update names session [{shorten(change.subject)}] but was sent to session [{uuid}]; "
                "an update that repeats the session's id must repeat this one"
            )
        if change.kind is not UpdateKind.ENUM_VALUE:
            raise Unprocessable(
                f"Update kind [{change.kind_text}] is not supported;"
                " only uri:enum-value-update on the phase is"
            )
        if change.path not in PHASE_PATHS:
            raise Unprocessable(f"Update path [{change.path}] is not supported; use 'phase'")
        try:
            target = SessionPhase(str(change.value).upper())
        except ValueError:
            raise Unprocessable(f"[{change.value}] is not a session phase") from None
        now = utcnow()
        record = await self.db.run_write(
            lambda conn: self._apply(conn, uuid, target, actor, now), on_error=self.ledger.invalidate
        )
        self.notifier.session_changed([uuid])  # rejected siblings: the shared poll sees them
        if record.phase == SessionPhase.ACCEPTED or record.needs_release:
            self.notifier.wake_engine()
        return record

    def _apply(
        self, conn: Connection, uuid: str, target: SessionPhase, actor: str, now: datetime
    ) -> SessionRecord:
        with self.ledger.lock:
            record = get_session(conn, uuid, lock=True)
            if record is None:
                raise NotFound(f"No session with uuid [{uuid}]")
            allowed = client_options(record.phase)
            stamp = now.timestamp()
            if (
                record.phase == SessionPhase.OFFERED
                and record.expires is not None
                and record.expires <= stamp
            ):
                self._end(conn, record, SessionPhase.EXPIRED, "expiry", now)
                raise Conflict(
                    f"Offer [{uuid}] expired at"
                    f" {format_instant(datetime.fromtimestamp(record.expires, now.tzinfo))}"
                    f" and can no longer be {target.value.lower()}"
                )
            if target not in allowed:
                options = ", ".join(p.value for p in allowed) or "none (the session has ended)"
                raise Conflict(
                    f"Session [{uuid}] is {record.phase.value}; it cannot be set to {target.value}."
                    f" Allowed now: {options}"
                )
            if target == SessionPhase.ACCEPTED:
                return self._accept(conn, record, actor, now)
            if target == SessionPhase.REJECTED:
                self._end(conn, record, SessionPhase.REJECTED, actor, now)
                return record
            return self._cancel(conn, record, actor, now)

    def _accept(self, conn: Connection, record: SessionRecord, actor: str, now: datetime) -> SessionRecord:
        siblings = get_siblings(conn, record.offerset_uuid, lock=True)
        taken = [s for s in siblings if s.uuid != record.uuid and s.phase not in _OPEN_OR_DEAD]
        if taken:
            raise Conflict(
                f"Offer set [{record.offerset_uuid}] already has an accepted offer [{taken[0].uuid}];"
                " only one offer of a set can be accepted"
            )
        stamp = now.timestamp()
        record.phase = SessionPhase.ACCEPTED
        record.modified = stamp
        record.due = stamp
        if not save_session(conn, record):
            raise Conflict(f"Session [{record.uuid}] changed while it was being accepted; try again")
        record_event(conn, record.uuid, stamp, SessionPhase.OFFERED, SessionPhase.ACCEPTED, actor)
        rejected = [s.uuid for s in siblings if s.uuid != record.uuid and s.phase == SessionPhase.OFFERED]
        if rejected:
            conn.execute(
                update(tables.sessions)
                .where(tables.sessions.c.uuid.in_(rejected))
                .values(
                    phase=SessionPhase.REJECTED.value, modified=stamp, version=tables.sessions.c.version + 1
                )
            )
            record_events(
                conn,
                [
                    (
                        sibling,
                        stamp,
                        SessionPhase.OFFERED,
                        SessionPhase.REJECTED,
                        f"accept:{record.uuid}",
                        None,
                    )
                    for sibling in rejected
                ],
            )
            self.ledger.release(conn, rejected, now)
        return record

    def _end(
        self, conn: Connection, record: SessionRecord, phase: SessionPhase, actor: str, now: datetime
    ) -> None:
        previous = record.phase
        record.phase = phase
        record.modified = now.timestamp()
        record.due = None
        if not save_session(conn, record):
            raise Conflict(f"Session [{record.uuid}] changed meanwhile; try again")
        record_event(conn, record.uuid, record.modified, previous, phase, actor)
        self.ledger.release(conn, [record.uuid], now)

    def _cancel(self, conn: Connection, record: SessionRecord, actor: str, now: datetime) -> SessionRecord:
        previous = record.phase
        engine_busy = record.lease_until is not None and record.lease_until > now.timestamp()
        if previous in _NOTHING_PREPARED and not engine_busy:
            record.ending = "cancelled"
            record.lease_owner = None
            record.lease_until = None
            self._end(conn, record, SessionPhase.CANCELLED, actor, now)
            return record
        # Something may exist on the platform: the engine stops and removes it, then frees the slot.
        record.phase = SessionPhase.CANCELLED
        record.ending = "cancelled"
        record.needs_release = True
        record.lease_owner = None  # an engine step in flight loses its write; the next one releases
        record.lease_until = None
        record.modified = now.timestamp()
        record.due = now.timestamp()
        if not save_session(conn, record):
            raise Conflict(f"Session [{record.uuid}] changed meanwhile; try again")
        record_event(conn, record.uuid, record.modified, previous, SessionPhase.CANCELLED, actor)
        return record


_OPEN_OR_DEAD = frozenset({SessionPhase.OFFERED, SessionPhase.REJECTED, SessionPhase.EXPIRED})
