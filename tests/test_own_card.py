"""Four eyes on oneself: nobody decides on, produces, verifies, identity-checks, hands over or accepts their own
card, whoever placed the order. The recipient is matched on HSA-ID (case-insensitive, after strip)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from cardadmin.accounts import service as accounts
from cardadmin.db import db
from cardadmin.desk import verification
from cardadmin.errors import Forbidden
from cardadmin.orders import service
from cardadmin.orders.models import Order
from cardadmin.orders.states import Status
from cardadmin.roles import Role
from tests.conftest import World, build_world
from tests.test_orders_service import DOC, order_for, to_status
from tests.test_people import add_user, user

CARD = "9752000000001"
EXPIRES = date.today() + timedelta(days=5 * 365)


@pytest.fixture
def w(app_ctx: Any) -> World:
    return build_world()


def make_recipient(w: World, name: str, order: Order, *, spelled: str | None = None) -> None:
    """Give the fixture user ``name`` the order's recipient's HSA-ID (``spelled`` another way if given)."""
    u = user(w, name)
    u.hsa_id = spelled if spelled is not None else order.person.hsa_id
    db.session.commit()


def test_predicate_compares_hsa_ids_case_insensitively_after_strip(w: World) -> None:
    order = order_for(w)
    ra = user(w, "ra_officer")
    assert not service.is_own_card(ra, order)  # no HSA-ID: matches nobody
    make_recipient(w, "ra_officer", order, spelled=f"  {order.person.hsa_id.lower()} ")
    assert service.is_own_card(ra, order)
    assert not service.may_decide(ra, order)


def test_ra_officer_cannot_approve_or_reject_their_own_card(w: World) -> None:
    order = order_for(w)  # ordered by someone else
    make_recipient(w, "ra_officer", order, spelled=order.person.hsa_id.lower())
    with pytest.raises(Forbidden, match="ditt eget kort"):
        service.approve(user(w, "ra_officer"), order.id)
    with pytest.raises(Forbidden, match="ditt eget kort"):
        service.reject(user(w, "ra_officer"), order.id, "nej")
    results = service.decide_many(user(w, "ra_officer"), [order.id], approve_them=True)
    assert "ditt eget kort" in (results[order.id] or "")
    db.session.rollback()
    assert db.session.get(Order, order.id).status == Status.ORDERED


def _second_card_admin(w: World) -> Any:
    return add_user(w, "ka2", [Role.CARD_ADMIN], w.municipality_id, [w.desk_id])


def test_card_admin_cannot_take_any_desk_step_for_their_own_card(w: World) -> None:
    order = to_status(w, order_for(w), Status.APPROVED)
    make_recipient(w, "card_admin", order)
    me, other = user(w, "card_admin"), _second_card_admin(w)
    assert service.works_at_desk_of(me, order) and not service.may_take_desk_steps(me, order)
    assert service.may_take_desk_steps(other, order)

    with pytest.raises(Forbidden, match="ditt eget kort"):
        service.mark_in_production(me, order.id)
    service.mark_in_production(other, order.id)
    db.session.commit()
    with pytest.raises(Forbidden, match="ditt eget kort"):
        service.mark_at_desk(me, order.id, CARD, expires_on=EXPIRES)
    service.mark_at_desk(other, order.id, CARD, expires_on=EXPIRES)
    db.session.commit()
    with pytest.raises(Forbidden, match="ditt eget kort"):
        verification.verifiable_order(me, order.id)
    with pytest.raises(Forbidden, match="ditt eget kort"):
        service.hand_over(me, order.id, CARD, DOC)
    # The identity check of a card administrator's own card is done by another card administrator.
    service.hand_over(other, order.id, CARD, DOC)
    db.session.commit()
    with pytest.raises(Forbidden, match="ditt eget kort"):
        service.activate(me, order.id)
    service.activate(other, order.id)
    db.session.commit()
    assert order.status == Status.ACTIVE


def test_ra_queue_and_order_page_do_not_offer_deciding_on_ones_own_card(app: Any, client: Any, world: World) -> None:
    with app.app_context():
        order = order_for(world)
        order_id = order.id
        make_recipient(world, "ra_officer", order)
    client.login("ra_officer")
    page = client.get(f"/bestallningar/{order_id}").get_data(as_text=True)
    assert "Godkänn" not in page
    queue = client.get("/bestallningar/att-godkanna").get_data(as_text=True)
    assert f'value="{order_id}" id="order-{order_id}" disabled' in queue
    refused = client.post_form("/bestallningar/beslut", {"order_ids": [order_id], "action": "approve"})
    assert refused.status_code == 409
    assert "ditt eget kort" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Order, order_id).status == Status.ORDERED


def test_desk_pages_refuse_and_hide_ones_own_card(app: Any, client: Any, world: World) -> None:
    with app.app_context():
        order = to_status(world, order_for(world), Status.APPROVED)
        order_id = order.id
        make_recipient(world, "card_admin", order)
    client.login("card_admin")
    queue = client.get("/utlamning/").get_data(as_text=True)
    assert "Ditt eget kort" in queue and f"Starta tillverkning av {order_id}" not in queue
    refused = client.post_form(f"/utlamning/{order_id}/tillverkning")
    assert refused.status_code == 403
    assert "ditt eget kort" in refused.get_data(as_text=True)
    with app.app_context():
        other = _second_card_admin(world)  # another card administrator produces it
        service.mark_in_production(other, order_id)
        service.mark_at_desk(other, order_id, CARD, expires_on=EXPIRES)
        db.session.commit()
    page = client.get(f"/bestallningar/{order_id}").get_data(as_text=True)
    assert "Till utlämningen" not in page
    assert client.get(f"/utlamning/{order_id}/utlamning").status_code == 403


def test_api_refuses_approving_and_handing_over_ones_own_card(app: Any, world: World) -> None:
    with app.app_context():
        order = order_for(world)
        order_id = order.id
        make_recipient(world, "ra_officer", order)
        ra_token = accounts.create_api_token(user(world, "ra_officer"), "test")[1]
        db.session.commit()
    c = app.test_client()
    refused = c.post(f"/api/v1/orders/{order_id}/approve", headers={"Authorization": f"Bearer {ra_token}"})
    assert refused.status_code == 403
    assert "ditt eget kort" in refused.get_data(as_text=True)


def test_start_page_count_leaves_out_ones_own_card(w: World) -> None:
    from cardadmin.orders.queries import work_counts

    order = order_for(w)
    order_for(w, "P2")

    def waiting() -> int:
        counts = work_counts(user(w, "ra_officer"), warn_after=timedelta(days=7))
        return next(c.count for c in counts if c.endpoint == "orders.ra_queue")

    assert waiting() == 2
    make_recipient(w, "ra_officer", order, spelled=f" {order.person.hsa_id.lower()}")
    assert waiting() == 1
