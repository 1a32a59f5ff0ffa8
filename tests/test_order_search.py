"""Order search in name order: the order of the results, keyset pages across every boundary, scope and protected
identities under the walk, and cursors that are bad or belong to another search (a 400, never a 500)."""

from __future__ import annotations

import base64
import html
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from cardadmin.db import db
from cardadmin.errors import InvalidInput
from cardadmin.orders.models import Card, Order
from cardadmin.orders.search import OrderSearch, search_orders
from cardadmin.orders.states import Status
from cardadmin.people import service as people
from cardadmin.people.models import Person
from cardadmin.people.service import PersonInput
from tests.conftest import World, build_world
from tests.test_people import add_person, user

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def w(app_ctx: Any) -> World:
    return build_world()


def place(w: World, person: Person, *days: float, desk: str = "desk", orderer: str = "orderer") -> list[Order]:
    """Orders for ``person`` created ``days`` after T0 (straight into the table: only the search is under test)."""
    orders = [Order(order_type="new", status="ordered", person_id=person.id, orderer_id=w.users[orderer].id,
                    organisation_id=person.organisation_id, desk_id=w.desk_id if desk == "desk" else w.other_desk_id,
                    created_at=T0 + timedelta(days=d)) for d in days]
    db.session.add_all(orders)
    db.session.commit()
    return orders


def every_page(actor: Any, query: OrderSearch, limit: int) -> list[Order]:
    """Follow ``next`` until an empty page, checking each page's size and that no order comes twice."""
    seen: list[Order] = []
    after = None
    for _ in range(100):
        found = search_orders(actor, query, after=after, limit=limit)
        assert len(found.orders) <= limit
        if not found.orders:
            assert found.next is None
            return seen
        seen += found.orders
        after = found.next
    raise AssertionError("no end")


@pytest.fixture
def lind(w: World) -> dict[str, list[Order]]:
    """Namesakes of 'lind' on both sides of the surname/given-name boundary, several with more than one order
    (created out of person order, one pair at the same moment), one protected, one who matches nothing."""
    a = add_person(w, "A", given_name="Karl", surname="Lind")
    b = add_person(w, "B", given_name="Anna", surname="Lindgren")
    c = add_person(w, "C", given_name="Anna", surname="Lindgren")  # same name: person id decides
    d = add_person(w, "D", given_name="Linda", surname="Lindqvist")  # both names match: shown once, as a surname
    e = add_person(w, "E", given_name="Linda", surname="Berg")
    f = add_person(w, "F", given_name="lindy", surname="Åberg")
    g = add_person(w, "G", given_name="Anna", surname="Berglind")  # 'lind' inside a name is no match
    h = add_person(w, "H", given_name="Lina", surname="Lindholm", protected_identity=True)
    k = add_person(w, "K", org="kommun", given_name="Eva", surname="LINDAHL")
    orders = {
        "a": place(w, a, 5, 1), "b": place(w, b, 3), "c": place(w, c, 2, 2), "d": place(w, d, 4),
        "e": place(w, e, 0), "f": place(w, f, 9, 8), "g": place(w, g, 1), "h": place(w, h, 1),
        "k": place(w, k, 7, desk="other", orderer="admin"),
    }
    assert b.id < c.id
    return orders


def test_name_search_is_in_name_order_surnames_first_then_given_names(w: World, lind: dict[str, list[Order]]) -> None:
    o = lind
    expected = [o["a"][1], o["a"][0],  # Lind (oldest order first)
                o["k"][0],  # Lindahl ('LINDAHL' folded)
                o["b"][0], o["c"][0], o["c"][1],  # Lindgren ×2: by person, then date, then id
                o["d"][0],  # Lindqvist
                o["e"][0],  # Linda Berg: given-name matches after every surname match
                o["f"][1], o["f"][0]]  # lindy Åberg
    found = search_orders(user(w, "admin"), OrderSearch(text="lind"))
    assert found.by_name and found.orders == expected
    for limit in range(1, len(expected) + 2):  # every page boundary, inside a person's orders and across parts
        assert every_page(user(w, "admin"), OrderSearch(text="LIND"), limit) == expected


