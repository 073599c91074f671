"""Offer requests: from a decoded request to a stored offer set, in one booking transaction.

policy (may this platform run it?) -> platform (can it, and how long will preparation take?) ->
scheduling (which slots are free?) -> store (holds + offers, atomically).
"""

from __future__ import annotations

import asyncio
import functools
import math
import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from execbroker.model.components import (
    Compute,
    ComputeKind,
    Data,
    ExecutionRequest,
    Family,
    Meta,
    MinMax,
    OfferSet,
    Option,
    OptionKind,
    Result,
    Schedule,
    Session,
    Step,
    Storage,
    StorageKind,
    Window,
    shallow_copy,
)
from execbroker.model.ids import uuid7, uuid7_texts
from execbroker.model.messages import (
    DEFAULTED,
    Level,
    Message,
)
from execbroker.model.phases import ComponentPhase, SessionPhase, client_options
from execbroker.model.times import ZERO, Interval, utcnow
from execbroker.platforms.base import Platform
from execbroker.policy.rules import Policy
from execbroker.scheduling.config import CapacityConfig
from execbroker.scheduling.offers import Bounds, Demand, Plan, Slot, SlotRequest, generate_for
from execbroker.services.codec import StoredCodec, session_options
from execbroker.services.notify import Notifier
from execbroker.store.db import Database
from execbroker.store.ledger import Ledger
from execbroker.store.offersets import insert_offersets
from execbroker.store.records import Hold, OfferSetRecord, SessionRecord
from execbroker.store.sessions import due_offers, record_events
from execbroker.wire.dialects import Dialect
from execbroker.wire.dialects.encoding import OfferChanges

GIB = 1024**3

#: With no start requested, any start within this window from now is fine.
DEFAULT_WINDOW = timedelta(hours=2)


BATCH = 64


@dataclass(slots=True)
class _Pending:
    """An offer request waiting for the next booking transaction."""

    request: ExecutionRequest
    prototype: Session
    slot_request: SlotRequest | None
    messages: list[Message]
    offerset_uuid: uuidlib.UUID
    dialect: str
    owner: str
    base_url: str
    now: datetime
    direct: bool
    future: asyncio.Future[Answer]

    def offerset(self) -> OfferSet:
        """A fresh offer set for this request (a retried booking starts from scratch)."""
        meta = Meta(
            uuid=self.offerset_uuid,
            name=self.request.meta.name,
            created=self.now,
            description=self.request.meta.description,
            url=f"{self.base_url}/offersets/{self.offerset_uuid}",
            messages=list(self.messages),
        )
        return OfferSet(meta=meta)


@dataclass(slots=True)
class _Rows:
    """What one booking transaction writes."""

    offersets: list[OfferSetRecord] = field(default_factory=list)
    sessions: list[SessionRecord] = field(default_factory=list)
    components: list[tuple[str, str, str]] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    events: list[tuple[str, float, SessionPhase | None, SessionPhase, str, str | None]] = field(
        default_factory=list
    )


@dataclass(slots=True)
class Answer:
    """What an offer request produced."""

    offerset: OfferSet
    dialect: str
    accepted: Session | None = None
    #: The exact v1.0 documents of the offers, when they were already written for the store.
    v10_offers: list[dict[str, Any]] | None = None
    #: With ``v10_offers``: the offer set's own v1.0 document (without its offers), as stored.
    v10_shell: dict[str, Any] | None = None


def new_uuid() -> uuidlib.UUID:
    return uuid7()


