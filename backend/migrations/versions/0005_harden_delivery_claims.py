"""harden: per-chat delivery claims (exactly-once outbox) and one pushed copy per notification and chat

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 13:37:55.878114
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delivery",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("notification_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("target", sa.String(length=230), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("claim", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("in_doubt", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notification.id"],
            name=op.f("fk_delivery_notification_id_notification"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery")),
        sa.UniqueConstraint("notification_id", "target", name="uq_delivery_notification_target"),
    )
    # Copies pushed twice before this revision keep their text but no longer count as the notification's.
    op.execute(
        "UPDATE channel_message SET notification_id = NULL WHERE notification_id IS NOT NULL AND id NOT IN "
        "(SELECT min_id FROM (SELECT min(id) AS min_id FROM channel_message WHERE notification_id IS NOT NULL "
        "GROUP BY notification_id, channel, chat_id) AS keep)"
    )
    with op.batch_alter_table("channel_message", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            "uq_channel_message_notification_chat", ["notification_id", "channel", "chat_id"]
        )



def downgrade() -> None:
    with op.batch_alter_table("channel_message", schema=None) as batch_op:
        batch_op.drop_constraint("uq_channel_message_notification_chat", type_="unique")

    op.drop_table("delivery")