def test_pages_are_the_same_with_other_filters_and_scopes(w: World, lind: dict[str, list[Order]]) -> None:
    o = lind
    # RA officer: the region's staff only; the municipality's officer: Lindahl only; the desk: orders at its desk
    # (not Lindahl, ordered at the other desk); the orderer: the orders they placed; the evaluator: nothing.
    region = [o["a"][1], o["a"][0], o["b"][0], o["c"][0], o["c"][1], o["d"][0], o["e"][0], o["f"][1], o["f"][0]]
    for name, expected in [("ra_officer", region), ("ra_kommun", [o["k"][0]]), ("card_admin", region),
                           ("orderer", region), ("evaluator", [])]:
        for limit in (1, 2, 4, 50):
            assert every_page(user(w, name), OrderSearch(text="lind"), limit) == expected, (name, limit)
    o["c"][0].status = "approved"
    db.session.commit()
    assert every_page(user(w, "admin"), OrderSearch(text="lind", status="approved"), 1) == [o["c"][0]]
    assert every_page(user(w, "admin"), OrderSearch(text="lind", organisation_id=w.municipality_id), 1) == [o["k"][0]]


def test_protected_identity_only_by_exact_hsa_id_also_when_paging(w: World, lind: dict[str, list[Order]]) -> None:
    protected = lind["h"][0]
    admin = user(w, "admin")
    assert protected not in every_page(admin, OrderSearch(text="lind"), 1)
    assert protected not in every_page(admin, OrderSearch(text="Lina Lindholm"), 1)
    assert protected not in every_page(admin, OrderSearch(text="SE2321000222-"), 2)  # no HSA-ID prefix
    assert every_page(admin, OrderSearch(text="SE2321000222-H"), 1) == [protected]
    assert every_page(user(w, "ra_kommun"), OrderSearch(text="SE2321000222-H"), 1) == []  # and only in scope


def test_hsa_id_matches_come_first_and_nobody_twice(w: World) -> None:
    se = add_person(w, "S1", given_name="Sebastian", surname="Ek")  # HSA-ID and given name both begin 'SE'
    ek = add_person(w, "S0", given_name="Eva", surname="Selander")  # so do HSA-ID and surname
    test_id = people.create_person(user(w, "admin"), PersonInput(
        hsa_id="TSTNMT2321000156-1019", given_name="Selma", surname="Ahl", organisation_id=w.region_id))
    db.session.commit()
    orders = {p.hsa_id: place(w, p, 1, 0) for p in (se, ek, test_id)}
    expected = [*orders["SE2321000222-S0"][::-1], *orders["SE2321000222-S1"][::-1],  # by HSA-ID
                *orders["TSTNMT2321000156-1019"][::-1]]  # then by name: Selma, a given name beginning 'se'
    for limit in (1, 2, 3, 7):
        assert every_page(user(w, "admin"), OrderSearch(text="SE"), limit) == expected
    # Case matters for HSA-IDs, not for names: 'se' finds the three by name (Selander, then Sebastian, Selma).
    assert every_page(user(w, "admin"), OrderSearch(text="se"), 2) == [
        *orders["SE2321000222-S0"][::-1], *orders["SE2321000222-S1"][::-1], *orders["TSTNMT2321000156-1019"][::-1]]


