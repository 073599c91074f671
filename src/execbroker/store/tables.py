"""The database schema: a few tables, with JSON columns for component bodies.

Times are stored as epoch seconds (floating point) in every database: cheap to compare and index, and the
same on SQLite and PostgreSQL. The Alembic migrations in ``migrations/`` create these tables; keep the
two in step (a test compares them).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

Json = JSON().with_variant(JSONB(), "postgresql")

#: One row per resource pool: the row that booking transactions lock, and the ledger version that
#: lets every process keep its in-memory capacity profile up to date.
pools = Table(
    "pools",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("version", BigInteger, nullable=False, default=0),
)

offersets = Table(
    "offersets",
    metadata,
    Column("uuid", String(36), primary_key=True),
    Column("created", Float, nullable=False),
    Column("owner", String(200), nullable=False),
    Column("dialect", String(20), nullable=False),
    Column("result", String(3), nullable=False),
    Column("body", Json, nullable=False),
    Index("ix_offersets_owner_created", "owner", "created"),
    Index("ix_offersets_created", "created"),
)

sessions = Table(
    "sessions",
    metadata,
    Column("uuid", String(36), primary_key=True),
    Column("offerset_uuid", String(36), nullable=False, index=True),
    Column("position", Integer, nullable=False, default=0),
    Column("created", Float, nullable=False),
    Column("modified", Float, nullable=False),
    Column("owner", String(200), nullable=False),
    Column("dialect", String(20), nullable=False),
    Column("phase", String(20), nullable=False),
    Column("expires", Float, nullable=True),
    #: When the engine should look at this session next (NULL: nothing to do).
    Column("due", Float, nullable=True),
    #: Which process holds the session while a platform call runs, and until when.
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", Float, nullable=True),
    Column("version", Integer, nullable=False, default=0),
    Column("pool", String(100), nullable=True),
    #: The booked slot: preparation start, available start, available end, release end.
    Column("prepare_at", Float, nullable=True),
    Column("start_at", Float, nullable=True),
    Column("end_at", Float, nullable=True),
    Column("release_end_at", Float, nullable=True),
    #: Why the session is ending: None, "cancelled", "failed", "completed".
    Column("ending", String(20), nullable=True),
    #: The platform still has something of this session to remove.
    Column("needs_release", Boolean, nullable=False, default=False),
    Column("body", Json, nullable=False),
    Column("platform_state", Json, nullable=False),
    Index("ix_sessions_due", "due"),
    Index("ix_sessions_phase_expires", "phase", "expires"),
    Index("ix_sessions_owner_created", "owner", "created"),
    Index("ix_sessions_created", "created"),
)

#: Component uuid -> session, so that every component URL resolves.
components = Table(
    "components",
    metadata,
    Column("uuid", String(36), primary_key=True),
    Column("session_uuid", String(36), nullable=False),
    Column("family", String(20), nullable=False),
)

#: The reservation ledger. ``live`` rows count against capacity. ``created_seq`` and ``changed_seq``
#: are pool versions: a process whose profile is at version v catches up by reading the rows of the
#: pool with changed_seq > v (an index range scan), never the whole ledger.
reservations = Table(
    "reservations",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("pool", String(100), nullable=False),
    Column("session_uuid", String(36), nullable=False, index=True),
    Column("start_at", Float, nullable=False),
    Column("end_at", Float, nullable=False),
    Column("cores", Integer, nullable=False),
    Column("memory", Integer, nullable=False),
    Column("storage", Integer, nullable=False),
    Column("gpus", Integer, nullable=False),
    Column("live", Boolean, nullable=False),
    Column("created_seq", BigInteger, nullable=False),
    Column("changed_seq", BigInteger, nullable=False),
    Index("ix_reservations_pool_changed", "pool", "changed_seq"),
    Index("ix_reservations_pool_live_end", "pool", "live", "end_at"),
)

#: Measured staging throughput per source (bytes per second), to improve later estimates.
throughput = Table(
    "throughput",
    metadata,
    Column("source", String(300), primary_key=True),
    Column("bytes_per_second", Float, nullable=False),
    Column("samples", Integer, nullable=False),
    Column("updated", Float, nullable=False),
)

#: An append-only record of every phase change (who, when, from, to, why).
events = Table(
    "events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("session_uuid", String(36), nullable=False, index=True),
    Column("at", Float, nullable=False),
    Column("from_phase", String(20), nullable=True),
    Column("to_phase", String(20), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("note", Text, nullable=True),
)
