"""harden visitor pass image tokens

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 13:54:04.348325
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("visitor_pass", schema=None) as batch_op:
        # Passes made before this revision have no image token: their image is never served again.
        batch_op.add_column(sa.Column("image_token", sa.String(length=48), nullable=False, server_default=""))
        batch_op.create_index(batch_op.f("ix_visitor_pass_image_token"), ["image_token"], unique=False)
    with op.batch_alter_table("visitor_pass", schema=None) as batch_op:
        batch_op.alter_column("image_token", server_default=None)



def downgrade() -> None:
    with op.batch_alter_table("visitor_pass", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visitor_pass_image_token"))
        batch_op.drop_column("image_token")