def test_several_words_each_begin_a_name_whatever_the_case(w: World) -> None:
    hit = add_person(w, "W1", given_name="Anna", surname="Åkerlund")
    near = add_person(w, "W2", given_name="Åke", surname="Annasdotter")  # 'åker' begins neither name
    both = add_person(w, "W3", given_name="Anna-Karin", surname="Åker")
    others = [add_person(w, "W4", given_name="Anna", surname="Berg"),
              add_person(w, "W5", given_name="Maria", surname="Åkerström")]
    hit_order, near_order, both_order = (place(w, p, 1)[0] for p in (hit, near, both))
    for p in others:
        place(w, p, 1)
    admin = user(w, "admin")
    for text, expected in [("Anna Åker", {hit_order, both_order}), ("åker ANNA", {hit_order, both_order}),
                           ("anna åkerl", {hit_order}), ("anna annas", {near_order}),  # both begin the surname
                           ("anna-karin anna åker", {both_order}), ("Anna Åker Berg", set())]:
        got = every_page(admin, OrderSearch(text=text), 1)
        assert len(got) == len(set(got)) and set(got) == expected, text
        assert got == search_orders(admin, OrderSearch(text=text)).orders
    assert near_order in every_page(admin, OrderSearch(text="åke anna"), 1)
    assert every_page(admin, OrderSearch(text="öberg"), 1) == []
    oberg = add_person(w, "W6", given_name="Åsa", surname="Öberg")
    oberg_orders = place(w, oberg, 2)
    assert every_page(admin, OrderSearch(text="öBERG"), 1) == oberg_orders


def test_a_cursor_keeps_its_driving_word_when_the_counts_change(w: World) -> None:
    """The rarest word picks the walk; a cursor remembers which, so later pages follow the first page's order
    even when another word has become the rarest in between."""
    first_by_given = add_person(w, "D1", given_name="Anna", surname="Östlund")
    first_by_surname = add_person(w, "D2", given_name="Annika", surname="Öst")
    expected = [place(w, first_by_given, 1)[0], place(w, first_by_surname, 1)[0]]  # 'ann' drives (a tie)
    admin = user(w, "admin")
    query = OrderSearch(text="ann öst")
    first = search_orders(admin, query, limit=1)
    assert first.orders == expected[:1]
    for i in range(6):  # now 'öst' is the rarer word: a new search walks the surnames (Öst before Östlund)
        add_person(w, f"X{i}", given_name="Anneli", surname=f"Berg{i}")
    assert search_orders(admin, query).orders == expected[::-1]
    assert every_page_from(admin, query, first.next, 1) == expected[1:]


def test_a_cursor_in_a_part_that_has_since_emptied_goes_on_with_the_next(w: World) -> None:
    by_surname = add_person(w, "E1", given_name="Östen", surname="Annberg")
    by_given = add_person(w, "E2", given_name="Anna", surname="Östlund")
    first, second = place(w, by_surname, 1)[0], place(w, by_given, 1)[0]
    admin = user(w, "admin")
    query = OrderSearch(text="ann öst")
    page = search_orders(admin, query, limit=1)
    assert page.orders == [first]
    by_surname.surname = "Berg"  # no surname begins 'ann' any more
    db.session.commit()
    assert every_page_from(admin, query, page.next, 1) == [second]


def every_page_from(actor: Any, query: OrderSearch, after: str | None, limit: int) -> list[Order]:
    seen: list[Order] = []
    while True:
        found = search_orders(actor, query, after=after, limit=limit)
        if not found.orders:
            return seen
        seen += found.orders
        after = found.next


def _name_cursor(*payload: Any) -> str:
    return "n." + base64.urlsafe_b64encode(json.dumps(list(payload)).encode()).decode().rstrip("=")


