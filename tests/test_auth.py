"""Login, logout, throttling, session renewal and idle timeout."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from cardadmin.accounts.models import LoginFailure
from cardadmin.audit.models import AuditEvent
from cardadmin.db import db
from tests.conftest import PASSWORD


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_login_and_logout(app, client, world):
    response = client.login("card_admin")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = client.get("/")
    assert "Välkommen" in home.get_data(as_text=True)
    assert client.post_form("/logout").status_code == 302
    assert client.get("/").status_code == 302  # back to the login page
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("user.log%"))).all()
    assert actions == ["user.login", "user.logout"]


def test_wrong_password_and_unknown_user_get_the_same_clear_answer(app, client, world):
    client.fetch_csrf()
    wrong = client.post_form("/login", {"username": "card_admin", "password": "nope-nope-nope"})
    unknown = client.post_form("/login", {"username": "nobody", "password": "nope-nope-nope"})
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "Fel användarnamn eller lösenord" in response.get_data(as_text=True)
    assert _count(app, LoginFailure) == 2


def test_login_is_throttled_per_account_even_with_the_right_password(app, client, new_client, world):
    client.fetch_csrf()
    for _ in range(5):
        assert client.post_form("/login", {"username": "card_admin", "password": "wrong-password"}).status_code == 401
    blocked = client.post_form("/login", {"username": "card_admin", "password": PASSWORD})
    assert blocked.status_code == 429
    assert "För många misslyckade inloggningar" in blocked.get_data(as_text=True)
    # Another account from another address is not affected.
    assert new_client(address="10.9.9.9").login("orderer").status_code == 302


def test_throttle_is_shared_between_worker_processes(make_app, world, new_client):
    """Failures recorded through one app instance block the login through another (same database)."""
    first, second = new_client(), new_client(on=make_app())
    first.fetch_csrf()
    for _ in range(5):
        first.post_form("/login", {"username": "orderer", "password": "wrong-password"})
    assert second.login("orderer").status_code == 429


def test_login_is_throttled_per_address(app, new_client, world):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    client = new_client(address="10.1.1.1")
    client.fetch_csrf()
    for name in ("a1", "a2", "a3"):
        client.post_form("/login", {"username": name, "password": "wrong-password"})
    assert client.login("evaluator").status_code == 429


def test_throttle_window_passes(app, client, world):
    client.fetch_csrf()
    for _ in range(5):
        client.post_form("/login", {"username": "card_admin", "password": "wrong-password"})
    with app.app_context():
        for failure in db.session.scalars(select(LoginFailure)):
            failure.at = failure.at - timedelta(minutes=16)
        db.session.commit()
    assert client.login("card_admin").status_code == 302


def test_session_is_renewed_at_login(app, client, world):
    client.fetch_csrf()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    assert client.login("orderer").status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session


def test_inactive_user_cannot_log_in(app, client, world):
    with app.app_context():
        from cardadmin.accounts.models import User

        user = db.session.get(User, world.users["orderer"].id)
        user.active = False
        db.session.commit()
    assert client.login("orderer").status_code == 401


def _age_sessions(app, username: str, seconds: float) -> None:
    """Move the server's idle clock of the user's sessions back, as if nothing had happened for ``seconds``."""
    from datetime import timedelta

    from sqlalchemy import select, update

    from cardadmin.accounts.models import LoginSession, User

    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        rows = db.session.scalars(select(LoginSession).where(LoginSession.user_id == user_id)).all()
        assert rows, "login made no server-side session"
        for row in rows:
            db.session.execute(
                update(LoginSession).where(LoginSession.id == row.id)
                .values(last_seen_at=row.last_seen_at - timedelta(seconds=seconds))
            )
        db.session.commit()


def _cookie_jar(client):
    return [(c.key, c.value, c.domain) for c in client._cookies.values()]


def _replay(target, jar) -> None:
    target._cookies.clear()
    for key, value, domain in jar:
        target.set_cookie(key, value, domain=domain)


def test_idle_timeout_logs_out(app, client, world):
    client.login("orderer")
    _age_sessions(app, "orderer", app.config["IDLE_TIMEOUT"].total_seconds() + 5)
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    page = client.get("/login").get_data(as_text=True)
    assert "inaktivitet" in page


def test_the_login_responses_cookie_idles_out_too(app, client, new_client, world):
    """The cookie set by the login response, replayed unchanged after the idle timeout, is refused: the idle
    clock is the server's, not a value in the cookie (the old cookie had no last_seen and never idled)."""
    client.login("orderer")
    jar = _cookie_jar(client)
    assert client.get("/").status_code == 200
    _age_sessions(app, "orderer", app.config["IDLE_TIMEOUT"].total_seconds() + 10)
    thief = new_client()
    _replay(thief, jar)
    assert thief.get("/").status_code == 302
    assert client.get("/").status_code == 302  # the session itself has ended, for every copy of it