class OfferService:
    def __init__(
        self,
        db: Database,
        ledger: Ledger,
        capacity: CapacityConfig,
        policy: Policy,
        platform: Platform,
        codec: StoredCodec,
        notifier: Notifier,
        overrun: timedelta = ZERO,
    ) -> None:
        """``overrun``: how long the engine lets an executable run past its slot before stopping it
        (``engine.stop_grace``); it is booked after the slot with the release time."""
        self.overrun = overrun
        self.db = db
        self.ledger = ledger
        self.capacity = capacity
        self.policy = policy
        self.platform = platform
        self.codec = codec
        self.notifier = notifier
        self._pending: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None

    # -- the request ----------------------------------------------------------------------------

    async def request(
        self, request: ExecutionRequest, *, dialect: str, owner: str, base_url: str, direct: bool = False
    ) -> Answer:
        """Answer an offer request (or a direct execution): decide, book and store, atomically.

        Requests that arrive together are booked together, in one transaction (a group commit): each
        is still planned against the profile with the holds of the ones before it, so the answers are
        the same as one at a time, at a fraction of the database round trips.
        """
        now = utcnow()
        prototype, problems, notes = self._prototype(request)
        if not problems:
            problems.extend(self.platform.supports(prototype))
        item = _Pending(
            request=request,
            prototype=prototype,
            slot_request=None if problems else self._slot_request(request, prototype, now, direct),
            messages=notes + problems,
            offerset_uuid=new_uuid(),
            dialect=dialect,
            owner=owner,
            base_url=base_url,
            now=now,
            direct=direct,
            future=asyncio.get_running_loop().create_future(),
        )
        self._pending.append(item)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        answer = await item.future
        if answer.accepted is not None:
            self.notifier.wake_engine()
        return answer

    async def _flush(self) -> None:
        while self._pending:
            await asyncio.sleep(0)  # let requests that are already being read join this batch
            batch, self._pending = self._pending[:BATCH], self._pending[BATCH:]
            expired: list[str] = []
            try:
                answers = await self.db.run_write(
                    functools.partial(self._book, batch=batch, expired=expired),
                    on_error=self.ledger.invalidate,
                )
            except Exception:
                # One bad request must not fail its neighbours: book each alone.
                for item in batch:
                    try:
                        alone = await self.db.run_write(
                            functools.partial(self._book, batch=[item], expired=expired),
                            on_error=self.ledger.invalidate,
                        )
                        answer = alone[0]
                    except Exception as exc:
                        if not item.future.done():
                            item.future.set_exception(exc)
                    else:
                        if not item.future.done():
                            item.future.set_result(answer)
            else:
                for item, answer in zip(batch, answers, strict=True):
                    if not item.future.done():
                        item.future.set_result(answer)
            if expired:
                self.notifier.session_changed(expired)

    def _book(self, conn: Connection, batch: list[_Pending], expired: list[str]) -> list[Answer]:
        """Plan and store a batch of requests in one transaction (``expired``: offers expired in it).

        Offers past their expiry are expired first, in the same transaction: they can no longer be
        accepted, so their holds must not keep a new request from the slot until the engine's sweep.
        """
        rows = _Rows()
        answers: list[Answer] = []
        with self.ledger.lock:
            now = utcnow()
            planning = any(i.slot_request for i in batch)
            if planning:
                expired.extend(expire_offers(conn, self.ledger, now))
            profiles = self.ledger.sync(conn, now) if planning else {}
            for item in batch:
                offerset = item.offerset()
                if item.slot_request is None:
                    offerset.result = Result.NO
                    self._store(rows, offerset, item.dialect, item.owner)
                    answers.append(Answer(offerset, item.dialect))
                    continue
                plan = generate_for(self.capacity, profiles, item.slot_request, item.now)
                answers.append(self._answer(rows, plan, item, offerset))
            insert_offersets(conn, rows.offersets, rows.sessions, rows.components)
            if rows.holds:
                self.ledger.write_holds(conn, rows.holds)
            record_events(conn, rows.events)
        return answers

    # -- building blocks --------------------------------------------------------------------------

    def _prototype(self, request: ExecutionRequest) -> tuple[Session, list[Message], list[Message]]:
        """The session every offer is a copy of: defaults filled in, data linked to storage."""
        problems = list(request.problems)
        notes = list(request.notes)
        problems.extend(self.policy.check(request))
        compute = request.compute
        if compute is None:
            compute = Compute(
                kind=ComputeKind.SIMPLE,
                meta=Meta(name="default-compute"),
                cores=MinMax(self.capacity.default_cores, None),
                memory=MinMax(self.capacity.default_memory, None),
            )
            notes.append(
                Message.make(
                    DEFAULTED,
                    Level.INFO,
                    "No compute resource was requested; a default of ${cores} core(s) and ${memory} GiB"
                    " was used",
                    cores=self.capacity.default_cores,
                    memory=self.capacity.default_memory,
                )
            )
        storage = list(request.storage)
        data = list(request.data)
        by_key: dict[str, Storage] = {}
        for item in storage:
            if item.meta.name:
                by_key[item.meta.name] = item
            if item.meta.uuid:
                by_key[str(item.meta.uuid)] = item
        links: dict[int, Storage] = {}
        for index, entry in enumerate(data):
            target = by_key.get(entry.storage) if entry.storage else None
            if target is None and not entry.storage:
                target = next((s for s in storage if entry.meta.name and entry.meta.name in s.data), None)
            if target is None:
                if entry.storage:
                    continue  # policy has said why (resource-not-found)
                target = Storage(
                    kind=StorageKind.SIMPLE,
                    meta=Meta(name=f"Storage for [{entry.label}]"),
                    size=MinMax(self._data_size_gib(entry), None),
                )
                storage.append(target)
            links[index] = target
        session = Session(
            executable=request.executable,
            compute=compute,
            storage=storage,
            data=data,
            volumes=list(request.volumes),
            costs=list(request.costs),
            metrics=list(request.metrics),
        )
        # Remember the links by position (uuids are given per offer); name the storage meanwhile.
        session.links = {index: storage.index(target) for index, target in links.items()}
        for index, target in links.items():
            data[index].storage = target.meta.name or (str(target.meta.uuid) if target.meta.uuid else None)
        return session, problems, notes

    @staticmethod
    def _data_size_gib(item: Data) -> int:
        skao = item.spec.get("skao")
        size = skao.get("datasize") if isinstance(skao, dict) else None
        if isinstance(size, int) and size > 0:
            return max(1, math.ceil(size / GIB))
        return 1

    def _slot_request(
        self, request: ExecutionRequest, prototype: Session, now: datetime, direct: bool
    ) -> SlotRequest:
        compute = prototype.compute
        assert compute is not None
        cores = compute.cores or MinMax()
        memory = compute.memory or MinMax()
        storage_min = sum((s.size.min if s.size and s.size.min else 1) for s in prototype.storage)
        storage_max: int | None = None
        if prototype.storage and all(s.size and s.size.max for s in prototype.storage):
            storage_max = sum(s.size.max for s in prototype.storage if s.size and s.size.max)
        demand = Demand(
            cores=Bounds(cores.min if cores.min is not None else self.capacity.default_cores, cores.max),
            memory=Bounds(memory.min if memory.min is not None else self.capacity.default_memory, memory.max),
            storage=Bounds(storage_min, storage_max),
            gpus=Bounds(0, None),
        )
        start = request.schedule.start
        window_start = start.start if start else now
        window_width = start.width if start else DEFAULT_WINDOW
        duration = request.schedule.duration
        if duration is None:  # PT0S is not 'none given': the planner refuses it as too short
            duration = self.capacity.default_duration
        return SlotRequest(
            demand=demand,
            window_start=window_start,
            window_width=window_width,
            duration=duration,
            max_duration=None,
            preparation=self.platform.preparation_time(prototype),
            release=self.platform.release_time(prototype) + self.overrun,
            lead=ZERO if direct else self.capacity.min_accept_time,
            count=1 if direct else self.capacity.offers_per_request,
        )

    def _answer(self, rows: _Rows, plan: Plan, item: _Pending, offerset: OfferSet) -> Answer:
        dialect, owner, base_url, now = item.dialect, item.owner, item.base_url, item.now
        if not plan.slots:
            offerset.result = Result.NO
            offerset.meta.messages.extend(plan.reasons)
            self._store(rows, offerset, dialect, owner)
            return Answer(offerset, dialect)
        offerset.result = Result.YES
        lifetime_end = now + self.capacity.offer_lifetime
        # An offer can be accepted until its lifetime ends or its preparation is due, whichever is first.
        expiries = [min(lifetime_end, slot.preparing_start) for slot in plan.slots]
        record = self._store(rows, offerset, dialect, owner)
        first = self._offer(item.prototype, plan.slots[0], 0, offerset, base_url, now, expiries[0])
        accepted = None
        if item.direct:
            accepted = first
            accepted.phase = SessionPhase.ACCEPTED
            accepted.expires = None
            accepted.meta.options = session_options(SessionPhase.ACCEPTED)
            rows.events.append(
                (str(accepted.meta.uuid), now.timestamp(), None, SessionPhase.ACCEPTED, "direct", None)
            )
        body, exact = self.codec.offer_body(first)
        index = _component_index(first)
        self._add_offer(rows, record, 0, plan.slots[0], first.phase, body, index, expiries[0].timestamp())
        bodies = [body]
        # The other offers differ from the first only in identities, schedule and amounts. When the
        # first one's document is exact v1.0 (what the answer is written in), write them from it;
        # otherwise build each as a session and encode it.
        restamp = exact and not item.direct and dialect == Dialect.V1_0.value
        offers = [first]
        olds = [body["meta"]["uuid"], *(uuid for uuid, _ in index)]
        news = uuid7_texts(len(olds) * (len(plan.slots) - 1)) if restamp else []
        for position, slot in enumerate(plan.slots[1:], start=1):
            if restamp:
                at = (position - 1) * len(olds)
                renames = dict(zip(olds, news[at : at + len(olds)], strict=True))
                changes = OfferChanges(
                    renames=renames,
                    name=_offer_name(offerset, position),
                    schedule=_schedule(slot),
                    cores=slot.amounts.cores if first.compute is not None else None,
                    memory=slot.amounts.memory if first.compute is not None else None,
                    storage_sizes=_storage_shares(item.prototype.storage, slot.amounts.storage),
                    expires=expiries[position],
                )
                body = self.codec.restamp(bodies[0], changes)
                self._add_offer(
                    rows,
                    record,
                    position,
                    slot,
                    SessionPhase.OFFERED,
                    body,
                    [(renames[uuid], family) for uuid, family in index],
                    expiries[position].timestamp(),
                )
            else:
                expires = expiries[position]
                offer = self._offer(item.prototype, slot, position, offerset, base_url, now, expires)
                offers.append(offer)
                body, exact = self.codec.offer_body(offer)
                self._add_offer(
                    rows,
                    record,
                    position,
                    slot,
                    offer.phase,
                    body,
                    _component_index(offer),
                    expires.timestamp(),
                )
            bodies.append(body)
        holds = [
            Hold(
                pool=slot.pool,
                session_uuid=session.uuid,
                start=slot.preparing_start.timestamp(),
                end=slot.release_end.timestamp(),
                cores=slot.amounts.cores,
                memory=slot.amounts.memory,
                storage=slot.amounts.storage,
                gpus=slot.amounts.gpus,
                grid_slots=slot.grid_slots,
            )
            for slot, session in zip(plan.slots, rows.sessions[-len(plan.slots) :], strict=True)
        ]
        self.ledger.apply_holds(holds)
        rows.holds.extend(holds)
        if restamp:
            # The answer is the v1.0 documents; no session objects were built for offers 2..n.
            return Answer(offerset, dialect, accepted, bodies, record.body)
        offerset.offers = offers
        if exact and dialect == Dialect.V1_0.value:
            return Answer(offerset, dialect, accepted, bodies, record.body)
        return Answer(offerset, dialect, accepted)

    def _offer(
        self,
        prototype: Session,
        slot: Slot,
        position: int,
        offerset: OfferSet,
        base_url: str,
        now: datetime,
        expires: datetime,
    ) -> Session:
        offer = _clone(prototype)
        offer.meta = Meta(
            uuid=new_uuid(),
            name=_offer_name(offerset, position),
            created=now,
        )
        offer.meta.url = f"{base_url}/sessions/{offer.meta.uuid}"
        offer.phase = SessionPhase.OFFERED
        offer.expires = expires
        schedule = _schedule(slot)
        offer.schedule = schedule
        families: list[tuple[list[object], Family]] = []
        for component, family in (
            ([offer.executable] if offer.executable else [], Family.EXECUTABLE),
            ([offer.compute] if offer.compute else [], Family.COMPUTE),
            (offer.storage, Family.STORAGE),
            (offer.data, Family.DATA),
        ):
            families.append((list(component), family))
            for item in component:
                item.meta = Meta(
                    uuid=new_uuid(), name=item.meta.name, description=item.meta.description, created=now
                )
                item.meta.url = f"{base_url}/{family.value}/{item.meta.uuid}"
                item.phase = ComponentPhase.INITIALIZING
                item.schedule = _copy_schedule(schedule)
        if offer.compute is not None:
            offer.compute.cores = MinMax(slot.amounts.cores, slot.amounts.cores)
            offer.compute.memory = MinMax(slot.amounts.memory, slot.amounts.memory)
            for mount in offer.compute.volumes:
                mount.meta = Meta(uuid=new_uuid(), name=mount.meta.name, created=now)
                mount.meta.url = f"{base_url}/{Family.VOLUME.value}/{mount.meta.uuid}"
        for storage, share in zip(
            offer.storage, _storage_shares(offer.storage, slot.amounts.storage), strict=True
        ):
            storage.size = MinMax(share, share)
            storage.data = []
        for index, data in enumerate(offer.data):
            if index in prototype.links:
                target = offer.storage[prototype.links[index]]
                data.storage = str(target.meta.uuid)
                target.data.append(str(data.meta.uuid))
        offer.meta.options = [
            Option(OptionKind.ENUM_VALUE, "phase", [p.value for p in client_options(SessionPhase.OFFERED)])
        ]
        return offer

    def _store(self, rows: _Rows, offerset: OfferSet, dialect: str, owner: str) -> OfferSetRecord:
        """Add the row of an offer set (its offers are added one by one with :meth:`_add_offer`)."""
        record = OfferSetRecord(
            uuid=str(offerset.meta.uuid),
            created=(offerset.meta.created or utcnow()).timestamp(),
            owner=owner,
            dialect=dialect,
            result=(offerset.result or Result.NO).value,
            body=self.codec.offerset_body(offerset),
        )
        rows.offersets.append(record)
        return record

    @staticmethod
    def _add_offer(
        rows: _Rows,
        offerset: OfferSetRecord,
        position: int,
        slot: Slot,
        phase: SessionPhase,
        body: dict[str, Any],
        components: list[tuple[str, str]],
        expires: float,
    ) -> None:
        """Add the rows of one offer: the session and its component index."""
        uuid = body["meta"]["uuid"]
        created = offerset.created
        accepted = phase == SessionPhase.ACCEPTED
        rows.sessions.append(
            SessionRecord(
                uuid=uuid,
                offerset_uuid=offerset.uuid,
                position=position,
                created=created,
                modified=created,
                owner=offerset.owner,
                dialect=offerset.dialect,
                phase=phase,
                body=body,
                expires=None if accepted else expires,
                due=created if accepted else None,
                pool=slot.pool,
                prepare_at=slot.preparing_start.timestamp(),
                start_at=slot.start.timestamp(),
                end_at=(slot.start + slot.duration).timestamp(),
                release_end_at=slot.release_end.timestamp(),
            )
        )
        rows.components.extend((component, uuid, family) for component, family in components)


