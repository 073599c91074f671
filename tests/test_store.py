"""The store against the real database: migrations, the ledger's incremental profiles, leases."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect

from execbroker.model.phases import SessionPhase
from execbroker.scheduling.amounts import Amounts
from execbroker.scheduling.config import CapacityConfig
from execbroker.store.db import Database
from execbroker.store.ledger import Ledger, live_reservations
from execbroker.store.records import Hold, SessionRecord
from execbroker.store.sessions import claim_due, get_session, save_session
from execbroker.store.tables import metadata


@pytest.fixture
def db(database_url: str) -> Database:
    database = Database(database_url)
    database.migrate()
    yield database
    database.close()


def capacity() -> CapacityConfig:
    return CapacityConfig.model_validate(
        {"pools": [{"name": "a", "cores": 8, "memory": 16, "storage": 100}], "resolution": "PT60S"}
    )


def test_migrations_match_the_tables_and_run_twice(db: Database) -> None:
    db.migrate()  # a second start changes nothing and drops nothing
    inspector = inspect(db.engine)
    for table in metadata.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert columns == {c.name for c in table.columns}, table.name
        indexes = {i["name"] for i in inspector.get_indexes(table.name)}
        assert indexes == {i.name for i in table.indexes}, table.name
    assert db.current_revision() == db.head_revision()


def test_bulk_insert_writes_plain_and_json_columns(db: Database) -> None:
    from sqlalchemy import select

    from execbroker.store.bulk import BulkInsert
    from execbroker.store.tables import offersets

    insert = BulkInsert(
        offersets, ("uuid", "created", "owner", "dialect", "result", "body"), json_columns=("body",)
    )
    body = {"meta": {"uuid": "u1", "name": "ünïcode"}, "offers": [1, 2.5, None, True]}
    with db.write() as conn:
        insert.execute(conn, [("u1", 1.5, "me", "v1.0", "YES", body), ("u2", 2.5, "me", "n25", "NO", {})])
        insert.execute(conn, [])
    with db.read() as conn:
        rows = conn.execute(select(offersets).order_by(offersets.c.uuid)).all()
    assert [(r.uuid, r.created, r.dialect, r.result, r.body) for r in rows] == [
        ("u1", 1.5, "v1.0", "YES", body),
        ("u2", 2.5, "n25", "NO", {}),
    ]
    with pytest.raises(ValueError, match="no column"):
        BulkInsert(offersets, ("uuid", "nonsense"))


def hold(session: str, start: datetime, hours: float, cores: int) -> Hold:
    return Hold("a", session, start.timestamp(), (start + timedelta(hours=hours)).timestamp(), cores, 1, 1, 0)


def test_second_process_catches_up_incrementally(db: Database) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    first, second = Ledger(capacity()), Ledger(capacity())
    db.write_sync(first.ensure_pools)

    def book(ledger: Ledger, holds: list[Hold]) -> None:
        def txn(conn: object) -> None:
            ledger.sync(conn, now)  # type: ignore[arg-type]
            ledger.add_holds(conn, holds)  # type: ignore[arg-type]

        db.write_sync(txn)

    book(first, [hold("s1", now + timedelta(hours=1), 2, 3)])
    book(second, [hold("s2", now + timedelta(hours=2), 2, 4)])
    profiles = db.write_sync(lambda conn: first.sync(conn, now))
    peak = profiles["a"].peak(now + timedelta(hours=2), now + timedelta(hours=3))
    assert peak.cores == 7  # first saw second's hold without a rebuild
    db.write_sync(lambda conn: second.release(conn, ["s1"], now))
    profiles = db.write_sync(lambda conn: first.sync(conn, now))
    # s1 is gone, s2 stays (ranges clear of the grid rounding at each booking's edges: the test must
    # not depend on whether ``now`` falls on a whole minute).
    assert (
        profiles["a"].peak(now + timedelta(hours=1, minutes=5), now + timedelta(hours=1, minutes=55)).cores
        == 0
    )
    assert profiles["a"].peak(now + timedelta(hours=2, minutes=5), now + timedelta(hours=3)).cores == 4
    rows = db.read_sync(
        lambda conn: live_reservations(conn, "a", now.timestamp(), (now + timedelta(days=1)).timestamp())
    )
    assert [r[2] for r in rows] == [Amounts(4, 1, 1, 0)]


def test_a_failed_transaction_leaves_no_phantom_hold(db: Database) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    ledger = Ledger(capacity())
    db.write_sync(ledger.ensure_pools)

    def txn(conn: object) -> None:
        ledger.sync(conn, now)  # type: ignore[arg-type]
        ledger.add_holds(conn, [hold("s1", now, 1, 8)])  # type: ignore[arg-type]
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        db.write_sync(txn, on_error=ledger.invalidate)
    profiles = db.write_sync(lambda conn: ledger.sync(conn, now))
    assert profiles["a"].peak(now, now + timedelta(hours=1)).cores == 0


def record(uuid: str, due: float) -> SessionRecord:
    stamp = time.time()
    return SessionRecord(
        uuid=uuid,
        offerset_uuid="o",
        position=0,
        created=stamp,
        modified=stamp,
        owner="x",
        dialect="v1.0",
        phase=SessionPhase.ACCEPTED,
        body={},
        due=due,
    )


def test_leases_and_versions(db: Database) -> None:
    from execbroker.store.offersets import insert_offerset
    from execbroker.store.records import OfferSetRecord

    now = time.time()
    rec = [record("s1", now - 1), record("s2", now + 100)]
    db.write_sync(
        lambda conn: insert_offerset(conn, OfferSetRecord("o", now, "x", "v1.0", "YES", {}), rec, [])
    )
    claimed = db.write_sync(lambda conn: claim_due(conn, now=now, owner="p1", lease=30, limit=10))
    assert [r.uuid for r in claimed] == ["s1"]
    again = db.write_sync(lambda conn: claim_due(conn, now=now, owner="p2", lease=30, limit=10))
    assert again == []  # leased by p1
    stale = db.read_sync(lambda conn: get_session(conn, "s1"))
    assert stale is not None
    stale.version -= 1
    assert db.write_sync(lambda conn: save_session(conn, stale)) is False  # optimistic check
    later = db.write_sync(lambda conn: claim_due(conn, now=now + 31, owner="p2", lease=30, limit=10))
    assert [r.uuid for r in later] == ["s1"]  # the lease ran out: another process takes over


def test_heartbeat_extends_a_lease_without_touching_the_version(db: Database) -> None:
    from execbroker.store.offersets import insert_offerset
    from execbroker.store.records import OfferSetRecord
    from execbroker.store.sessions import drop_leases, lease_owners, renew_leases

    now = time.time()
    db.write_sync(
        lambda conn: insert_offerset(
            conn, OfferSetRecord("o", now, "x", "v1.0", "YES", {}), [record("s1", now)], []
        )
    )
    [claimed] = db.write_sync(lambda conn: claim_due(conn, now=now, owner="host:1:a", lease=5, limit=1))
    assert db.write_sync(lambda conn: renew_leases(conn, ["s1"], "host:1:a", now + 60)) == 1
    assert db.write_sync(lambda conn: renew_leases(conn, ["s1"], "someone-else", now + 600)) == 0
    again = db.read_sync(lambda conn: get_session(conn, "s1"))
    assert again is not None and again.lease_until == now + 60 and again.version == claimed.version
    assert db.read_sync(lambda conn: lease_owners(conn, now + 30)) == ["host:1:a"]
    assert db.write_sync(lambda conn: drop_leases(conn, "host:1:a")) == 1
    assert db.write_sync(lambda conn: claim_due(conn, now=now, owner="host:2:b", lease=5, limit=1))
