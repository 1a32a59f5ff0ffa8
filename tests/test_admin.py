"""Admin pages: users and roles, organisations, units, desks, pilot periods — each change audited."""

from __future__ import annotations

import html

from sqlalchemy import func, select

from cardadmin.accounts.models import Desk, Organisation, PilotPeriod, Unit, User
from cardadmin.audit.models import AuditEvent
from cardadmin.db import db


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_admin_creates_a_card_admin_bound_to_a_desk(app, client, world):
    client.login("admin")
    response = client.post_form("/admin/anvandare/ny", {
        "username": "Ny.Handlaggare", "full_name": "Nils Ny", "organisation_id": str(world.municipality_id),
        "roles": ["card_admin"], "desk_ids": [str(world.desk_id)], "active": "y", "password": "Long-enough-pw",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "ny.handlaggare"))
        assert [d.id for d in user.desks] == [world.desk_id]
        assert user.password_hash.startswith("$argon2id$")
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.create",
                                                           AuditEvent.target_id == str(user.id)))
        assert event.actor_name == "admin" and "card_admin" in event.data and "Long-enough" not in event.data
    assert client.login("ny.handlaggare", "Long-enough-pw").status_code == 302


def test_card_admin_without_desk_is_refused_and_nothing_is_stored(app, client, world):
    client.login("admin")
    before = _count(app, User), len(_audit_actions(app))
    response = client.post_form("/admin/anvandare/ny", {
        "username": "utan.disk", "full_name": "Utan Disk", "organisation_id": str(world.municipality_id),
        "roles": ["card_admin"], "password": "Long-enough-pw",
    })
    assert response.status_code == 400
    assert "minst en kortutlämning" in response.get_data(as_text=True)
    assert (_count(app, User), len(_audit_actions(app))) == before


def test_unusable_accounts_are_refused_and_nothing_is_stored(app, client, world):
    """The UX review saved e-mail 'fel' and an orderer with no organisation, who could then order for nobody."""
    client.login("admin")
    before = _count(app, User), len(_audit_actions(app))
    base = {"username": "ny.anvandare", "full_name": "Ny Användare", "organisation_id": str(world.region_id),
            "roles": ["orderer"], "active": "y", "password": "Long-enough-pw"}
    cases = [({"email": "fel"}, "E-postadressen ser inte ut som en e-postadress."),
             ({"email": "a@b"}, "E-postadressen ser inte ut som en e-postadress."),
             ({"organisation_id": ""}, "En kortbeställare måste knytas till den organisation"),
             ({"organisation_id": "", "roles": ["ra_officer"]}, "En RA-ansvarig måste knytas till den organisation")]
    for values, message in cases:
        response = client.post_form("/admin/anvandare/ny", base | values)
        assert response.status_code == 400, values
        assert message in html.unescape(response.get_data(as_text=True)), values
    assert (_count(app, User), len(_audit_actions(app))) == before
    # An evaluator or an admin needs no organisation; a well-formed address is kept.
    ok = client.post_form("/admin/anvandare/ny", base | {"organisation_id": "", "roles": ["evaluator"],
                                                         "email": "ny.anvandare@regionvasterbotten.se"})
    assert ok.status_code == 302
    with app.app_context():
        saved = db.session.scalar(select(User).where(User.username == "ny.anvandare"))
        assert saved.email == "ny.anvandare@regionvasterbotten.se" and saved.organisation_id is None


def test_password_hint_says_keep_only_when_there_is_one_to_keep(client, world):
    client.login("admin")
    new = html.unescape(client.get("/admin/anvandare/ny").get_data(as_text=True))
    assert "Lösenord (minst 10 tecken)" in new and "lämna tomt" not in new
    existing = html.unescape(client.get(f"/admin/anvandare/{world.users['orderer'].id}").get_data(as_text=True))
    assert "lämna tomt för att behålla" in existing


def test_duplicate_username_is_a_conflict(app, client, world):
    client.login("admin")
    response = client.post_form("/admin/anvandare/ny", {
        "username": "ORDERER", "full_name": "Dubblett", "roles": ["orderer"], "password": "Long-enough-pw",
        "organisation_id": str(world.region_id),
    })
    assert response.status_code == 409
    assert "finns redan" in response.get_data(as_text=True)


