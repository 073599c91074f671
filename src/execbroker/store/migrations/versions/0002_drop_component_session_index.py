"""drop the index on components.session_uuid

Nothing reads components by session (a component URL is looked up by the component's uuid), and the
index cost every booking transaction one more b-tree insert per component.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 17:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("components", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_components_session_uuid"))


def downgrade() -> None:
    with op.batch_alter_table("components", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_components_session_uuid"), ["session_uuid"], unique=False)
