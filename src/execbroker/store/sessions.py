"""Sessions: read, list, update with optimistic versions, claim due work, record events."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from execbroker.model.phases import SessionPhase
from execbroker.store import tables
from execbroker.store.records import SessionRecord

S = tables.sessions


def get_session(conn: Connection, uuid: str, *, lock: bool = False) -> SessionRecord | None:
    query = select(S).where(S.c.uuid == uuid)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    return SessionRecord.from_row(row) if row is not None else None


def session_stamps(conn: Connection, uuids: list[str]) -> dict[str, float]:
    """The ``modified`` time of each of these sessions (a missing one is left out)."""
    out: dict[str, float] = {}
    for at in range(0, len(uuids), 500):
        query = select(S.c.uuid, S.c.modified).where(S.c.uuid.in_(uuids[at : at + 500]))
        out.update((str(row[0]), float(row[1])) for row in conn.execute(query).all())
    return out


def get_siblings(conn: Connection, offerset_uuid: str, *, lock: bool = False) -> list[SessionRecord]:
    query = select(S).where(S.c.offerset_uuid == offerset_uuid).order_by(S.c.position)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return [SessionRecord.from_row(r) for r in conn.execute(query).all()]


def list_sessions(
    conn: Connection,
    *,
    owner: str | None,
    phases: Sequence[SessionPhase] | None,
    offerset: str | None,
    limit: int,
    offset: int,
) -> tuple[list[SessionRecord], int]:
    query = select(S)
    count = select(func.count()).select_from(S)
    conditions = []
    if owner is not None:
        conditions.append(S.c.owner == owner)
    if phases:
        conditions.append(S.c.phase.in_([p.value for p in phases]))
    if offerset is not None:
        conditions.append(S.c.offerset_uuid == offerset)
    if conditions:
        query = query.where(and_(*conditions))
        count = count.where(and_(*conditions))
    rows = conn.execute(query.order_by(S.c.created.desc(), S.c.uuid).limit(limit).offset(offset)).all()
    return [SessionRecord.from_row(r) for r in rows], int(conn.execute(count).scalar_one())


def save_session(conn: Connection, record: SessionRecord) -> bool:
    """Write ``record`` if nobody changed it since it was read (its version); bumps the version."""
    row = record.as_row()
    row.pop("uuid")
    expected = record.version
    row["version"] = expected + 1
    result = conn.execute(update(S).where(S.c.uuid == record.uuid, S.c.version == expected).values(**row))
    if result.rowcount == 1:
        record.version = expected + 1
        return True
    return False


def record_event(
    conn: Connection,
    session_uuid: str,
    at: float,
    from_phase: SessionPhase | None,
    to_phase: SessionPhase,
    actor: str,
    note: str | None = None,
) -> None:
    conn.execute(
        insert(tables.events).values(
            session_uuid=session_uuid,
            at=at,
            from_phase=from_phase.value if from_phase else None,
            to_phase=to_phase.value,
            actor=actor,
            note=note,
        )
    )


def record_events(
    conn: Connection,
    rows: Sequence[tuple[str, float, SessionPhase | None, SessionPhase, str, str | None]],
) -> None:
    """Record several phase changes in one statement."""
    if rows:
        conn.execute(
            insert(tables.events),
            [
                {
                    "session_uuid": uuid,
                    "at": at,
                    "from_phase": source.value if source else None,
                    "to_phase": target.value,
                    "actor": actor,
                    "note": note,
                }
                for uuid, at, source, target, actor, note in rows
            ],
        )


def claim_due(conn: Connection, *, now: float, owner: str, lease: float, limit: int) -> list[SessionRecord]:
    """Take a lease on up to ``limit`` sessions whose next step is due and that nobody else holds."""
    free = or_(S.c.lease_until.is_(None), S.c.lease_until < now)
    query = select(S).where(S.c.due.is_not(None), S.c.due <= now, free).order_by(S.c.due).limit(limit)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    records = [SessionRecord.from_row(r) for r in conn.execute(query).all()]
    claimed = []
    for record in records:
        result = conn.execute(
            update(S)
            .where(S.c.uuid == record.uuid, S.c.version == record.version)
            .values(lease_owner=owner, lease_until=now + lease, version=record.version + 1)
        )
        if result.rowcount == 1:
            record.lease_owner = owner
            record.lease_until = now + lease
            record.version += 1
            claimed.append(record)
    return claimed


def renew_leases(conn: Connection, uuids: Sequence[str], owner: str, until: float) -> int:
    """Extend this owner's leases (a heartbeat while steps run); the version is not touched."""
    if not uuids:
        return 0
    result = conn.execute(
        update(S).where(S.c.uuid.in_(list(uuids)), S.c.lease_owner == owner).values(lease_until=until)
    )
    return int(result.rowcount or 0)


def lease_owners(conn: Connection, now: float) -> list[str]:
    """Owners that hold a lease that has not run out."""
    rows = conn.execute(select(S.c.lease_owner).where(S.c.lease_until > now).distinct()).all()
    return [str(r[0]) for r in rows if r[0]]


def drop_leases(conn: Connection, owner: str) -> int:
    """Forget every lease of ``owner`` (a process known to be dead)."""
    result = conn.execute(
        update(S).where(S.c.lease_owner == owner).values(lease_owner=None, lease_until=None)
    )
    return int(result.rowcount or 0)


def next_due(conn: Connection) -> float | None:
    value = conn.execute(select(func.min(S.c.due)).where(S.c.due.is_not(None))).scalar()
    return float(value) if value is not None else None


def oldest_overdue(conn: Connection, now: float) -> float | None:
    value = conn.execute(select(func.min(S.c.due)).where(S.c.due.is_not(None), S.c.due <= now)).scalar()
    return float(value) if value is not None else None


def due_offers(conn: Connection, now: float, limit: int = 500) -> list[SessionRecord]:
    """OFFERED sessions whose offer has expired."""
    query = (
        select(S)
        .where(S.c.phase == SessionPhase.OFFERED.value, S.c.expires <= now)
        .order_by(S.c.expires)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [SessionRecord.from_row(r) for r in conn.execute(query).all()]


def component_session(conn: Connection, uuid: str, family: str) -> str | None:
    row = conn.execute(
        select(tables.components.c.session_uuid).where(
            tables.components.c.uuid == uuid, tables.components.c.family == family
        )
    ).first()
    return str(row[0]) if row is not None else None


def phase_counts(conn: Connection) -> dict[str, int]:
    rows = conn.execute(select(S.c.phase, func.count()).group_by(S.c.phase)).all()
    return {str(r[0]): int(r[1]) for r in rows}


def list_events(conn: Connection, session_uuid: str) -> list[dict[str, object]]:
    E = tables.events
    rows = conn.execute(select(E).where(E.c.session_uuid == session_uuid).order_by(E.c.id)).all()
    return [
        {"at": r.at, "from": r.from_phase, "to": r.to_phase, "actor": r.actor, "note": r.note} for r in rows
    ]
