"""channel_message.notice_id (web chat pushes of notices, once per chat); notice_delivery claim index

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 16:34:04.998376
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("channel_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True))
        batch_op.create_unique_constraint("uq_channel_message_notice_chat", ["notice_id", "channel", "chat_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_channel_message_notice_id_notice"), "notice", ["notice_id"], ["id"], ondelete="SET NULL"
        )

    with op.batch_alter_table("notice_delivery", schema=None) as batch_op:
        batch_op.create_index("ix_notice_delivery_claim", ["claim"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notice_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_notice_delivery_claim")
    with op.batch_alter_table("channel_message", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_channel_message_notice_id_notice"), type_="foreignkey")
        batch_op.drop_constraint("uq_channel_message_notice_chat", type_="unique")
        batch_op.drop_column("notice_id")
