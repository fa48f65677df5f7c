"""console sessions, audit, staff passwords

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 16:30:25.671022
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("community_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("staff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=60), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_audit_entry_community_id_community"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_audit_entry_staff_id_staff"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entry_community_id"), ["community_id"], unique=False)
        batch_op.create_index("ix_audit_entry_target", ["community_id", "target"], unique=False)

    op.create_table(
        "console_session",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("community_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("stash", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_console_session_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_console_session_staff_id_staff"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_console_session_token_hash")),
    )
    with op.batch_alter_table("console_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_console_session_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_console_session_staff_id"), ["staff_id"], unique=False)

    with op.batch_alter_table("invite_code", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purpose", sa.String(length=10), nullable=False, server_default="bind"))
    with op.batch_alter_table("invite_code", schema=None) as batch_op:
        batch_op.alter_column("purpose", server_default=None)

    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_hash", sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("password_set_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(), nullable=True))
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.alter_column("password_hash", server_default=None)
        batch_op.alter_column("failed_logins", server_default=None)

    with op.batch_alter_table("ticket_category", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("ticket_category", schema=None) as batch_op:
        batch_op.alter_column("version", server_default=None)



def downgrade() -> None:
    with op.batch_alter_table("ticket_category", schema=None) as batch_op:
        batch_op.drop_column("version")

    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_logins")
        batch_op.drop_column("password_set_at")
        batch_op.drop_column("password_hash")

    with op.batch_alter_table("invite_code", schema=None) as batch_op:
        batch_op.drop_column("purpose")

    with op.batch_alter_table("console_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_session_staff_id"))
        batch_op.drop_index(batch_op.f("ix_console_session_expires_at"))

    op.drop_table("console_session")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entry_target")
        batch_op.drop_index(batch_op.f("ix_audit_entry_community_id"))

    op.drop_table("audit_entry")