def test_a_cookie_copied_before_logout_is_dead_after_it(app, client, new_client, world):
    client.login("orderer")
    jar = _cookie_jar(client)
    thief = new_client()
    _replay(thief, jar)
    assert thief.get("/").status_code == 200  # the copy works while the session lives
    assert client.post_form("/logout").status_code == 302
    assert thief.get("/").status_code == 302
    assert thief.get("/konto").status_code == 302


def test_logout_ends_only_this_browsers_session(app, new_client, world):
    phone, desk = new_client(), new_client()
    phone.login("orderer")
    desk.login("orderer")
    desk.post_form("/logout")
    assert phone.get("/").status_code == 200


def test_a_request_keeps_the_session_alive(app, client, world):
    client.login("orderer")
    limit = app.config["IDLE_TIMEOUT"].total_seconds()
    _age_sessions(app, "orderer", limit - 5)
    assert client.get("/").status_code == 200  # within the timeout: the request moves the clock
    _age_sessions(app, "orderer", limit - 5)
    assert client.get("/").status_code == 200


def test_deactivation_ends_every_session(app, client, new_client, world):
    client.login("orderer")
    with app.app_context():
        from cardadmin.accounts.models import User

        user = db.session.get(User, world.users["orderer"].id)
        user.active = False
        db.session.commit()
    assert client.get("/").status_code == 302


def test_expired_session_on_a_form_post_is_a_clear_4xx(app, client, world):
    client.login("admin")
    token = client.csrf_token
    with client.session_transaction() as session:
        session.clear()
    client.csrf_token = token
    response = client.post_form("/admin/organisationer/ny", {"name": "X", "org_number": "232100-0222"})
    assert 400 <= response.status_code < 500
    assert "Traceback" not in response.get_data(as_text=True)


def test_password_change_ends_other_sessions(new_client, world):
    phone, desk = new_client(), new_client()
    phone.login("orderer")
    desk.login("orderer")
    changed = desk.post_form("/konto", {"current_password": PASSWORD, "new_password": "Another-password-2"})
    assert changed.status_code == 302
    assert desk.get("/").status_code == 200          # this session continues
    assert phone.get("/").status_code == 302         # the other one has ended


def test_password_change_with_wrong_current_password(app, client, world):
    client.login("orderer")
    response = client.post_form("/konto", {"current_password": "not-it-at-all", "new_password": "Another-password-2"})
    assert response.status_code == 400
    assert "Nuvarande lösenord stämmer inte" in response.get_data(as_text=True)
    client.post_form("/logout")
    assert client.login("orderer").status_code == 302  # the old password still works


def test_login_never_redirects_off_site(app, client, world):
    client.fetch_csrf()
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        client.post_form("/logout")
        client.fetch_csrf()
        response = client.post_form(f"/login?next={target}", {"username": "orderer", "password": PASSWORD})
        assert response.headers["Location"] == "/"


def test_an_attackers_failures_do_not_lock_the_owner_out_from_another_address(app, new_client, world):
    attacker = new_client(address="10.6.6.6")
    attacker.fetch_csrf()
    for _ in range(6):
        attacker.post_form("/login", {"username": "card_admin", "password": "wrong-password"})
    assert attacker.login("card_admin").status_code == 429
    assert new_client(address="10.1.2.3").login("card_admin").status_code == 302


def test_the_per_account_ceiling_holds_over_all_addresses(app, new_client, world):
    app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] = 3
    for n in range(3):
        guesser = new_client(address=f"10.7.7.{n}")
        guesser.fetch_csrf()
        guesser.post_form("/login", {"username": "card_admin", "password": "wrong-password"})
    assert new_client(address="10.1.2.3").login("card_admin").status_code == 429
