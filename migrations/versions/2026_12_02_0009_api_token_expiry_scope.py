"""API tokens get an expiry and a scope (issue 18): existing tokens expire 90 days after they were made

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("scope", sa.String(length=20), nullable=False, server_default="all"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE api_token SET expires_at = created_at + interval '90 days'")
    else:
        op.execute("UPDATE api_token SET expires_at = datetime(created_at, '+90 days')")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.alter_column("expires_at", existing_type=sa.DateTime(), nullable=False)
        batch_op.alter_column("scope", existing_type=sa.String(length=20), server_default=None)
        batch_op.create_check_constraint(op.f("ck_api_token_scope"), "scope IN ('all', 'desk_agent')")


def downgrade() -> None:
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_api_token_scope"), type_="check")
        batch_op.drop_column("scope")
        batch_op.drop_column("expires_at")
