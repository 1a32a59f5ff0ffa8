"""card verification results and desk agent (issue 5)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cardadmin.db import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "card_verification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("reader", sa.String(length=200), nullable=True),
        sa.Column("application", sa.String(length=20), nullable=True),
        sa.Column("expected_hsa_id", sa.String(length=31), nullable=False),
        sa.Column("expected_card_number", sa.String(length=32), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("certificates", sa.JSON(), nullable=False),
        sa.Column("auth_cert_serial", sa.String(length=64), nullable=True),
        sa.Column("auth_cert_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("sign_cert_serial", sa.String(length=64), nullable=True),
        sa.Column("sign_cert_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("valid_until", UTCDateTime(), nullable=True),
        sa.Column("error", sa.String(length=60), nullable=True),
        sa.Column("pin_attempts_left", sa.Integer(), nullable=True),
        sa.Column("challenge_sha256", sa.String(length=64), nullable=True),
        sa.Column("verified_by_id", sa.Integer(), nullable=False),
        sa.Column("checked_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("source IN ('local_reader', 'desk_agent', 'cli')", name=op.f("ck_card_verification_source")),
        sa.ForeignKeyConstraint(["card_id"], ["card.id"], name=op.f("fk_card_verification_card_id_card")),
        sa.ForeignKeyConstraint(["order_id"], ["card_order.id"], name=op.f("fk_card_verification_order_id_card_order")),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"],
                                name=op.f("fk_card_verification_organisation_id_organisation")),
        sa.ForeignKeyConstraint(["verified_by_id"], ["user_account.id"],
                                name=op.f("fk_card_verification_verified_by_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_verification")),
        sa.UniqueConstraint("challenge_sha256", name=op.f("uq_card_verification_challenge_sha256")),
    )
    op.create_index(op.f("ix_card_verification_card_id"), "card_verification", ["card_id"], unique=False)
    op.create_index("ix_card_verification_order", "card_verification", ["order_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_card_verification_order", table_name="card_verification")
    op.drop_index(op.f("ix_card_verification_card_id"), table_name="card_verification")
    op.drop_table("card_verification")
