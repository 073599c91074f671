"""The reconcile loop: drives accepted sessions through their phases on time.

The database holds each session's phase and the time its next step is due. The loop claims due
sessions with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; the single writer on SQLite), makes the
step (one platform call, with a time limit, never a sleep), and writes the result back only if nobody
changed the session meanwhile. Steps that are due at once are chained in memory and written together,
each transition still recorded in the event log. A crash between claim and write loses nothing: the
lease runs out, another pass repeats the idempotent platform call, and the transitions are written once.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from execbroker.engine.config import EngineConfig
from execbroker.model.components import Component, Schedule, Session, Step, Window
from execbroker.model.messages import (
    COMPONENT_FAILED,
    EXECUTION_FAILED,
    LATE_STEP,
    Level,
    Message,
)
from execbroker.model.phases import COMPONENT_FOR_SESSION, ComponentPhase, ConnectorStatus, SessionPhase
from execbroker.model.times import Interval, format_duration
from execbroker.platforms.base import Outcome, Platform, RunState
from execbroker.services.codec import StoredCodec
from execbroker.services.notify import Notifier
from execbroker.services.offers import expire_offers
from execbroker.store.db import Database
from execbroker.store.ledger import Ledger
from execbroker.store.records import SessionRecord
from execbroker.store.sessions import (
    claim_due,
    drop_leases,
    get_session,
    lease_owners,
    next_due,
    record_event,
    renew_leases,
    save_session,
)
from execbroker.store.throughput import save_throughput

log = logging.getLogger("execbroker.engine")

FINAL_BY_ENDING = {
    "completed": SessionPhase.COMPLETED,
    "failed": SessionPhase.FAILED,
    "cancelled": SessionPhase.CANCELLED,
}


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@dataclass(slots=True)
class Work:
    """One claimed session and what the step did to it."""

    record: SessionRecord
    session: Session
    transitions: list[tuple[SessionPhase, SessionPhase, str | None]] = field(default_factory=list)
    release_slot: bool = False
    measured: bool = False


class Engine:
    def __init__(
        self,
        db: Database,
        ledger: Ledger,
        platform: Platform,
        codec: StoredCodec,
        notifier: Notifier,
        config: EngineConfig,
    ) -> None:
        self.db = db
        self.ledger = ledger
        self.platform = platform
        self.codec = codec
        self.notifier = notifier
        self.config = config
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuidlib.uuid4().hex[:8]}"
        self._stopping = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        #: Sessions whose step is running in this process (their leases get a heartbeat).
        self._working: set[str] = set()
        self._slots = asyncio.Semaphore(config.concurrency)
        self.steps_done = 0
        self.lag_seconds = 0.0
        self.running = False

    # -- the loop -----------------------------------------------------------------------------------

    async def run(self) -> None:
        self.running = True
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            try:
                await self.db.run_write(self._forget_dead_owners)
            except Exception:
                log.exception("could not check for leases of dead processes")
            while not self._stopping.is_set():
                try:
                    await self.tick()
                    wait = await self._idle_time()
                except Exception:  # the loop must survive a bad pass (a database outage): retry
                    log.exception("engine pass failed")
                    wait = self.config.poll_interval.total_seconds()
                if wait > 0:
                    await self.notifier.engine_wait(wait)
        finally:
            heartbeat.cancel()
            self.running = False

    def _forget_dead_owners(self, conn: Connection) -> None:
        """Free at once the claims of processes on this host that no longer exist (after a kill -9).

        Other hosts' claims run out by themselves: without a heartbeat a lease lasts ``lease``.
        """
        host = socket.gethostname()
        for owner in lease_owners(conn, time.time()):
            name, _, rest = owner.partition(":")
            pid_text = rest.split(":", 1)[0]
            if owner == self.owner or name != host or not pid_text.isdigit():
                continue
            if not _alive(int(pid_text)):
                count = drop_leases(conn, owner)
                log.warning("freed %d session(s) claimed by %s, which is no longer running", count, owner)

    async def _heartbeat(self) -> None:
        period = max(0.5, self.config.lease.total_seconds() / 3)
        while True:
            await asyncio.sleep(period)
            if self._working:
                until = time.time() + self.config.lease.total_seconds()
                uuids = list(self._working)
                try:
                    await self.db.run_write(
                        functools.partial(renew_leases, uuids=uuids, owner=self.owner, until=until)
                    )
                except Exception:
                    log.exception("lease heartbeat failed")

    async def stop(self) -> None:
        self._stopping.set()
        self.notifier.wake_engine()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=self.config.step_timeout.total_seconds())

    async def tick(self) -> int:
        """One pass: expire offers, claim due sessions, start their steps. Returns how many were claimed."""
        now = datetime.now(UTC)

        def expire(conn: Connection) -> list[str]:
            with self.ledger.lock:
                return expire_offers(conn, self.ledger, now)

        expired = await self.db.run_write(expire, on_error=self.ledger.invalidate)
        if expired:
            self.notifier.session_changed(expired)
        free = self.config.concurrency - len(self._tasks)
        if free <= 0:
            return 0
        lease = self.config.lease.total_seconds()
        claimed = await self.db.run_write(
            lambda conn: claim_due(conn, now=time.time(), owner=self.owner, lease=lease, limit=free)
        )
        if claimed:
            oldest = min(r.due for r in claimed if r.due is not None)
            self.lag_seconds = max(0.0, time.time() - oldest)
        else:
            self.lag_seconds = 0.0
        for record in claimed:
            task = asyncio.create_task(self._guarded(record))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(claimed)

    async def _idle_time(self) -> float:
        if len(self._tasks) >= self.config.concurrency:
            return self.config.poll_interval.total_seconds()
        due = await self.db.run_read(next_due)
        poll = self.config.poll_interval.total_seconds()
        if due is None:
            return poll
        return max(0.0, min(poll, due - time.time()))

    async def _guarded(self, record: SessionRecord) -> None:
        async with self._slots:
            self._working.add(record.uuid)
            try:
                await self.step(record)
            except Exception:
                log.exception("step of session %s failed", record.uuid)
            finally:
                self._working.discard(record.uuid)
                self.notifier.wake_engine()

    # -- one step ------------------------------------------------------------------------------------

    async def step(self, record: SessionRecord) -> None:
        work = Work(record, self.codec.session(record))
        late = time.time() - (record.due or time.time())
        if late > self.config.late_after.total_seconds():
            work.session.meta.messages.append(
                Message.make(
                    LATE_STEP,
                    Level.WARN,
                    "The ${phase} step was due at ${due} and ran ${late} late",
                    phase=record.phase,
                    due=_dt(record.due or time.time()),
                    late=format_duration(timedelta(seconds=round(late))),
                )
            )
        for _ in range(12):
            before = (record.phase, record.due)
            try:
                await asyncio.wait_for(self._advance(work), self.config.step_timeout.total_seconds())
            except TimeoutError:
                self._fail(
                    work,
                    f"The {record.phase.value} step took longer than "
                    f"{format_duration(self.config.step_timeout)}",
                )
            if record.due is None or record.due > time.time() or (record.phase, record.due) == before:
                break
        await self._persist(work)

    async def _advance(self, work: Work) -> None:
        record, session = work.record, work.session
        state = record.platform_state
        now = time.time()
        phase = record.phase
        if phase == SessionPhase.CANCELLED:
            await self._cleanup(work)
        elif phase == SessionPhase.ACCEPTED:
            prepare_at = record.prepare_at if record.prepare_at is not None else now
            if prepare_at - now > self.config.waiting_threshold.total_seconds():
                self._move(work, SessionPhase.WAITING)
                record.due = prepare_at
            elif prepare_at > now:
                record.due = prepare_at  # a short wait: the session stays ACCEPTED until it prepares
            else:
                self._begin_preparing(work, now)
        elif phase == SessionPhase.WAITING:
            self._begin_preparing(work, now)
        elif phase == SessionPhase.PREPARING:
            if record.end_at is not None and now >= record.end_at:
                self._fail(work, "The booked slot ended before preparation finished")
                return
            outcome = await self.platform.prepare(session, state)
            self._apply(work, outcome)
            if not outcome.ok:
                self._fail(work, "Preparation failed", outcome)
            elif outcome.retry_after is not None:
                record.due = now + outcome.retry_after
            else:
                self._move(work, SessionPhase.AVAILABLE)
                for c in session.components():
                    sched = _schedule_of(c)
                    if sched.preparing and sched.preparing.start:
                        sched.preparing.duration = _dt(now) - sched.preparing.start
                record.due = max(now, record.start_at or now)
        elif phase == SessionPhase.AVAILABLE:
            if record.end_at is not None and now >= record.end_at:
                self._fail(work, "The booked slot ended before the session could start")
                return
            outcome = await self.platform.start(session, state)
            self._apply(work, outcome)
            if not outcome.ok:
                self._fail(work, "The executable could not be started", outcome)
                return
            self._move(work, SessionPhase.RUNNING)
            for c in session.components():
                sched = _schedule_of(c)
                sched.available = Window(
                    Interval(_dt(now)), sched.available.duration if sched.available else None
                )
            record.due = self._next_poll(record, now)
        elif phase == SessionPhase.RUNNING:
            await self._poll(work, now)
        elif phase == SessionPhase.RELEASING:
            outcome = await self.platform.release(session, state)
            self._apply(work, outcome)
            if outcome.retry_after is not None and outcome.ok:
                record.due = now + outcome.retry_after
                return
            if not outcome.ok:
                record.ending = "failed"
                session.meta.messages.append(
                    Message.make(
                        COMPONENT_FAILED,
                        Level.ERROR,
                        "Release failed: the session's results or resources could not be released cleanly",
                    )
                )
            final = FINAL_BY_ENDING.get(record.ending or "completed", SessionPhase.COMPLETED)
            self._finish(work, final, now)
        else:
            record.due = None

    def _begin_preparing(self, work: Work, now: float) -> None:
        self._move(work, SessionPhase.PREPARING)
        for c in work.session.components():
            _schedule_of(c).preparing = Step(_dt(now), None)
        work.record.due = now

    async def _poll(self, work: Work, now: float) -> None:
        record, session = work.record, work.session
        status = await self.platform.status(session, record.platform_state)
        session.meta.messages.extend(status.messages)
        if status.connectors is not None:
            session.connectors = status.connectors
        grace = self.config.stop_grace.total_seconds()
        if status.state == RunState.RUNNING or status.state == RunState.PENDING:
            if record.end_at is not None and now >= record.end_at + grace:
                outcome = await self.platform.stop(session, record.platform_state)
                self._apply(work, outcome)
                code = await self._exit_code(session, record)
                session.meta.messages.append(
                    Message.make(
                        "urn:slot-ended",
                        Level.INFO,
                        "The booked slot ended at ${end}; the executable was stopped"
                        + ("" if code is None else " (it exited with code ${code})"),
                        end=_dt(record.end_at),
                        **({} if code is None else {"code": code}),
                    )
                )
                record.ending = "completed"
                self._begin_release(work, now)
            else:
                record.due = self._next_poll(record, now)
            return
        if status.state == RunState.EXITED and status.exit_code == 0:
            record.ending = "completed"
        elif status.state == RunState.EXITED:
            record.ending = "failed"
            session.meta.messages.append(
                Message.make(
                    EXECUTION_FAILED,
                    Level.ERROR,
                    "The executable [${name}] exited with code ${code}",
                    name=session.executable.label if session.executable else "(none)",
                    code=status.exit_code,
                )
            )
        else:
            record.ending = "failed"
            session.meta.messages.append(
                Message.make(EXECUTION_FAILED, Level.ERROR, "The executable disappeared from the platform")
            )
        self._begin_release(work, now)

    async def _exit_code(self, session: Session, record: SessionRecord) -> int | None:
        """The exit code of an executable just stopped, if the platform already knows it."""
        try:
            after = await self.platform.status(session, record.platform_state)
        except Exception:  # only for the message: the stop itself has been done
            log.warning("no exit code after stopping %s", record.uuid, exc_info=True)
            return None
        return after.exit_code if after.state == RunState.EXITED else None

    def _next_poll(self, record: SessionRecord, now: float) -> float:
        due = now + self.config.poll_interval.total_seconds()
        if record.end_at is not None:
            due = min(due, max(now, record.end_at + self.config.stop_grace.total_seconds()))
        return due

    def _begin_release(self, work: Work, now: float) -> None:
        self._move(work, SessionPhase.RELEASING)
        for c in work.session.components():
            _schedule_of(c).releasing = Step(_dt(now), None)
        work.record.due = now

    async def _cleanup(self, work: Work) -> None:
        """A cancelled session: stop and remove whatever it has on the platform, then free the slot."""
        record, session = work.record, work.session
        if record.needs_release:
            outcome = await self.platform.stop(session, record.platform_state)
            self._apply(work, outcome)
            outcome = await self.platform.release(session, record.platform_state)
            self._apply(work, outcome)
            if not outcome.ok:
                session.meta.messages.extend(outcome.messages)
        for c in session.components():
            c.phase = ComponentPhase.CANCELLED
        for connector in session.connectors:
            connector.status = ConnectorStatus.FINISHED
        record.needs_release = False
        record.due = None
        work.release_slot = True

    def _move(self, work: Work, target: SessionPhase, note: str | None = None) -> None:
        record = work.record
        work.transitions.append((record.phase, target, note))
        record.phase = target
        component_phase = COMPONENT_FOR_SESSION[target]
        for c in work.session.components():
            if c.phase is None or not c.phase.is_final:
                c.phase = component_phase
        if target != SessionPhase.RUNNING:
            return
        # Only the executable and the compute resource run; storage and data stay available.
        for c in work.session.storage + work.session.data:
            if c.phase == ComponentPhase.RUNNING:
                c.phase = ComponentPhase.AVAILABLE

    def _apply(self, work: Work, outcome: Outcome) -> None:
        work.session.meta.messages.extend(outcome.messages)
        work.measured = work.measured or bool(outcome.measurements)
        if outcome.connectors is not None:
            work.session.connectors = outcome.connectors
        by_uuid = {c.meta.uuid: c for c in work.session.components()}
        for uuid, phase in outcome.phases.items():
            component = by_uuid.get(uuid)
            if component is not None:
                component.phase = phase

    def _fail(self, work: Work, why: str, outcome: Outcome | None = None) -> None:
        work.session.meta.messages.append(Message.make(COMPONENT_FAILED, Level.ERROR, why))
        work.record.ending = "failed"
        work.record.needs_release = True
        self._begin_release(work, time.time())

    def _finish(self, work: Work, final: SessionPhase, now: float) -> None:
        self._move(work, final)
        for c in work.session.components():
            sched = _schedule_of(c)
            if sched.releasing and sched.releasing.start:
                sched.releasing.duration = _dt(now) - sched.releasing.start
            if final == SessionPhase.FAILED and c.phase != ComponentPhase.FAILED:
                c.phase = ComponentPhase.FAILED if c is work.session.executable else ComponentPhase.COMPLETED
        for connector in work.session.connectors:
            connector.status = ConnectorStatus.FINISHED
        work.record.due = None
        work.record.needs_release = False
        work.release_slot = True

    async def _persist(self, work: Work) -> None:
        record = work.record
        record.body = self.codec.session_body(work.session)
        record.lease_owner = None
        record.lease_until = None
        now = datetime.now(UTC)
        record.modified = now.timestamp()

        def write(conn: Connection) -> bool:
            with self.ledger.lock:
                current = get_session(conn, record.uuid, lock=True)
                if current is None or current.version != record.version:
                    return False
                if not save_session(conn, record):
                    return False
                for source, target, note in work.transitions:
                    record_event(conn, record.uuid, record.modified, source, target, self.owner, note)
                if work.release_slot:
                    self.ledger.release(conn, [record.uuid], now)
                learned = self.platform.learned_throughput() if work.measured else None
                if learned:
                    save_throughput(conn, learned)
                return True

        saved = await self.db.run_write(write, on_error=self.ledger.invalidate)
        self.steps_done += 1
        if saved:
            self.notifier.session_changed([record.uuid])
        else:
            log.info("session %s changed during its step; the step's result was dropped", record.uuid)


def _alive(pid: int) -> bool:
    """Whether a process with this id exists here (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/status") as status:
            return not any(line.startswith("State:") and "Z" in line.split()[1] for line in status)
    except OSError:
        return True


def _schedule_of(component: Component) -> Schedule:
    if component.schedule is None:
        component.schedule = Schedule()
    return component.schedule
