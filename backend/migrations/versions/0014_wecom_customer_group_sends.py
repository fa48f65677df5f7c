"""WeCom customer groups: the owner of a group (group_chat.owner_id) and the group-send tasks

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 19:55:21.273761
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "group_send_task",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("notice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("chat_ids", sa.JSON(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("msgid", sa.String(length=100), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=False),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("next_check_at", sa.DateTime(), nullable=True),
        sa.Column("give_up_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["notice.id"], name=op.f("fk_group_send_task_notice_id_notice"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_send_task")),
        sa.UniqueConstraint("notice_id", "owner_id", "part", name=op.f("uq_group_send_task_notice_id_owner_id_part")),
    )
    with op.batch_alter_table("group_send_task", schema=None) as batch_op:
        batch_op.create_index("ix_group_send_task_due", ["status", "next_check_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_group_send_task_notice_id"), ["notice_id"], unique=False)

    with op.batch_alter_table("group_chat", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_id", sa.String(length=64), server_default="", nullable=False))



def downgrade() -> None:
    with op.batch_alter_table("group_chat", schema=None) as batch_op:
        batch_op.drop_column("owner_id")

    with op.batch_alter_table("group_send_task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_group_send_task_notice_id"))
        batch_op.drop_index("ix_group_send_task_due")

    op.drop_table("group_send_task")
