"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 13:26:09.668776
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "components",
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("session_uuid", sa.String(length=36), nullable=False),
        sa.Column("family", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("uuid"),
    )
    with op.batch_alter_table("components", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_components_session_uuid"), ["session_uuid"], unique=False)

    op.create_table(
        "events",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("session_uuid", sa.String(length=36), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("from_phase", sa.String(length=20), nullable=True),
        sa.Column("to_phase", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_session_uuid"), ["session_uuid"], unique=False)

    op.create_table(
        "offersets",
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("dialect", sa.String(length=20), nullable=False),
        sa.Column("result", sa.String(length=3), nullable=False),
        sa.Column(
            "body",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("uuid"),
    )
    with op.batch_alter_table("offersets", schema=None) as batch_op:
        batch_op.create_index("ix_offersets_created", ["created"], unique=False)
        batch_op.create_index("ix_offersets_owner_created", ["owner", "created"], unique=False)

    op.create_table(
        "pools",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "reservations",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("pool", sa.String(length=100), nullable=False),
        sa.Column("session_uuid", sa.String(length=36), nullable=False),
        sa.Column("start_at", sa.Float(), nullable=False),
        sa.Column("end_at", sa.Float(), nullable=False),
        sa.Column("cores", sa.Integer(), nullable=False),
        sa.Column("memory", sa.Integer(), nullable=False),
        sa.Column("storage", sa.Integer(), nullable=False),
        sa.Column("gpus", sa.Integer(), nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.Column("created_seq", sa.BigInteger(), nullable=False),
        sa.Column("changed_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.create_index("ix_reservations_pool_changed", ["pool", "changed_seq"], unique=False)
        batch_op.create_index("ix_reservations_pool_live_end", ["pool", "live", "end_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_reservations_session_uuid"), ["session_uuid"], unique=False)

    op.create_table(
        "sessions",
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("offerset_uuid", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("modified", sa.Float(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("dialect", sa.String(length=20), nullable=False),
        sa.Column("phase", sa.String(length=20), nullable=False),
        sa.Column("expires", sa.Float(), nullable=True),
        sa.Column("due", sa.Float(), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.Float(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("pool", sa.String(length=100), nullable=True),
        sa.Column("prepare_at", sa.Float(), nullable=True),
        sa.Column("start_at", sa.Float(), nullable=True),
        sa.Column("end_at", sa.Float(), nullable=True),
        sa.Column("release_end_at", sa.Float(), nullable=True),
        sa.Column("ending", sa.String(length=20), nullable=True),
        sa.Column("needs_release", sa.Boolean(), nullable=False),
        sa.Column(
            "body",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "platform_state",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("uuid"),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index("ix_sessions_created", ["created"], unique=False)
        batch_op.create_index("ix_sessions_due", ["due"], unique=False)
        batch_op.create_index(batch_op.f("ix_sessions_offerset_uuid"), ["offerset_uuid"], unique=False)
        batch_op.create_index("ix_sessions_owner_created", ["owner", "created"], unique=False)
        batch_op.create_index("ix_sessions_phase_expires", ["phase", "expires"], unique=False)

    op.create_table(
        "throughput",
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("bytes_per_second", sa.Float(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("source"),
    )


def downgrade() -> None:
    op.drop_table("throughput")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_sessions_phase_expires")
        batch_op.drop_index("ix_sessions_owner_created")
        batch_op.drop_index(batch_op.f("ix_sessions_offerset_uuid"))
        batch_op.drop_index("ix_sessions_due")
        batch_op.drop_index("ix_sessions_created")

    op.drop_table("sessions")
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reservations_session_uuid"))
        batch_op.drop_index("ix_reservations_pool_live_end")
        batch_op.drop_index("ix_reservations_pool_changed")

    op.drop_table("reservations")
    op.drop_table("pools")
    with op.batch_alter_table("offersets", schema=None) as batch_op:
        batch_op.drop_index("ix_offersets_owner_created")
        batch_op.drop_index("ix_offersets_created")

    op.drop_table("offersets")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_session_uuid"))

    op.drop_table("events")
    with op.batch_alter_table("components", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_components_session_uuid"))

    op.drop_table("components")
