"""Web import (upload, dry run, apply) and export of HSA entries. Uploads are limited by
CARDADMIN_MAX_REQUEST_BYTES; larger files go through `cardadmin hsa import` on the server."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, render_template, request, stream_with_context
from flask_login import current_user

from cardadmin.db import db
from cardadmin.errors import InvalidInput, NotFound
from cardadmin.hsa import export, formats, importer
from cardadmin.hsa.changelog import ChangeContext
from cardadmin.hsa.forms import ImportForm
from cardadmin.hsa.rules import WRITERS
from cardadmin.hsa.views import bp, desk_choices
from cardadmin.roles import Role
from cardadmin.security import allow

IMPORTERS = (Role.CARD_ADMIN, Role.ADMIN)


@bp.route("/import", methods=["GET", "POST"])
@allow(*IMPORTERS)
def import_file() -> Any:
    form = ImportForm()
    desk_choices(form)
    limit_mb = current_app.config["MAX_CONTENT_LENGTH"] / (1024 * 1024)
    result, encoding, status = None, None, 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            file_format = form.file_format.data or formats.detect_format(upload.filename or "")
            if file_format not in formats.FORMATS or (form.encoding.data or "utf-8") not in formats.ENCODINGS:
                raise formats.FileProblem("Välj format och teckenkodning ur listorna.")
            lines, rows = formats.open_rows(upload.stream, file_format, form.encoding.data or None)
            result = importer.run_import(ChangeContext(current_user, "import", desk_id=form.desk_id.data), rows,
                                         apply=form.mode.data == "apply", valid_only=form.valid_only.data)
            encoding = formats.ENCODINGS[lines.encoding] + (" (avkänd)" if lines.detected else "")
        except formats.FileProblem as exc:
            db.session.rollback()
            raise InvalidInput(str(exc)) from None
        if result.commit:
            db.session.commit()
        status = 200 if result.commit or not result.problem_count else 422
    elif request.method == "POST":
        status = 400
    return render_template("hsa/import.html", form=form, result=result, encoding=encoding,
                           limit_mb=limit_mb), status


@bp.route("/export.<fmt>")
@allow(*WRITERS)
def export_file(fmt: str) -> Any:
    if fmt not in formats.FORMATS:
        raise NotFound("Formatet finns inte.")
    writer = formats.write_csv if fmt == "csv" else formats.write_ldif
    mimetype = "text/csv" if fmt == "csv" else "text/plain"

    @stream_with_context  # the request (user, database session) stays open while the rows stream
    def generate() -> Any:
        yield from writer(export.records(current_user))

    return Response(generate(), mimetype=mimetype,
                    headers={"Content-Disposition": f"attachment; filename=hsa-poster.{fmt}"})