BAD_NAME_CURSORS = [
    "x", "n.", "n.!!!", "n." + "A" * 3000, "2026-01-01T00:00:00+00:00~1",  # a date cursor on a name search
    _name_cursor("surname", "lind"), _name_cursor("surname", "lind", ["lind", "karl", 1], "2026-01-01", 1),
    _name_cursor("nope", "lind", ["lind"], "2026-01-01T00:00:00+00:00", 1),
    _name_cursor("surname", "berg", ["berg", "anna", 1], "2026-01-01T00:00:00+00:00", 1),  # another search
    _name_cursor("surname", "lind", ["lind", "karl", "1"], "2026-01-01T00:00:00+00:00", 1),
    _name_cursor("surname", "lind", ["berg", "karl", 1], "2026-01-01T00:00:00+00:00", 1),  # outside the part
    _name_cursor("surname", "lind", ["lind", "karl", 2**70], "2026-01-01T00:00:00+00:00", 1),
    _name_cursor("surname", "lind", ["lind\x00", "karl", 1], "2026-01-01T00:00:00+00:00", 1),
    _name_cursor("hsa_id", "lind", ["SE"], "2026-01-01T00:00:00+00:00", True),
    _name_cursor("given_name", "lind", {"a": 1}, "2026-01-01T00:00:00+00:00", 1),
    "n." + base64.urlsafe_b64encode(b"\xff\xfe").decode(),
]


@pytest.mark.parametrize("cursor", BAD_NAME_CURSORS)
def test_bad_name_cursors_are_invalid_input(w: World, lind: dict[str, list[Order]], cursor: str) -> None:
    with pytest.raises(InvalidInput, match="Sidhänvisningen"):
        search_orders(user(w, "admin"), OrderSearch(text="lind"), after=cursor)


def test_date_cursor_still_pages_other_searches_oldest_first(w: World, lind: dict[str, list[Order]]) -> None:
    admin = user(w, "admin")
    by_date = sorted((x for orders in lind.values() for x in orders), key=lambda x: (x.created_at, x.id))
    found = search_orders(admin, OrderSearch(status="ordered"), limit=3)
    assert not found.by_name and found.orders == by_date[:3]
    assert found.next == f"{by_date[2].created_at.isoformat()}~{by_date[2].id}"
    assert every_page(admin, OrderSearch(status="ordered"), 2) == by_date
    naive = f"{by_date[2].created_at.replace(tzinfo=None).isoformat()}~{by_date[2].id}"  # read as UTC
    assert search_orders(admin, OrderSearch(status="ordered"), after=naive).orders == by_date[3:]
    name_cursor = search_orders(admin, OrderSearch(text="lind"), limit=1).next
    for cursor in ("garbage", "2026-13-01~1", name_cursor):
        with pytest.raises(InvalidInput, match="Sidhänvisningen"):
            search_orders(admin, OrderSearch(status="ordered"), after=cursor)


def test_control_characters_are_invalid_input_not_a_database_error(w: World) -> None:
    for query in (OrderSearch(text="lind\x00"), OrderSearch(card_number="9752\x00")):
        with pytest.raises(InvalidInput, match="otillåtna tecken"):
            search_orders(user(w, "admin"), query)


# ---------------------------------------------------------------- through the page and the API


def _ids(page: str) -> list[str]:
    return re.findall(r'href="/bestallningar/(\d+)"', page)


def test_search_page_shows_the_name_order_and_pages_through_it(app, client, world, monkeypatch) -> None:
    from cardadmin.orders import card_views

    with app.app_context():
        persons = [add_person(world, local, given_name=given, surname="Lindgren")
                   for local, given in (("P1", "Sven"), ("P2", "Anna"), ("P3", "Olle"))]
        expected = [str(o.id) for p in sorted(persons, key=lambda p: p.given_name)
                    for o in place(world, p, 2, 1)[::-1]]
    monkeypatch.setattr(card_views, "PAGE", 4)
    client.login("ra_officer")
    page = client.get("/kort/sok?q=lindgren").get_data(as_text=True)
    assert "Sorterat på namn" in page
    header = page[page.index("<thead>"):page.index("</thead>")]
    assert header.index("Person") < header.index("Beställning")  # the name column first
    seen = _ids(page)
    while link := re.search(r'href="([^"]*efter=[^"]*)">Nästa sida', page):
        page = client.get(html.unescape(link.group(1))).get_data(as_text=True)
        seen += _ids(page)
    assert seen == expected
    by_date = client.get("/kort/sok?status=ordered").get_data(as_text=True)
    assert "Sorterat på beställningsdatum" in by_date
    bad = client.get("/kort/sok?q=lindgren&efter=n.bm9wZQ")
    assert bad.status_code == 400 and "Sidhänvisningen är ogiltig" in bad.get_data(as_text=True)
    # A date cursor without a zone (typed, or from an old link) is UTC, not a 500 as it was.
    assert client.get("/bestallningar/att-godkanna?efter=2026-01-01T00:00:00~1").status_code == 200