def _offer_name(offerset: OfferSet, position: int) -> str | None:
    return f"{offerset.meta.name}-offer-{position}" if offerset.meta.name else None


def _schedule(slot: Slot) -> Schedule:
    release_start = slot.start + slot.duration
    return Schedule(
        preparing=Step(slot.preparing_start, slot.start - slot.preparing_start),
        available=Window(Interval(slot.start), slot.duration),
        releasing=Step(release_start, slot.release_end - release_start),
    )


def _storage_shares(storage: list[Storage], granted: int) -> list[int]:
    """Give each storage resource its minimum, then the rest in order up to each maximum."""
    left = granted
    mins = [(s.size.min if s.size and s.size.min else 1) for s in storage]
    shares = list(mins)
    left -= sum(mins)
    for index, item in enumerate(storage):
        cap = item.size.max if item.size and item.size.max else mins[index]
        extra = max(0, min(left, cap - shares[index]))
        shares[index] += extra
        left -= extra
    return shares


def _component_index(offer: Session) -> list[tuple[str, str]]:
    """(uuid, family) of every component of an offer, volume mounts included, in document order."""
    out = [(str(c.meta.uuid), _family(c)) for c in offer.components()]
    if offer.compute is not None:
        out.extend((str(m.meta.uuid), Family.VOLUME.value) for m in offer.compute.volumes)
    return out


