"""The HSA-ID race on real PostgreSQL: two writers both pass the service check (neither sees the other's
uncommitted row); the registry's primary key makes the second wait and then fail cleanly with a 409."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from cardadmin.db import db
from cardadmin.errors import CardAdminError, Conflict
from cardadmin.hsa import service
from cardadmin.hsa.changelog import ChangeContext
from cardadmin.hsa.models import HsaIdentity
from cardadmin.hsa.rules import SystemActor
from cardadmin.hsa.service import PersonEntryInput, UnitEntryInput
from cardadmin.orders.models import Order
from cardadmin.orders.states import Status
from cardadmin.people.models import Person
from tests.conftest import build_world

pytestmark = pytest.mark.postgres


def test_person_and_unit_with_one_hsa_id_at_the_same_moment(make_app: Any) -> None:
    first, second = make_app(), make_app()
    with first.app_context():
        build_world()
    outcome: dict[str, Any] = {}

    def other_writer() -> None:
        with second.app_context():
            try:
                service.create_person_entry(ChangeContext(SystemActor("b"), "import"), PersonEntryInput(
                    hsa_id="SE2321000222-SAME", given_name="A", surname="B"))
                db.session.commit()
                outcome["result"] = "committed"
            except Conflict as exc:
                db.session.rollback()
                outcome["result"] = exc.message

    with first.app_context():
        service.create_unit_entry(ChangeContext(SystemActor("a"), "import"),
                                  UnitEntryInput("SE2321000222-SAME", "Enhet"))
        db.session.flush()  # the unit and its registry row exist, uncommitted
        writer = threading.Thread(target=other_writer)
        writer.start()
        time.sleep(1.0)
        assert writer.is_alive(), "the second writer should be waiting on the registry's key"
        db.session.commit()
        writer.join(timeout=30)
    assert outcome["result"] == "HSA-id SE2321000222-SAME registrerades nyss av någon annan och används redan.", \
        outcome
    with first.app_context():
        assert db.session.scalar(select(func.count()).select_from(Person)) == 0
        assert db.session.scalar(select(HsaIdentity.kind)) == "unit"


# ---------------------------------------------------------------- removing an entry while its card work goes on
# The removal refuses while the person has a live card or an open order. Whatever makes a card live starts with
# an order, so the race is between placing an order and removing the entry: both lock the person's row, so the
# second waits for the first and then sees what it did.


def _in_the_background(app: Any, act: Any, outcome: dict[str, str]) -> threading.Thread:
    def run() -> None:
        with app.app_context():
            try:
                act()
                db.session.commit()
                outcome["second"] = "committed"
            except CardAdminError as exc:
                db.session.rollback()
                outcome["second"] = exc.message

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _remove(person_id: int) -> Any:
    from cardadmin.accounts.models import User

    def act() -> None:
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        service.remove_person_entry(ChangeContext(admin, "web"), person_id)

    return act


def _order(person_id: int, desk_id: int) -> Any:
    from cardadmin.accounts.models import User
    from cardadmin.orders import service as orders

    def act() -> None:
        orderer = db.session.scalar(select(User).where(User.username == "orderer"))
        orders.create_order(orderer, person_id=person_id, order_type="new", desk_id=desk_id)

    return act


def _first_holds_while_second_waits(first: Any, first_act: Any, second: Any, second_act: Any) -> dict[str, str]:
    outcome: dict[str, str] = {}
    with first.app_context():
        first_act()
        db.session.flush()  # done, not committed: its locks are held
        thread = _in_the_background(second, second_act, outcome)
        time.sleep(1.0)
        assert thread.is_alive(), f"the second transaction should wait for the first ({outcome})"
        db.session.commit()
    thread.join(timeout=30)
    return outcome


def test_an_order_placed_while_the_entry_is_removed_keeps_the_entry(make_app: Any) -> None:
    from tests.test_people import add_person

    first, second = make_app(), make_app()
    with first.app_context():
        world = build_world()
        person_id = add_person(world, "RACE1").id
    outcome = _first_holds_while_second_waits(first, _order(person_id, world.desk_id), second, _remove(person_id))
    assert "pågående kortbeställning" in outcome["second"], outcome
    with first.app_context():
        assert db.session.get(Person, person_id).removed_at is None
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1


def test_an_entry_removed_while_an_order_is_placed_gets_no_order(make_app: Any) -> None:
    from tests.test_people import add_person

    first, second = make_app(), make_app()
    with first.app_context():
        world = build_world()
        person_id = add_person(world, "RACE2").id
    outcome = _first_holds_while_second_waits(first, _remove(person_id), second, _order(person_id, world.desk_id))
    assert "borttagen" in outcome["second"], outcome
    with first.app_context():
        assert db.session.get(Person, person_id).removed_at is not None
        assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_a_hand_over_racing_the_removal_keeps_the_entry(make_app: Any) -> None:
    """The card is live from the moment it is registered at the desk, before any hand-over: the removal refuses
    whichever commits first (this held before the locks too; kept as a guard)."""
    from tests.test_orders_service import DOC, order_for, to_status

    first, second = make_app(), make_app()
    with first.app_context():
        world = build_world()
        order = to_status(world, order_for(world, "RACE3"), Status.AT_DESK)
        order_id, person_id = order.id, order.person_id
    outcome: dict[str, str] = {}
    with first.app_context():
        from cardadmin.accounts.models import User
        from cardadmin.orders import service as orders

        clerk = db.session.scalar(select(User).where(User.username == "card_admin"))
        orders.hand_over(clerk, order_id, "9752000000001", DOC)
        db.session.flush()
        _in_the_background(second, _remove(person_id), outcome).join(timeout=30)
        db.session.commit()
    assert "aktivt eller utlämnat kort" in outcome["second"], outcome
    with first.app_context():
        assert db.session.get(Person, person_id).removed_at is None