def test_api_pages_a_name_search_and_refuses_bad_cursors(app, world) -> None:
    from cardadmin.accounts import service as accounts

    with app.app_context():
        token = accounts.create_api_token(world.users["ra_officer"], "test")[1]
        persons = [add_person(world, local, given_name=given, surname=surname)
                   for local, given, surname in (("A1", "Lisa", "Lindberg"), ("A2", "Lind", "Ek"),
                                                 ("A3", "Per", "Lindberg"))]
        orders = [[o.id for o in place(world, p, 3, 1)] for p in persons]
        db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    c = app.test_client()
    seen, after = [], None
    while True:
        url = "/api/v1/orders?q=lind&limit=3" + (f"&after={after}" if after else "")
        body = c.get(url, headers=headers).json
        assert body["order"] == "name"
        if not body["items"]:
            break
        seen += [item["id"] for item in body["items"]]
        after = body["next"]
    # Lindberg: Lisa, Per (surname matches), then Lind Ek (given name); each person's orders oldest first.
    assert seen == [orders[0][1], orders[0][0], orders[2][1], orders[2][0], orders[1][1], orders[1][0]]
    for cursor in ("n.e30", "zzz", "2026-01-01T00:00:00+00:00~1"):
        response = c.get(f"/api/v1/orders?q=lind&after={cursor}", headers=headers)
        assert response.status_code == 400 and "Sidhänvisningen" in response.json["error"]["message"]
    naive = c.get("/api/v1/orders?status=ordered&after=2026-01-01T00:00:00~1", headers=headers)
    assert naive.status_code == 200  # was a 500
    assert c.get("/api/v1/orders?status=ordered&after=garbage", headers=headers).status_code == 400
    spec = c.get("/api/v1/openapi.json").json["paths"]["/api/v1/orders"]["get"]
    assert "name order" in spec["description"]


def test_bulk_revoke_from_the_second_page_of_a_name_search(app, client, world, monkeypatch) -> None:
    from cardadmin.orders import card_views
    from tests.test_orders_views import _drive, _new_order

    orders = [_new_order(app, world, f"R{i}", given_name=given, surname="Lindqvist")
              for i, given in enumerate(["Cecilia", "Bo", "Åsa", "Adam"])]
    for i, order_id in enumerate(orders):
        _drive(app, world, order_id, Status.ACTIVE, f"97520000001{i:02d}")
    monkeypatch.setattr(card_views, "PAGE", 2)
    client.login("card_admin")
    first = client.get("/kort/sok?q=lindqvist").get_data(as_text=True)
    link = re.search(r'href="([^"]*efter=[^"]*)">Nästa sida', first)
    assert link is not None
    second = client.get(html.unescape(link.group(1))).get_data(as_text=True)
    cards = re.findall(r'name="card_ids" value="(\d+)"', second)
    with app.app_context():
        holders = [db.session.get(Card, int(c)).person.given_name for c in cards]
    assert holders == ["Cecilia", "Åsa"]  # Adam and Bo were on the first page (by given name, Å last)
    result = client.post_form("/kort/sok/sparra", {"card_ids": cards, "confirm": "1", "reason": "lost",
                                                   "requested_by": "Kortinnehavaren"})
    assert result.status_code == 200 and "2 av 2" in result.get_data(as_text=True)
    with app.app_context():
        revoked = db.session.scalars(select(Card).where(Card.status == Status.REVOKED))
        assert sorted(c.person.given_name for c in revoked) == ["Cecilia", "Åsa"]
