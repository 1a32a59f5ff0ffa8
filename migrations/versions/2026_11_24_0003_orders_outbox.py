"""card orders: notification outbox and support-case additions (issue 3)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 04:30:00
"""

from __future__ import annotations

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # placeholder: the chain is laid out first so parallel work does not branch it


def downgrade() -> None:
    pass
