"""card verification results and desk agent (issue 5)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 04:30:00
"""

from __future__ import annotations

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # placeholder: the chain is laid out first so parallel work does not branch it


def downgrade() -> None:
    pass
