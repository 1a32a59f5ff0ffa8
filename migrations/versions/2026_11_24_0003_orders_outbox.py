"""card orders: notification outbox, support cases can be resolved, case-folded name keys for search (issue 3)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("dedupe_key", sa.String(length=80), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("to_name", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("kind IN ('order_approved', 'order_rejected', 'card_at_desk', 'reminder')",
                           name=op.f("ck_outbox_message_kind")),
        sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed', 'no_address')",
                           name=op.f("ck_outbox_message_status")),
        sa.ForeignKeyConstraint(["order_id"], ["card_order.id"], name=op.f("fk_outbox_message_order_id_card_order")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_message_dedupe_key")),
    )
    op.create_index(op.f("ix_outbox_message_order_id"), "outbox_message", ["order_id"], unique=False)
    op.create_index("ix_outbox_message_status", "outbox_message", ["status", "id"], unique=False)
    with op.batch_alter_table("support_case") as batch:
        batch.add_column(sa.Column("resolved_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("given_name_key", sa.String(length=100), nullable=False, server_default=""))
        batch.add_column(sa.Column("surname_key", sa.String(length=100), nullable=False, server_default=""))
    # Python's casefold, as the model does (SQL lower() would miss Å, Ä, Ö on SQLite).
    person = sa.table("person", sa.column("id", sa.Integer), sa.column("given_name", sa.String),
                      sa.column("surname", sa.String), sa.column("given_name_key", sa.String),
                      sa.column("surname_key", sa.String))
    conn = op.get_bind()
    for row in conn.execute(sa.select(person.c.id, person.c.given_name, person.c.surname)).all():
        conn.execute(person.update().where(person.c.id == row.id)
                     .values(given_name_key=row.given_name.casefold(), surname_key=row.surname.casefold()))
    op.create_index("ix_person_given_name_key", "person", ["given_name_key", "surname_key", "protected_identity"],
                    unique=False)
    op.create_index("ix_person_surname_key", "person", ["surname_key", "given_name_key", "protected_identity"],
                    unique=False)
    # A person's orders with what scope and the page order need (replaces the plain person_id index).
    op.drop_index("ix_card_order_person_id", table_name="card_order")
    op.create_index("ix_card_order_person", "card_order",
                    ["person_id", "organisation_id", "desk_id", "orderer_id", "created_at", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_card_order_person", table_name="card_order")
    op.create_index("ix_card_order_person_id", "card_order", ["person_id"], unique=False)
    op.drop_index("ix_person_surname_key", table_name="person")
    op.drop_index("ix_person_given_name_key", table_name="person")
    with op.batch_alter_table("person") as batch:
        batch.drop_column("surname_key")
        batch.drop_column("given_name_key")
    with op.batch_alter_table("support_case") as batch:
        batch.drop_column("resolved_at")
    op.drop_index("ix_outbox_message_status", table_name="outbox_message")
    op.drop_index(op.f("ix_outbox_message_order_id"), table_name="outbox_message")
    op.drop_table("outbox_message")
