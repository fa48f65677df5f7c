"""notice page token and WeChat parts: each notice's unguessable public page /n/<token>, and the parts of a
long notice a WeChat resident has received

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 19:56:06.867511
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("page_token", sa.String(length=48), nullable=True))
    # Existing notices get their own token too (the same shape the model makes: 32 URL-safe characters).
    notice = sa.table("notice", sa.column("id", sa.BigInteger()), sa.column("page_token", sa.String(48)))
    connection = op.get_bind()
    ids = connection.execute(sa.select(notice.c.id).where(notice.c.page_token.is_(None))).scalars().all()
    if ids:
        connection.execute(
            sa.update(notice).where(notice.c.id == sa.bindparam("b_id")).values(page_token=sa.bindparam("b_token")),
            [{"b_id": notice_id, "b_token": secrets.token_urlsafe(24)} for notice_id in ids])
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.alter_column("page_token", existing_type=sa.String(length=48), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_notice_page_token"), ["page_token"])

    with op.batch_alter_table("notice_delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parts_sent", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("parts_total", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("notice_delivery", schema=None) as batch_op:
        batch_op.alter_column("parts_sent", server_default=None)
        batch_op.alter_column("parts_total", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("notice_delivery", schema=None) as batch_op:
        batch_op.drop_column("parts_total")
        batch_op.drop_column("parts_sent")

    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_notice_page_token"), type_="unique")
        batch_op.drop_column("page_token")
