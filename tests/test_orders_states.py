"""The one transition table: every transition allowed for exactly its roles, everything else refused."""

from __future__ import annotations

from itertools import product
from types import SimpleNamespace

import pytest

from cardadmin.errors import Conflict, Forbidden
from cardadmin.orders import states
from cardadmin.orders.states import SYSTEM, TRANSITIONS, Status
from cardadmin.roles import Role

ACTORS = {str(role): SimpleNamespace(roles=frozenset({role})) for role in Role} | {SYSTEM: None}
EXPECTED = {
    (Status.ORDERED, Status.APPROVED): {"ra_officer"},
    (Status.ORDERED, Status.REJECTED): {"ra_officer"},
    (Status.ORDERED, Status.CANCELLED): {"orderer", "admin"},
    (Status.APPROVED, Status.IN_PRODUCTION): {"card_admin"},
    (Status.IN_PRODUCTION, Status.AT_DESK): {"card_admin"},
    (Status.AT_DESK, Status.HANDED_OVER): {"card_admin"},
    (Status.HANDED_OVER, Status.ACTIVE): {"card_admin"},
    (Status.AT_DESK, Status.REVOKED): {"card_admin", "admin", SYSTEM},
    (Status.HANDED_OVER, Status.REVOKED): {"card_admin", "ra_officer", "admin", SYSTEM},
    (Status.ACTIVE, Status.REVOKED): {"card_admin", "ra_officer", "admin", SYSTEM},
    (Status.ACTIVE, Status.EXPIRED): {"admin", SYSTEM},
}


def test_the_table_is_what_the_issue_asks_for() -> None:
    assert {k: set(t.roles) for k, t in TRANSITIONS.items()} == EXPECTED
    for t in TRANSITIONS.values():
        assert t.timestamp == f"{t.target}_at"


@pytest.mark.parametrize(("pair", "who"), list(product(EXPECTED, ACTORS)), ids=lambda v: str(v))
def test_each_transition_is_allowed_only_for_its_roles(pair: tuple[Status, Status], who: str) -> None:
    source, target = pair
    if who in EXPECTED[pair]:
        assert states.check(source, target, ACTORS[who]).target == target
    else:
        with pytest.raises(Forbidden, match="Din roll får inte"):
            states.check(source, target, ACTORS[who])


MISSING = [(s, t) for s, t in product(Status, Status) if (s, t) not in TRANSITIONS]


@pytest.mark.parametrize(("source", "target"), MISSING)
def test_every_other_transition_is_a_conflict_in_swedish(source: Status, target: Status) -> None:
    admin_of_everything = SimpleNamespace(roles=frozenset(Role))
    with pytest.raises(Conflict, match="kan inte bli") as info:
        states.check(source, target, admin_of_everything)
    assert source.label in info.value.message and target.label in info.value.message


def test_terminal_states_lead_nowhere() -> None:
    god = SimpleNamespace(roles=frozenset(Role))
    for status in (Status.REJECTED, Status.CANCELLED, Status.REVOKED, Status.EXPIRED):
        assert states.allowed_targets(status, god) == []
        assert states.allowed_targets(status, None) == []


def test_allowed_targets_is_what_the_ui_offers() -> None:
    assert states.allowed_targets(Status.ORDERED, ACTORS["ra_officer"]) == [Status.APPROVED, Status.REJECTED]
    assert states.allowed_targets(Status.ORDERED, ACTORS["orderer"]) == [Status.CANCELLED]
    assert states.allowed_targets(Status.ACTIVE, None) == [Status.REVOKED, Status.EXPIRED]
    assert states.allowed_targets(Status.ACTIVE, ACTORS["evaluator"]) == []