def test_short_password_is_refused(app, client, world):
    client.login("admin")
    response = client.post_form("/admin/anvandare/ny", {
        "username": "kort", "full_name": "Kort", "roles": ["orderer"], "password": "short",
    })
    assert response.status_code == 400 and "minst 10 tecken" in response.get_data(as_text=True)


def test_role_change_ends_the_users_sessions_and_is_audited(app, client, new_client, world):
    victim = new_client()
    victim.login("evaluator")
    client.login("admin")
    user_id = world.users["evaluator"].id
    response = client.post_form(f"/admin/anvandare/{user_id}", {
        "username": "evaluator", "full_name": "Evaluator", "organisation_id": str(world.region_id),
        "roles": ["evaluator", "ra_officer"], "active": "y",
    })
    assert response.status_code == 302
    assert victim.get("/").status_code == 302
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.update")).one()
        assert '"roles":[["evaluator"],["evaluator","ra_officer"]]' in event.data


def test_admin_cannot_remove_own_admin_role(app, client, world):
    client.login("admin")
    response = client.post_form(f"/admin/anvandare/{world.users['admin'].id}", {
        "username": "admin", "full_name": "Admin", "roles": ["evaluator"], "active": "y",
    })
    assert response.status_code == 409


def test_organisation_number_is_validated(app, client, world):
    client.login("admin")
    bad = client.post_form("/admin/organisationer/ny", {"name": "Fel", "org_number": "212000-2578",
                                                         "kind": "municipality"})
    assert bad.status_code == 400 and "kontrollsiffra" in bad.get_data(as_text=True)
    good = client.post_form("/admin/organisationer/ny", {"name": "Vindelns kommun", "org_number": "2120002577",
                                                          "kind": "municipality"})
    assert good.status_code == 302
    with app.app_context():
        org = db.session.scalar(select(Organisation).where(Organisation.name == "Vindelns kommun"))
        assert org.org_number == "2120002577"
    dup = client.post_form("/admin/organisationer/ny", {"name": "Kopia", "org_number": "212000-2577",
                                                         "kind": "municipality"})
    assert dup.status_code == 409


def test_unit_hsa_id_is_validated_and_unique(app, client, world):
    client.login("admin")
    path = f"/admin/organisationer/{world.region_id}/enheter/ny"
    bad = client.post_form(path, {"name": "Lasarett", "hsa_id": "SE2321000222"})
    assert bad.status_code == 400 and "HSA-id" in bad.get_data(as_text=True)
    good = client.post_form(path, {"name": "Lycksele lasarett", "hsa_id": "SE2321000222-LL01", "town": "Lycksele"})
    assert good.status_code == 302
    dup = client.post_form(path, {"name": "Annan", "hsa_id": "SE2321000222-LL01"})
    assert dup.status_code == 409
    assert _count(app, Unit) == 1


def test_unit_cannot_be_its_own_ancestor(app, client, world):
    client.login("admin")
    base = f"/admin/organisationer/{world.region_id}/enheter"
    client.post_form(f"{base}/ny", {"name": "Topp", "hsa_id": "SE2321000222-T1"})
    client.post_form(f"{base}/ny", {"name": "Under", "hsa_id": "SE2321000222-U1", "parent_id": "1"})
    response = client.post_form(f"{base}/1", {"name": "Topp", "hsa_id": "SE2321000222-T1", "parent_id": "2"})
    assert response.status_code == 400 and "under sig själv" in response.get_data(as_text=True)


