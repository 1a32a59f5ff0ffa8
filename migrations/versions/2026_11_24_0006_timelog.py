"""time logs, timesheets, rates, costs, evaluation (issue 6)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The activity list as the issue seeds it (kept here, not imported, so the migration never changes under us).
SEED_ACTIVITIES = [
    ("identity_handover", "Id-kontroll och utlämning"),
    ("order_handling", "Beställningshantering"),
    ("hsa_entry", "HSA-registrering"),
    ("pin_puk_support", "PIN/PUK och support"),
    ("revocation", "Spärr"),
    ("card_stock", "Kortlager"),
    ("travel", "Resor"),
    ("training", "Utbildning"),
    ("coordination", "Samordning och möten"),
    ("service_desk", "Servicedesk"),
    ("other", "Övrigt"),
]


def upgrade() -> None:
    op.create_table('evaluation_factor',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Numeric(precision=12, scale=4), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_evaluation_factor'))
    )
    op.create_table('evaluation_risk',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('area', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('likelihood', sa.Integer(), nullable=False),
    sa.Column('consequence', sa.Integer(), nullable=False),
    sa.Column('mitigation', sa.Text(), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("area IN ('resources', 'timetable', 'technical', 'other')", name=op.f('ck_evaluation_risk_area')),
    sa.CheckConstraint('likelihood BETWEEN 1 AND 4 AND consequence BETWEEN 1 AND 4', name=op.f('ck_evaluation_risk_scale')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_risk'))
    )
    op.create_table('inera_price',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=20), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=False),
    sa.Column('price', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.CheckConstraint("item IN ('card', 'shipping', 'hsa_entry', 'certificate')", name=op.f('ck_inera_price_item')),
    sa.CheckConstraint('price >= 0', name=op.f('ck_inera_price_price')),
    sa.CheckConstraint('valid_from <= valid_to', name=op.f('ck_inera_price_dates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inera_price'))
    )
    op.create_table('timelog_activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timelog_activity')),
    sa.UniqueConstraint('code', name=op.f('uq_timelog_activity_code')),
    sa.UniqueConstraint('name', name=op.f('uq_timelog_activity_name'))
    )
    op.create_table('hourly_rate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=False),
    sa.Column('rate', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('on_cost_percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.CheckConstraint('rate >= 0 AND on_cost_percent >= 0', name=op.f('ck_hourly_rate_amounts')),
    sa.CheckConstraint('valid_from <= valid_to', name=op.f('ck_hourly_rate_dates')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_hourly_rate_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hourly_rate'))
    )
    op.create_index(op.f('ix_hourly_rate_organisation_id'), 'hourly_rate', ['organisation_id'], unique=False)
    op.create_table('evaluation_observation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('desk_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("category IN ('service', 'availability', 'risk', 'work_environment', 'other')", name=op.f('ck_evaluation_observation_category')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_evaluation_observation_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['desk_id'], ['desk.id'], name=op.f('fk_evaluation_observation_desk_id_desk')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_observation'))
    )
    op.create_table('journey_distance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('desk_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('km', sa.Numeric(precision=7, scale=1), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.CheckConstraint('km >= 0', name=op.f('ck_journey_distance_km')),
    sa.ForeignKeyConstraint(['desk_id'], ['desk.id'], name=op.f('fk_journey_distance_desk_id_desk')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_journey_distance_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journey_distance')),
    sa.UniqueConstraint('desk_id', 'unit_id', name='uq_journey_distance_pair')
    )
    op.create_table('timesheet',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('iso_year', sa.Integer(), nullable=False),
    sa.Column('iso_week', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('approved_at', sa.DateTime(), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('reopen_reason', sa.Text(), nullable=False),
    sa.CheckConstraint("status IN ('open', 'submitted', 'approved')", name=op.f('ck_timesheet_status')),
    sa.CheckConstraint('iso_week BETWEEN 1 AND 53', name=op.f('ck_timesheet_week')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['user_account.id'], name=op.f('fk_timesheet_approved_by_id_user_account')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_timesheet_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timesheet')),
    sa.UniqueConstraint('user_id', 'iso_year', 'iso_week', name='uq_timesheet_user_week')
    )
    op.create_index('ix_timesheet_status', 'timesheet', ['status', 'iso_year', 'iso_week'], unique=False)
    op.create_table('time_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('timesheet_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('desk_id', sa.Integer(), nullable=False),
    sa.Column('pilot_period_id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('work_date', sa.Date(), nullable=False),
    sa.Column('iso_year', sa.Integer(), nullable=False),
    sa.Column('iso_week', sa.Integer(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=True),
    sa.Column('end_time', sa.Time(), nullable=True),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('persons_handled', sa.Integer(), nullable=False),
    sa.Column('journeys_avoided', sa.Integer(), nullable=False),
    sa.Column('km_avoided', sa.Numeric(precision=9, scale=1), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=60), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('iso_week BETWEEN 1 AND 53', name=op.f('ck_time_entry_week')),
    sa.CheckConstraint('minutes BETWEEN 1 AND 1440', name=op.f('ck_time_entry_minutes')),
    sa.CheckConstraint('persons_handled >= 0 AND journeys_avoided >= 0 AND km_avoided >= 0', name=op.f('ck_time_entry_counts')),
    sa.ForeignKeyConstraint(['activity_id'], ['timelog_activity.id'], name=op.f('fk_time_entry_activity_id_timelog_activity')),
    sa.ForeignKeyConstraint(['desk_id'], ['desk.id'], name=op.f('fk_time_entry_desk_id_desk')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_time_entry_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['pilot_period_id'], ['pilot_period.id'], name=op.f('fk_time_entry_pilot_period_id_pilot_period')),
    sa.ForeignKeyConstraint(['timesheet_id'], ['timesheet.id'], name=op.f('fk_time_entry_timesheet_id_timesheet')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_time_entry_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_entry'))
    )
    op.create_index('ix_time_entry_desk_week', 'time_entry', ['desk_id', 'iso_year', 'iso_week'], unique=False)
    op.create_index(op.f('ix_time_entry_timesheet_id'), 'time_entry', ['timesheet_id'], unique=False)
    op.create_index('ix_time_entry_user_date', 'time_entry', ['user_id', 'work_date'], unique=False)


    op.create_table('time_week_sum',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('timesheet_id', sa.Integer(), nullable=False),
    sa.Column('desk_id', sa.Integer(), nullable=False),
    sa.Column('pilot_period_id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('iso_year', sa.Integer(), nullable=False),
    sa.Column('iso_week', sa.Integer(), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('persons_handled', sa.Integer(), nullable=False),
    sa.Column('journeys_avoided', sa.Integer(), nullable=False),
    sa.Column('km_avoided', sa.Numeric(precision=12, scale=1), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['timelog_activity.id'], name=op.f('fk_time_week_sum_activity_id_timelog_activity')),
    sa.ForeignKeyConstraint(['desk_id'], ['desk.id'], name=op.f('fk_time_week_sum_desk_id_desk')),
    sa.ForeignKeyConstraint(['pilot_period_id'], ['pilot_period.id'], name=op.f('fk_time_week_sum_pilot_period_id_pilot_period')),
    sa.ForeignKeyConstraint(['timesheet_id'], ['timesheet.id'], name=op.f('fk_time_week_sum_timesheet_id_timesheet')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_week_sum')),
    sa.UniqueConstraint('timesheet_id', 'desk_id', 'pilot_period_id', 'activity_id', name='uq_time_week_sum_key')
    )
    op.create_index('ix_time_week_sum_desk_week', 'time_week_sum', ['desk_id', 'iso_year', 'iso_week'], unique=False)
    activity = sa.table("timelog_activity", sa.column("code", sa.String), sa.column("name", sa.String),
                        sa.column("active", sa.Boolean), sa.column("sort_order", sa.Integer))
    op.bulk_insert(activity, [{"code": code, "name": name, "active": True, "sort_order": n}
                              for n, (code, name) in enumerate(SEED_ACTIVITIES)])


def downgrade() -> None:
    op.drop_table('time_week_sum')
    op.drop_table('time_entry')
    op.drop_table('timesheet')
    op.drop_table('journey_distance')
    op.drop_table('evaluation_observation')
    op.drop_table('hourly_rate')
    op.drop_table('timelog_activity')
    op.drop_table('inera_price')
    op.drop_table('evaluation_risk')
    op.drop_table('evaluation_factor')
