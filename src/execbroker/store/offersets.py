"""Offer sets: insert with their offers, read back, list."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from execbroker.store import tables
from execbroker.store.bulk import BulkInsert
from execbroker.store.records import OfferSetRecord, SessionRecord

_OFFERSET_COLUMNS = ("uuid", "created", "owner", "dialect", "result", "body")
_INSERT_OFFERSET = BulkInsert(tables.offersets, _OFFERSET_COLUMNS, json_columns=("body",))
_SESSION_COLUMNS = tuple(c.name for c in tables.sessions.columns)
_INSERT_SESSION = BulkInsert(tables.sessions, _SESSION_COLUMNS, json_columns=("body", "platform_state"))
_INSERT_COMPONENT = BulkInsert(tables.components, ("uuid", "session_uuid", "family"))


def insert_offerset(
    conn: Connection,
    offerset: OfferSetRecord,
    sessions: list[SessionRecord],
    components: list[tuple[str, str, str]],
) -> None:
    """Write an offer set, its sessions and the component index (uuid, session uuid, family)."""
    insert_offersets(conn, [offerset], sessions, components)


def insert_offersets(
    conn: Connection,
    offersets: list[OfferSetRecord],
    sessions: list[SessionRecord],
    components: list[tuple[str, str, str]],
) -> None:
    """Write several offer sets at once (one statement per table)."""
    _INSERT_OFFERSET.execute(
        conn, [(o.uuid, o.created, o.owner, o.dialect, o.result, o.body) for o in offersets]
    )
    _INSERT_SESSION.execute(conn, [_session_tuple(s.as_row()) for s in sessions])
    _INSERT_COMPONENT.execute(conn, components)


def _session_tuple(row: dict[str, object]) -> tuple[object, ...]:
    return tuple(row[column] for column in _SESSION_COLUMNS)


def get_offerset(conn: Connection, uuid: str) -> tuple[OfferSetRecord, list[SessionRecord]] | None:
    row = conn.execute(select(tables.offersets).where(tables.offersets.c.uuid == uuid)).first()
    if row is None:
        return None
    rows = conn.execute(
        select(tables.sessions)
        .where(tables.sessions.c.offerset_uuid == uuid)
        .order_by(tables.sessions.c.position)
    ).all()
    return OfferSetRecord.from_row(row), [SessionRecord.from_row(r) for r in rows]


def list_offersets(
    conn: Connection, *, owner: str | None, result: str | None, limit: int, offset: int
) -> tuple[list[OfferSetRecord], int]:
    query = select(tables.offersets)
    count = select(func.count()).select_from(tables.offersets)
    if owner is not None:
        query = query.where(tables.offersets.c.owner == owner)
        count = count.where(tables.offersets.c.owner == owner)
    if result is not None:
        query = query.where(tables.offersets.c.result == result)
        count = count.where(tables.offersets.c.result == result)
    rows = conn.execute(
        query.order_by(tables.offersets.c.created.desc(), tables.offersets.c.uuid).limit(limit).offset(offset)
    ).all()
    total = conn.execute(count).scalar_one()
    return [OfferSetRecord.from_row(r) for r in rows], int(total)
