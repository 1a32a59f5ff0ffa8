"""time logs, timesheets, rates, costs, evaluation (issue 6)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 04:30:00
"""

from __future__ import annotations

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # placeholder: the chain is laid out first so parallel work does not branch it


def downgrade() -> None:
    pass
