"""HSA entries: unit memberships, change log, imports (issue 4)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 04:30:00
"""

from __future__ import annotations

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # placeholder: the chain is laid out first so parallel work does not branch it


def downgrade() -> None:
    pass
