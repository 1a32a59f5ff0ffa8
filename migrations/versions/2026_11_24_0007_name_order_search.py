"""order search in name order: name key indexes end in the person id, a person's orders by date (issue 3)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 08:00:00

A name search walks ix_person_surname_key / ix_person_given_name_key in (key, other key, id) order and each
person's orders in (created_at, id) order, stopping after a page. On PostgreSQL the name keys and the person's
HSA-ID get the "C" collation, so their plain indexes serve LIKE 'x%' and the order whatever the database's locale
(and the order is SQLite's: by code point). The HSA-ID registry trigger depends on that column, so it is
recreated around the change (the same statement as migration 0005's).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

PERSON_TRIGGER = ("CREATE TRIGGER person_hsa_identity AFTER INSERT OR DELETE OR UPDATE OF hsa_id ON person "
                  "FOR EACH ROW EXECUTE FUNCTION hsa_identity_sync()")


def _indexes(person: list[str], order: list[str]) -> None:
    op.drop_index("ix_person_given_name_key", table_name="person")
    op.drop_index("ix_person_surname_key", table_name="person")
    op.drop_index("ix_card_order_person", table_name="card_order")
    op.create_index("ix_person_given_name_key", "person", ["given_name_key", "surname_key", *person], unique=False)
    op.create_index("ix_person_surname_key", "person", ["surname_key", "given_name_key", *person], unique=False)
    op.create_index("ix_card_order_person", "card_order", ["person_id", *order], unique=False)


def _collation(collation: str | None) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite compares text by code point already
    op.execute("DROP TRIGGER person_hsa_identity ON person")
    op.alter_column("person", "hsa_id", type_=sa.String(length=31, collation=collation), existing_nullable=False)
    for column in ("given_name_key", "surname_key"):
        op.alter_column("person", column, type_=sa.String(length=100, collation=collation), existing_nullable=False)
    op.execute(PERSON_TRIGGER)


def upgrade() -> None:
    _collation("C")
    _indexes(["id", "protected_identity"], ["created_at", "id", "organisation_id", "desk_id", "orderer_id"])


def downgrade() -> None:
    _indexes(["protected_identity"], ["organisation_id", "desk_id", "orderer_id", "created_at", "id"])
    _collation(None)
