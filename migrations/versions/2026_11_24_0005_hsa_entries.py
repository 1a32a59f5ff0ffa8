"""HSA entries: unit memberships, change log, imports (issue 4)

The HSA-ID registry (one HSA-ID across persons and units) is filled from the existing rows and then kept in
step by triggers; person.unit_id becomes the first membership; person.removed_at marks a removed entry.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cardadmin.db import UTCDateTime
from cardadmin.hsa.models import registry_statements

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hsa_identity",
        sa.Column("hsa_id", sa.String(length=31), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.CheckConstraint("kind IN ('person', 'unit')", name=op.f("ck_hsa_identity_kind")),
        sa.PrimaryKeyConstraint("hsa_id", name=op.f("pk_hsa_identity")),
    )
    op.create_table(
        "hsa_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("act", sa.String(length=32), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("entry_type", sa.String(length=10), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("hsa_id", sa.String(length=31), nullable=False),
        sa.Column("attribute", sa.String(length=40), nullable=True),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=64), nullable=False),
        sa.Column("desk_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("billing_month", sa.String(length=7), nullable=False),
        sa.Column("pilot_period_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.CheckConstraint("action IN ('created', 'changed', 'removed')", name=op.f("ck_hsa_change_action")),
        sa.CheckConstraint("entry_type IN ('person', 'unit')", name=op.f("ck_hsa_change_entry_type")),
        sa.ForeignKeyConstraint(["actor_id"], ["user_account.id"], name=op.f("fk_hsa_change_actor_id_user_account")),
        sa.ForeignKeyConstraint(["desk_id"], ["desk.id"], name=op.f("fk_hsa_change_desk_id_desk")),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"],
                                name=op.f("fk_hsa_change_organisation_id_organisation")),
        sa.ForeignKeyConstraint(["pilot_period_id"], ["pilot_period.id"],
                                name=op.f("fk_hsa_change_pilot_period_id_pilot_period")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hsa_change")),
    )
    op.create_index("ix_hsa_change_billing", "hsa_change", ["organisation_id", "billing_month", "action"])
    op.create_index("ix_hsa_change_entry", "hsa_change", ["entry_type", "entry_id", "id"])
    op.create_index("ix_hsa_change_pilot", "hsa_change", ["pilot_period_id", "action"])
    op.create_table(
        "person_unit",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_person_unit_person_id_person"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_person_unit_unit_id_unit")),
        sa.PrimaryKeyConstraint("person_id", "unit_id", name=op.f("pk_person_unit")),
    )
    op.create_index(op.f("ix_person_unit_unit_id"), "person_unit", ["unit_id"])
    with op.batch_alter_table("person") as batch_op:
        batch_op.add_column(sa.Column("removed_at", UTCDateTime(), nullable=True))

    # Existing entries: a person and a unit sharing an HSA-ID stop the upgrade here (fix the data, run again).
    op.execute("INSERT INTO hsa_identity (hsa_id, kind) SELECT hsa_id, 'person' FROM person")
    op.execute("INSERT INTO hsa_identity (hsa_id, kind) SELECT hsa_id, 'unit' FROM unit")
    op.execute("INSERT INTO person_unit (person_id, unit_id) SELECT id, unit_id FROM person WHERE unit_id IS NOT NULL")
    for statement in registry_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in registry_statements(op.get_bind().dialect.name, drop=True):
        op.execute(statement)
    with op.batch_alter_table("person") as batch_op:
        batch_op.drop_column("removed_at")
    op.drop_index(op.f("ix_person_unit_unit_id"), table_name="person_unit")
    op.drop_table("person_unit")
    op.drop_index("ix_hsa_change_pilot", table_name="hsa_change")
    op.drop_index("ix_hsa_change_entry", table_name="hsa_change")
    op.drop_index("ix_hsa_change_billing", table_name="hsa_change")
    op.drop_table("hsa_change")
    op.drop_table("hsa_identity")