def test_desk_and_pilot_period(app, client, world):
    client.login("admin")
    response = client.post_form("/admin/kortutlamningar/ny", {
        "name": "Kortutlämning Vindeln", "town": "Vindeln", "organisation_id": str(world.municipality_id),
        "opening_hours": "Tis 08–15", "active": "y",
    })
    assert response.status_code == 302
    desk_id = int(response.headers["Location"].rsplit("/", 1)[1])
    pilot = f"/admin/kortutlamningar/{desk_id}/pilot/ny"
    wrong = client.post_form(pilot, {"name": "Pilot Vindeln", "year": "2026", "week_from": "45", "week_to": "39"})
    assert wrong.status_code == 400
    week53 = client.post_form(pilot, {"name": "Pilot", "year": "2025", "week_from": "50", "week_to": "53"})
    assert week53.status_code == 400  # 2025 has 52 ISO weeks
    assert "År 2025 har 52 veckor: veckan ska vara 1–52." in html.unescape(week53.get_data(as_text=True))
    # The form no longer has its own range (1–53) that disagrees with the year's: week 60 gets the year's rule.
    week60 = client.post_form(pilot, {"name": "Pilot", "year": "2026", "week_from": "60", "week_to": "61"})
    text = html.unescape(week60.get_data(as_text=True))
    assert week60.status_code == 400 and "År 2026 har 53 veckor: veckan ska vara 1–53." in text
    assert "53." not in text.replace("1–53.", "")  # no second, different range next to the field
    last_week = client.post_form(pilot, {"name": "Pilot v.53", "year": "2026", "week_from": "53", "week_to": "53"})
    assert last_week.status_code == 302  # 2026 has 53
    ok = client.post_form(pilot, {"name": "Pilot Vindeln", "year": "2026", "week_from": "39", "week_to": "45"})
    assert ok.status_code == 302
    with app.app_context():
        period = db.session.scalars(select(PilotPeriod).where(PilotPeriod.week_from == 39)).one()
        assert (period.year, period.week_from, period.week_to) == (2026, 39, 45)
        assert db.session.get(Desk, desk_id).opening_hours == "Tis 08–15"
    assert "pilot_period.create" in _audit_actions(app)


def test_audit_search_scopes_ra_officers_to_their_organisation(app, client, world):
    client.login("ra_kommun")
    page = html.unescape(client.get("/logg/?target_type=user").get_data(as_text=True))
    assert "card_admin" in page  # a user of the officer's own organisation
    assert ">orderer<" not in page and "användarnamn: orderer" not in page  # the region's user is not shown
    client.post_form("/logout")
    client.login("admin")
    page = html.unescape(client.get("/logg/?target_type=user").get_data(as_text=True))
    assert "användarnamn: orderer" in page and "Användare skapad" in page  # Swedish words, the code beside


def test_audit_search_rejects_a_bad_date_clearly(app, client, world):
    client.login("admin")
    response = client.get("/logg/?from=2026-13-45")
    assert response.status_code == 400 and "ÅÅÅÅ-MM-DD" in response.get_data(as_text=True)


def test_navigation_follows_roles(app, new_client, world):
    expectations = {
        "admin": ["Administration", "Logg"],
        "ra_officer": ["Logg"],
        "orderer": [],
    }
    for username, links in expectations.items():
        browser = new_client()
        browser.login(username)
        page = browser.get("/").get_data(as_text=True)
        nav = page.split('aria-label="Huvudmeny"')[1].split("</nav>")[0]
        for label in ["Administration", "Användare", "Organisationer", "Logg"]:
            assert (f">{label}<" in nav) == (label in links), (username, label)


def test_administration_page_gathers_the_registers(app, new_client, world):
    """The register pages live under one menu entry; the entry stays marked on each of them."""
    admin = new_client()
    admin.login("admin")
    page = admin.get("/admin/").get_data(as_text=True)
    for label, path in [("Användare", "/admin/anvandare"), ("Organisationer", "/admin/organisationer"),
                        ("Kortutlämningar", "/admin/kortutlamningar"), ("Tidsinställningar", "/admin/tid/")]:
        assert f'href="{path}">{label}</a>' in page, label
    users = admin.get("/admin/anvandare").get_data(as_text=True)
    nav = users.split('aria-label="Huvudmeny"')[1].split("</nav>")[0]
    assert 'href="/admin/" aria-current="page">Administration<' in nav
    ra = new_client()
    ra.login("ra_officer")
    assert ra.get("/admin/").status_code == 403


def test_services_refuse_non_admins_whatever_the_edge(app_ctx, world):
    """The gate protects the pages; the services hold the same rule for the API, CLI and anything else."""
    import pytest

    from cardadmin.accounts import service
    from cardadmin.errors import Forbidden
    from cardadmin.roles import Role

    ra = db.session.get(User, world.users["ra_officer"].id)
    with pytest.raises(Forbidden):
        service.create_user(ra, service.UserInput("x.y", "X Y", roles=[Role.ADMIN]), "Long-enough-pw")
    with pytest.raises(Forbidden):
        service.save_organisation(ra, None, name="X", org_number="212000-2577", kind="municipality")
    with pytest.raises(Forbidden):
        service.update_user(ra, ra, service.UserInput("ra_officer", "RA", roles=[Role.ADMIN],
                                                      organisation_id=world.region_id))
    db.session.rollback()
    assert db.session.get(User, ra.id).roles == {Role.RA_OFFICER}
