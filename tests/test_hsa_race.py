"""The HSA-ID race on real PostgreSQL: two writers both pass the service check (neither sees the other's
uncommitted row); the registry's primary key makes the second wait and then fail cleanly with a 409."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from cardadmin.db import db
from cardadmin.errors import Conflict
from cardadmin.hsa import service
from cardadmin.hsa.changelog import ChangeContext
from cardadmin.hsa.models import HsaIdentity
from cardadmin.hsa.rules import SystemActor
from cardadmin.hsa.service import PersonEntryInput, UnitEntryInput
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
