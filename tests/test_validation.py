"""Unique-constraint races as 409s (validation.unique_or_conflict): the change that may collide is flushed
inside a SAVEPOINT, so a conflict undoes that change only and the transaction goes on, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cardadmin.accounts import service as accounts
from cardadmin.accounts.models import Organisation, User
from cardadmin.db import db
from cardadmin.errors import Conflict
from cardadmin.roles import Role
from tests.conftest import PASSWORD, World


def test_a_conflict_undoes_only_the_colliding_change(app_ctx: Any, world: World) -> None:
    """An admin's earlier work in the same transaction survives a username that is taken, and the transaction
    can still be used and committed (the savepoint used to open after the colliding flush: a dead transaction)."""
    admin = db.session.merge(world.users["admin"])
    accounts.save_organisation(admin, None, name="Vindelns kommun", org_number="212000-2460", kind="municipality")
    with pytest.raises(Conflict, match="card_admin finns redan"):
        accounts.create_user(admin, accounts.UserInput("card_admin", "Dubblett", roles=[Role.EVALUATOR]), PASSWORD)
    assert db.session.scalar(select(Organisation.name).where(Organisation.org_number == "2120002460"))
    db.session.commit()
    assert db.session.scalar(select(Organisation.id).where(Organisation.name == "Vindelns kommun")) is not None
    assert [u.full_name for u in db.session.scalars(select(User).where(User.username == "card_admin"))] == \
        ["Card_Admin"]


def test_an_update_that_collides_is_undone_and_the_object_reads_as_stored(app_ctx: Any, world: World) -> None:
    admin = db.session.merge(world.users["admin"])
    clerk = db.session.merge(world.users["card_admin"])
    with pytest.raises(Conflict, match="evaluator finns redan"):
        accounts.update_user(admin, clerk, accounts.UserInput("evaluator", "Nytt Namn", roles=[Role.CARD_ADMIN],
                                                              organisation_id=world.municipality_id,
                                                              desk_ids=[world.desk_id]))
    assert (clerk.username, clerk.full_name) == ("card_admin", "Card_Admin")
    db.session.commit()


def test_an_earlier_pending_change_is_not_reported_as_this_conflict(app_ctx: Any, world: World) -> None:
    """Its error is its own (a bug to see), not the message of the change that is guarded."""
    from cardadmin.validation import unique_or_conflict

    with db.session.no_autoflush:
        db.session.add(Organisation(name="Kopia", org_number="2321000222", kind="region"))  # taken
        with pytest.raises(IntegrityError), unique_or_conflict("Användarnamnet finns redan."):
            pass
    db.session.rollback()
