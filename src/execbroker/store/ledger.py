"""The reservation ledger: holds and bookings in the database, and an in-memory profile per pool.

Every booking transaction locks the pool rows (in name order, so two transactions never deadlock),
brings this process's profile of each pool up to the pool's version by reading only the reservations
changed since (an index range scan on ``(pool, changed_seq)``), asks the scheduler for slots, writes the
holds with the next version and bumps the pool version. The profile therefore never needs a scan of the
whole ledger, and several processes on one PostgreSQL database each keep theirs current.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, bindparam, insert, select, update

from execbroker.scheduling.amounts import Amounts
from execbroker.scheduling.config import CapacityConfig
from execbroker.scheduling.profile import Profile
from execbroker.store import tables
from execbroker.store.bulk import BulkInsert
from execbroker.store.records import Hold

R = tables.reservations
P = tables.pools
_INSERT_RESERVATION = BulkInsert(
    R,
    (
        "pool",
        "session_uuid",
        "start_at",
        "end_at",
        "cores",
        "memory",
        "storage",
        "gpus",
        "live",
        "created_seq",
        "changed_seq",
    ),
)
_SET_VERSION = update(P).where(P.c.name == bindparam("pool_name")).values(version=bindparam("new_version"))


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class Ledger:
    """This process's view of the reservation ledger, kept in step with the database."""

    def __init__(self, capacity: CapacityConfig) -> None:
        self.capacity = capacity
        self.pool_names = sorted(p.name for p in capacity.pools)
        self._profiles: dict[str, Profile] = {}
        self._versions: dict[str, int] = {}
        #: Held for the whole of a transaction that reads or changes the profiles.
        self.lock = threading.RLock()
        self._read_query = (
            select(P.c.name, P.c.version).where(P.c.name.in_(self.pool_names)).order_by(P.c.name)
        )
        self._lock_query = self._read_query.with_for_update()

    @property
    def span(self) -> timedelta:
        max_duration = self.capacity.limits.max_duration or timedelta(days=1)
        return self.capacity.horizon + 2 * max_duration + timedelta(days=1)

    def ensure_pools(self, conn: Connection) -> None:
        existing = {r[0] for r in conn.execute(select(P.c.name)).all()}
        missing = [name for name in self.pool_names if name not in existing]
        if missing:
            conn.execute(insert(P), [{"name": name, "version": 0} for name in missing])

    def invalidate(self) -> None:
        """Forget the profiles (after a failed transaction): the next sync rebuilds them."""
        with self.lock:
            self._versions.clear()
            self._profiles.clear()

    # -- inside a write transaction ------------------------------------------------------------

    def lock_pools(self, conn: Connection) -> dict[str, int]:
        """Lock every pool row in a fixed order and return their versions."""
        query = self._lock_query if conn.dialect.name == "postgresql" else self._read_query
        versions = {str(r[0]): int(r[1]) for r in conn.execute(query).all()}
        if len(versions) != len(self.pool_names):
            self.ensure_pools(conn)
            versions = {str(r[0]): int(r[1]) for r in conn.execute(query).all()}
        return versions

    def sync(self, conn: Connection, now: datetime) -> dict[str, Profile]:
        """Lock the pools and bring every profile up to date; returns the profiles."""
        versions = self.lock_pools(conn)
        for name, version in versions.items():
            profile = self._profiles.get(name)
            cached = self._versions.get(name, -1)
            if profile is None or cached > version or cached < 0:
                self._rebuild(conn, name, version, now)
                continue
            self._roll(profile, now)
            if cached < version:
                self._catch_up(conn, name, profile, cached)
                self._versions[name] = version
        return dict(self._profiles)

    def _roll(self, profile: Profile, now: datetime) -> None:
        """Slide the profile forward once its origin is more than an hour in the past."""
        if now - profile.origin > timedelta(hours=1):
            profile.shift(self._origin(now))

    def _origin(self, now: datetime) -> datetime:
        res = self.capacity.resolution.total_seconds()
        epoch = now.timestamp() - 600
        return _dt(epoch - (epoch % res))

    def _rebuild(self, conn: Connection, name: str, version: int, now: datetime) -> None:
        origin = self._origin(now)
        pool = next(p for p in self.capacity.pools if p.name == name)
        totals = Amounts(pool.cores, pool.memory, pool.storage, pool.gpus)
        profile = Profile(totals, origin, self.capacity.resolution, self.span)
        rows = conn.execute(
            select(R.c.start_at, R.c.end_at, R.c.cores, R.c.memory, R.c.storage, R.c.gpus).where(
                R.c.pool == name, R.c.live.is_(True), R.c.end_at > origin.timestamp()
            )
        ).all()
        for row in rows:
            profile.add(_dt(row[0]), _dt(row[1]), Amounts(row[2], row[3], row[4], row[5]))
        self._profiles[name] = profile
        self._versions[name] = version

    def _catch_up(self, conn: Connection, name: str, profile: Profile, cached: int) -> None:
        rows = conn.execute(
            select(
                R.c.start_at,
                R.c.end_at,
                R.c.cores,
                R.c.memory,
                R.c.storage,
                R.c.gpus,
                R.c.live,
                R.c.created_seq,
            ).where(R.c.pool == name, R.c.changed_seq > cached)
        ).all()
        for row in rows:
            amounts = Amounts(row[2], row[3], row[4], row[5])
            created_after = int(row[7]) > cached
            if row[6] and created_after:
                profile.add(_dt(row[0]), _dt(row[1]), amounts)
            elif not row[6] and not created_after:
                profile.remove(_dt(row[0]), _dt(row[1]), amounts)

    def add_holds(self, conn: Connection, holds: Iterable[Hold]) -> None:
        """Write holds and count them in the profiles (pools already locked and synced)."""
        items = list(holds)
        self.write_holds(conn, items)
        self.apply_holds(items)

    def apply_holds(self, holds: Iterable[Hold]) -> None:
        """Count holds in this process's profiles only; :meth:`write_holds` must follow in the same
        transaction (a failed transaction calls :meth:`invalidate`)."""
        for h in holds:
            amounts = Amounts(h.cores, h.memory, h.storage, h.gpus)
            if h.grid_slots is not None:
                self._profiles[h.pool].add_slots(h.grid_slots[0], h.grid_slots[1], amounts)
            else:
                self._profiles[h.pool].add(_dt(h.start), _dt(h.end), amounts)

    def write_holds(self, conn: Connection, holds: Iterable[Hold]) -> None:
        """Insert holds with the next version of their pool, and bump the pool versions."""
        by_pool: dict[str, list[Hold]] = {}
        for hold in holds:
            by_pool.setdefault(hold.pool, []).append(hold)
        for pool, items in by_pool.items():
            seq = self._versions[pool] + 1
            _INSERT_RESERVATION.execute(
                conn,
                [
                    (
                        h.pool,
                        h.session_uuid,
                        h.start,
                        h.end,
                        h.cores,
                        h.memory,
                        h.storage,
                        h.gpus,
                        True,
                        seq,
                        seq,
                    )
                    for h in items
                ],
            )
            conn.execute(_SET_VERSION, {"pool_name": pool, "new_version": seq})
            self._versions[pool] = seq

    def release(self, conn: Connection, session_uuids: Iterable[str], now: datetime) -> int:
        """Free the live reservations of these sessions; returns how many were freed."""
        uuids = list(session_uuids)
        if not uuids:
            return 0
        rows = conn.execute(
            select(
                R.c.id, R.c.pool, R.c.start_at, R.c.end_at, R.c.cores, R.c.memory, R.c.storage, R.c.gpus
            ).where(R.c.session_uuid.in_(uuids), R.c.live.is_(True))
        ).all()
        if not rows:
            return 0
        self.sync(conn, now)
        for pool in sorted({str(r[1]) for r in rows}):
            seq = self._versions[pool] + 1
            ids = [r[0] for r in rows if r[1] == pool]
            conn.execute(update(R).where(R.c.id.in_(ids)).values(live=False, changed_seq=seq))
            conn.execute(update(P).where(P.c.name == pool).values(version=seq))
            profile = self._profiles[pool]
            for r in rows:
                if r[1] == pool:
                    profile.remove(_dt(r[2]), _dt(r[3]), Amounts(r[4], r[5], r[6], r[7]))
            self._versions[pool] = seq
        return len(rows)


def live_reservations(
    conn: Connection, pool: str, start: float, end: float
) -> list[tuple[float, float, Amounts]]:
    """The live reservations of ``pool`` overlapping [start, end) (for reports and tests)."""
    rows = conn.execute(
        select(R.c.start_at, R.c.end_at, R.c.cores, R.c.memory, R.c.storage, R.c.gpus).where(
            R.c.pool == pool, R.c.live.is_(True), R.c.end_at > start, R.c.start_at < end
        )
    ).all()
    return [(float(r[0]), float(r[1]), Amounts(r[2], r[3], r[4], r[5])) for r in rows]
