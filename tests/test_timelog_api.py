"""The time API: log, refuse bad input as JSON errors (nothing stored), submit, approve; OpenAPI lists it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cardadmin.accounts import service as accounts
from cardadmin.db import db
from cardadmin.timelog.models import TimeEntry
from tests.timelog_fixtures import MONDAY_W37, build_pilot


@pytest.fixture
def pilot(app, world):
    with app.app_context():
        p = build_pilot(world)
        p.tokens = {n: accounts.create_api_token(p.users[n], "t")[1]
                    for n in ("card_admin", "evaluator", "card_admin2")}
        db.session.commit()
        return p


def _h(pilot, name):
    return {"Authorization": f"Bearer {pilot.tokens[name]}"}


def test_time_entries_and_timesheets_through_the_api(app, pilot):
    c = app.test_client()
    body = {"work_date": MONDAY_W37.isoformat(), "start": "08:00", "end": "09:15", "desk_id": pilot.world.desk_id,
            "activity_id": pilot.activities["order_handling"], "organisation_id": pilot.world.region_id,
            "persons_handled": 4}
    created = c.post("/api/v1/time-entries", headers=_h(pilot, "card_admin"), json=body)
    assert created.status_code == 201 and created.json["minutes"] == 75 and created.json["week"] == "2026-W37"
    for bad, code in [({"start": "08:30", "end": "09:00"}, 409), ({"start": "09:00", "end": "08:00"}, 400),
                      ({"work_date": "2026-02-30"}, 400), ({"desk_id": "1"}, 400), ({"km_avoided": True}, 400),
                      ({"work_date": "2099-01-01"}, 400)]:
        response = c.post("/api/v1/time-entries", headers=_h(pilot, "card_admin"), json={**body, **bad})
        assert response.status_code == code, (bad, response.json)
        assert response.json["error"]["message"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TimeEntry)) == 1
    listed = c.get("/api/v1/time-entries?week=2026-W37", headers=_h(pilot, "card_admin")).json
    assert [e["id"] for e in listed["items"]] == [created.json["id"]]
    sheet = c.post("/api/v1/timesheets/submit", headers=_h(pilot, "card_admin"), json={"week": "2026-W37"}).json
    assert sheet["status"] == "submitted"
    pending = c.get("/api/v1/timesheets/pending", headers=_h(pilot, "evaluator")).json["items"]
    assert [s["id"] for s in pending] == [sheet["id"]]
    approved = c.post(f"/api/v1/timesheets/{sheet['id']}/approve", headers=_h(pilot, "evaluator"))
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    locked = c.delete(f"/api/v1/time-entries/{created.json['id']}", headers=_h(pilot, "card_admin"))
    assert locked.status_code == 409
    reopened = c.post(f"/api/v1/timesheets/{sheet['id']}/reopen", headers=_h(pilot, "evaluator"),
                      json={"reason": "Fel organisation"})
    assert reopened.json["status"] == "open"
    assert c.delete(f"/api/v1/time-entries/{created.json['id']}", headers=_h(pilot, "card_admin")).status_code == 200


def test_openapi_lists_the_time_routes(app):
    doc = app.test_client().get("/api/v1/openapi.json").json
    assert {"/api/v1/time-entries", "/api/v1/time-entries/{entry_id}", "/api/v1/timesheets/submit",
            "/api/v1/timesheets/{sheet_id}/approve", "/api/v1/activities"} <= set(doc["paths"])
    assert "post" in doc["paths"]["/api/v1/time-entries"]
