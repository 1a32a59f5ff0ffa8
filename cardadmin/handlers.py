"""Errors become a Swedish page (or JSON under /api/) with the right status, exactly once, here."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_login import logout_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException

from cardadmin.db import db
from cardadmin.errors import CardAdminError

log = logging.getLogger(__name__)

HTTP_MESSAGES = {
    400: ("Felaktig begäran", "Begäran kunde inte tolkas. Kontrollera uppgifterna och försök igen."),
    401: ("Inloggning krävs", "Du är inte inloggad, eller så har sessionen gått ut."),
    403: ("Åtkomst nekad", "Du saknar behörighet för den här sidan."),
    404: ("Sidan finns inte", "Sidan eller posten du sökte finns inte."),
    405: ("Metoden är inte tillåten", "Den här adressen tar inte emot den sortens begäran."),
    409: ("Konflikt", "Åtgärden krockar med hur posten ser ut nu. Ladda om sidan och försök igen."),
    413: ("För stor begäran", "Det du skickade är för stort."),
    415: ("Fel format", "Innehållet har ett format som inte stöds."),
    429: ("För många försök", "Vänta en stund och försök igen."),
    500: ("Något gick fel", "Ett oväntat fel inträffade. Inget har sparats. Försök igen eller kontakta support."),
    503: ("Tillfälligt otillgänglig", "Tjänsten är tillfälligt otillgänglig. Försök igen om en stund."),
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, code: str, message: str) -> Any:
    db.session.rollback()  # nothing half-done survives an error
    if wants_json():
        return jsonify({"error": {"code": code, "message": message}}), status
    title, _default = HTTP_MESSAGES.get(status, HTTP_MESSAGES[500])
    return render_template("errors/error.html", status=status, title=title, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CardAdminError)
    def _domain_error(exc: CardAdminError) -> Any:
        return error_response(exc.status, exc.code, exc.message)

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> Any:
        # As SecureDrop does: a failed CSRF check ends the session, on the server too.
        from cardadmin.accounts import sessions

        db.session.rollback()
        sessions.end_current("csrf")
        db.session.commit()
        logout_user()
        return error_response(
            400, "csrf", "Formuläret har gått ut eller saknar säkerhetstoken. Ladda om sidan, logga in och försök igen."
        )

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        _title, message = HTTP_MESSAGES.get(status, (None, exc.description or ""))
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(status, code, message)

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def _value_out_of_range(exc: Exception) -> Any:
        # A number too large for its column (SQLite raises OverflowError, PostgreSQL DataError): the input is
        # wrong, not the server. One place for every form field and JSON value; the transaction is rolled back.
        return error_response(400, "out_of_range", "Ett värde är utanför det tillåtna intervallet.")

    @app.errorhandler(OperationalError)
    def _database_busy(exc: OperationalError) -> Any:
        log.warning("database operational error: %s", exc.orig.__class__.__name__)
        return error_response(503, "database_unavailable", HTTP_MESSAGES[503][1])

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal", HTTP_MESSAGES[500][1])
