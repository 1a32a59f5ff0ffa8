"""Login, logout, the start page and the user's own account (password, API tokens)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from cardadmin.accounts import service, sessions
from cardadmin.accounts.forms import LoginForm, PasswordChangeForm, TokenForm
from cardadmin.db import db, utcnow
from cardadmin.errors import CardAdminError
from cardadmin.security import allow_authenticated, public
from cardadmin.web import attempt, form_status

bp = Blueprint("auth", __name__)


@bp.route("/favicon.ico")
@public
def favicon() -> Any:
    """Browsers ask for /favicon.ico on every page whatever the page links (it 404'd); a small card icon."""
    return send_from_directory(current_app.static_folder or "static", "favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=7 * 24 * 3600)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a user off the site after login."""
    if not target:
        return url_for("auth.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("auth.home")
    return target


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("auth.home"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        address = request.remote_addr or "unknown"
        try:
            user = service.authenticate(form.username.data, form.password.data, address)
        except CardAdminError as exc:
            db.session.commit()  # keep the recorded failure: throttling depends on it
            flash(exc.message, "error")
            status = exc.status if exc.status != 400 else 401
        else:
            db.session.commit()
            session.clear()  # a new session at login: nothing from before survives
            login_user(user)
            sessions.start(user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@allow_authenticated
def logout() -> Any:
    service.record_logout(current_user)
    sessions.end_current("logout")
    db.session.commit()
    logout_user()
    session.clear()
    flash("Du är utloggad.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/")
@allow_authenticated
def home() -> Any:
    from datetime import timedelta

    from cardadmin.orders.display import WARN_DAYS
    from cardadmin.orders.queries import work_counts

    return render_template("auth/home.html", work=work_counts(current_user, warn_after=timedelta(days=WARN_DAYS)))


@bp.route("/konto", methods=["GET", "POST"])
@allow_authenticated
def account() -> Any:
    form = PasswordChangeForm()
    status = 200
    if form.validate_on_submit():
        user = current_user._get_current_object()
        _done, status = attempt(
            lambda: service.set_password(
                user, user, form.new_password.data, current_password=form.current_password.data
            )
        )
        if status == 200:
            # The session token rotated (every session ended): stay logged in here in a new one.
            sessions.end_current("password")
            login_user(user)
            sessions.start(user)
            db.session.commit()
            flash("Lösenordet är bytt. Andra inloggningar har avslutats.", "success")
            return redirect(url_for("auth.account"))
    status = form_status(request.method == "POST", status)
    return _account_page(form, TokenForm(), status)


def _account_page(form: PasswordChangeForm, token_form: TokenForm, status: int) -> Any:
    tokens = service.tokens_of(current_user)
    return render_template("auth/account.html", form=form, token_form=token_form, tokens=tokens,
                           scopes=service.TOKEN_SCOPES, now=utcnow()), status


@bp.route("/konto/api-nycklar", methods=["POST"])
@allow_authenticated
def create_token() -> Any:
    form = TokenForm()
    minted = None
    if form.validate_on_submit():
        minted, _status = attempt(
            lambda: service.mint_api_token(current_user, form.name.data, form.password.data or "",
                                           days=form.days.data or 0, scope=form.scope.data),
            form=form,
        )
    if minted is None:
        return _account_page(PasswordChangeForm(formdata=None), form, 400)
    row, plaintext = minted
    # Shown once, on this response only; never stored, never in the session.
    return render_template("auth/token_created.html", token=row, plaintext=plaintext)


@bp.route("/konto/api-nycklar/<int:token_id>/sparra", methods=["POST"])
@allow_authenticated
def revoke_token(token_id: int) -> Any:
    service.revoke_api_token(current_user, token_id)
    db.session.commit()
    flash("API-nyckeln är spärrad.", "success")
    return redirect(url_for("auth.account"))
