"""notice_delivery: fewer indexes (the due index partial, no claim or notice_id index)

Every delivery row is updated three times on its way (claimed, marked 'sending', recorded), and each
update of an indexed column writes every index again. The due index now holds only open rows; the
engine renews and releases a claim by its rows' ids; the unique (notice_id, channel, chat_id) index
serves lookups by notice.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_ROWS = "status IN ('queued', 'sending')"


def upgrade() -> None:
    with op.batch_alter_table("notice_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_notice_delivery_claim")
        batch_op.drop_index("ix_notice_delivery_notice_id")
        batch_op.drop_index("ix_notice_delivery_due")
        batch_op.create_index("ix_notice_delivery_due", ["status", "priority", "next_attempt_at"], unique=False,
                              postgresql_where=sa.text(OPEN_ROWS), sqlite_where=sa.text(OPEN_ROWS))


def downgrade() -> None:
    with op.batch_alter_table("notice_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_notice_delivery_due")
        batch_op.create_index("ix_notice_delivery_due", ["status", "priority", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_notice_delivery_notice_id", ["notice_id"], unique=False)
        batch_op.create_index("ix_notice_delivery_claim", ["claim"], unique=False)
