"""Whole numbers from a request (ids, counts, page sizes): one parser for every page and API endpoint."""

from __future__ import annotations

from typing import Any

import pytest

from cardadmin.accounts import service as accounts
from cardadmin.db import db
from cardadmin.web import MAX_ID, whole_number, whole_numbers


@pytest.mark.parametrize(("raw", "expected"), [
    ("12", 12), (" 7 ", 7), ("0", 0), (str(MAX_ID), MAX_ID), (str(MAX_ID + 1), None), ("9" * 5000, None),
    ("", None), (None, None), ("-1", None), ("1.5", None), ("²", None), ("١٢", None), ("12a", None), (12, 12),
])
def test_whole_number(raw: Any, expected: int | None) -> None:
    assert whole_number(raw) == expected


def test_whole_numbers_keep_the_ids_in_order() -> None:
    assert whole_numbers(["3", "x", "²", "1", "3"]) == [3, 1, 3]
    assert whole_number("42", maximum=40) is None


def test_a_number_no_int_can_read_is_ignored_or_refused_never_a_500(app: Any, client: Any, world: Any) -> None:
    """'²' passed str.isdigit() and then failed int(): the HSA search and the export answered 500."""
    with app.app_context():
        _row, token = accounts.create_api_token(db.session.merge(world.users["admin"]), "t")
        db.session.commit()
    client.login("admin")
    assert client.get("/hsa/?enhet=²").status_code == 200  # a search filter that is no id is ignored
    assert "Ogiltigt val i filtret" in client.get("/kort/sok?desk_id=²").get_data(as_text=True)
    export = client.get("/utvardering/export?format=csv&desk_id=²")
    assert export.status_code == 400 and "Ogiltigt val i filtret" in export.get_data(as_text=True)
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    for path in ("/api/v1/orders?desk_id=²", "/api/v1/orders?limit=²", "/api/v1/audit/events?limit=²",
                 "/api/v1/audit/events?before=²"):
        response = api.get(path, headers=headers)
        assert response.status_code == 400 and response.json["error"]["message"], path


def test_favicon_is_served_without_logging_in(client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/vnd.microsoft.icon"
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO header
