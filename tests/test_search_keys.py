"""Person and order search: Unicode case folding, prefixes on indexed keys, protected identities, card numbers."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from cardadmin.db import db
from cardadmin.errors import InvalidInput
from cardadmin.orders.search import OrderSearch, search_orders
from cardadmin.orders.states import Status
from cardadmin.people import service
from cardadmin.people.models import Person
from tests.conftest import World, build_world
from tests.test_orders_service import to_status
from tests.test_people import add_person, user


@pytest.fixture
def w(app_ctx: Any) -> World:
    return build_world()


def names(persons: list[Person]) -> list[str]:
    return sorted(p.full_name for p in persons)


def test_names_are_found_whatever_the_case_including_swedish_letters(w: World) -> None:
    add_person(w, "P1", given_name="Åsa", surname="Öberg")
    add_person(w, "P2", given_name="Örjan", surname="Ekström")
    add_person(w, "P3", given_name="Anna", surname="Åkerlund")
    admin = user(w, "admin")
    assert names(service.search_persons(admin, "öberg")) == ["Åsa Öberg"]
    assert names(service.search_persons(admin, "ÅSA ÖB")) == ["Åsa Öberg"]
    assert names(service.search_persons(admin, "åker")) == ["Anna Åkerlund"]
    assert names(service.search_persons(admin, "ekstrÖm")) == ["Örjan Ekström"]
    assert service.search_persons(admin, "berg") == []  # a prefix, not a substring


def test_keys_follow_a_name_change(w: World) -> None:
    person = add_person(w, "P1", given_name="Anna", surname="Berg")
    person.surname = "Lundström"
    db.session.commit()
    stored = db.session.scalar(select(Person.surname_key).where(Person.id == person.id))
    assert stored == "lundström"
    assert names(service.search_persons(user(w, "admin"), "lundstr")) == ["Anna Lundström"]


def test_protected_identity_is_found_by_exact_hsa_id_only(w: World) -> None:
    hidden = add_person(w, "SKYDD1", given_name="Hemlig", surname="Person", protected_identity=True)
    admin = user(w, "admin")
    assert service.search_persons(admin, "hemlig") == []
    assert service.search_persons(admin, hidden.hsa_id[:-2]) == []  # no prefix either
    assert names(service.search_persons(admin, hidden.hsa_id)) == ["Hemlig Person"]


def test_order_search_by_card_number_prefix_and_hsa_id_prefix(w: World) -> None:
    from tests.test_orders_service import order_for

    first = to_status(w, order_for(w, "P1"), Status.AT_DESK, card_number="9752000000111")
    to_status(w, order_for(w, "P2"), Status.AT_DESK, card_number="9752000000222")
    ra = user(w, "ra_officer")
    found = search_orders(ra, OrderSearch(card_number="9752 0000 001")).orders
    assert [o.id for o in found] == [first.id]
    by_hsa = search_orders(ra, OrderSearch(text="SE2321000222-P")).orders
    assert len(by_hsa) == 2
    with pytest.raises(InvalidInput, match="siffror"):  # no wildcard injection: a card number is digits only
        search_orders(ra, OrderSearch(card_number="%"))
