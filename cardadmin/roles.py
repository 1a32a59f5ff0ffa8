"""The roles of the tool and their Swedish names."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ORDERER = "orderer"
    CARD_ADMIN = "card_admin"
    RA_OFFICER = "ra_officer"
    EVALUATOR = "evaluator"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ORDERER: "Kortbeställare",
    Role.CARD_ADMIN: "Korthandläggare",
    Role.RA_OFFICER: "RA-ansvarig",
    Role.EVALUATOR: "Utvärderare / projektledare",
    Role.ADMIN: "Administratör",
}

ALL_ROLES = frozenset(Role)