def _copy_schedule(schedule: Schedule) -> Schedule:
    p, a, r = schedule.preparing, schedule.available, schedule.releasing
    return Schedule(
        preparing=Step(p.start, p.duration) if p else None,
        available=Window(a.start, a.duration) if a else None,
        releasing=Step(r.start, r.duration) if r else None,
    )


def _clone(prototype: Session) -> Session:
    """A copy of the prototype whose components can be changed without touching it.

    Much cheaper than ``copy.deepcopy``: kind-specific ``spec`` data is shared, because nothing
    changes it while offers are made (each offer is encoded into its own stored body).
    """
    offer = shallow_copy(prototype)
    if prototype.executable is not None:
        offer.executable = shallow_copy(prototype.executable)
    if prototype.compute is not None:
        compute = shallow_copy(prototype.compute)
        compute.volumes = [shallow_copy(m) for m in prototype.compute.volumes]
        offer.compute = compute
    offer.storage = [shallow_copy(s) for s in prototype.storage]
    offer.data = [shallow_copy(d) for d in prototype.data]
    offer.volumes = list(prototype.volumes)
    offer.connectors = []
    return offer


def expire_offers(conn: Connection, ledger: Ledger, now: datetime) -> list[str]:
    """Move every OFFERED session past its expiry to EXPIRED and free its hold."""
    from sqlalchemy import update

    from execbroker.store import tables

    due = due_offers(conn, now.timestamp())
    if not due:
        return []
    uuids = [r.uuid for r in due]
    stamp = now.timestamp()
    conn.execute(
        update(tables.sessions)
        .where(tables.sessions.c.uuid.in_(uuids), tables.sessions.c.phase == SessionPhase.OFFERED.value)
        .values(phase=SessionPhase.EXPIRED.value, modified=stamp, version=tables.sessions.c.version + 1)
    )
    record_events(
        conn, [(uuid, stamp, SessionPhase.OFFERED, SessionPhase.EXPIRED, "expiry", None) for uuid in uuids]
    )
    ledger.release(conn, uuids, now)
    return uuids


def _family(component: object) -> str:
    from execbroker.model.components import Executable

    if isinstance(component, Executable):
        return Family.EXECUTABLE.value
    if isinstance(component, Compute):
        return Family.COMPUTE.value
    if isinstance(component, Storage):
        return Family.STORAGE.value
    return Family.DATA.value
