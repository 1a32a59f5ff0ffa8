"""Evaluation screens: dashboard per pilot site and combined, monthly statistics, the evaluation pack and its
downloads, exports of time entries, and the evaluation's inputs (factors, prices, observations, risks)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from cardadmin import spreadsheet
from cardadmin.accounts.models import Desk, Organisation, PilotPeriod, User
from cardadmin.db import db
from cardadmin.errors import InvalidInput
from cardadmin.evaluation import charts, exports, figures, pack, settings
from cardadmin.evaluation.models import (
    FACTOR_LABELS,
    OBSERVATION_LABELS,
    PRICE_LABELS,
    RISK_AREA_LABELS,
)
from cardadmin.roles import Role
from cardadmin.security import allow
from cardadmin.timefmt import today
from cardadmin.timelog.models import SHEET_LABELS, Activity
from cardadmin.web import attempt, date_arg, int_arg

bp = Blueprint("evaluation", __name__, url_prefix="/utvardering")
# The dashboards show every site's and municipality's figures: the evaluation, not one organisation's follow-up
# (an RA officer's own municipality is in "Exportera tid", scoped by the export service).
READERS = (Role.EVALUATOR, Role.ADMIN)
EXPORTERS = (Role.EVALUATOR, Role.ADMIN, Role.RA_OFFICER, Role.CARD_ADMIN)
EDITORS = (Role.EVALUATOR, Role.ADMIN)


def _year() -> int | None:
    years = figures.pilot_years()
    chosen = int_arg("ar")
    if chosen in years:
        return chosen
    return years[0] if years else None


def site_charts(site: figures.Site, activities: list[str]) -> list[Any]:
    labels = [f"v.{w[1]:02d}" for w in site.weeks]
    weeks = list(site.weeks.values())
    return [
        charts.bar_chart(f"{site.name}: utlämnade kort per vecka", labels, [("Kort", [f.handed_over for f in weeks])]),
        charts.bar_chart(f"{site.name}: timmar per aktivitet och vecka", labels,
                         [(a, [round(f.minutes_by_activity.get(a, 0) / 60, 1) for f in weeks]) for a in activities],
                         unit=" h"),
        charts.bar_chart(f"{site.name}: undvikna km per vecka", labels, [("km", [float(f.km) for f in weeks])]),
    ]


@bp.route("/")
@allow(*READERS)
def dashboard() -> Any:
    year = _year()
    approved_only = request.args.get("status") == "approved"
    sites, combined = figures.dashboard(year, approved_only=approved_only)
    activities = figures.activity_names(sites)
    factors = settings.factors()
    return render_template("evaluation/dashboard.html", year=year, years=figures.pilot_years(), sites=sites,
                           combined=combined, activities=activities, approved_only=approved_only,
                           charts={s.name: site_charts(s, activities) for s in [*sites, combined]},
                           co2_factor=factors[settings.Factor.CO2_KG_PER_KM])


@bp.route("/manad")
@allow(*READERS)
def monthly() -> Any:
    from cardadmin.evaluation.costs import monthly_statistics

    year = _year() or today().year
    return render_template("evaluation/monthly.html", year=year, years=figures.pilot_years(),
                           rows=monthly_statistics(year))


@bp.route("/paket")
@allow(Role.EVALUATOR, Role.ADMIN)
def pack_page() -> Any:
    year = _year()
    built = pack.build(year)
    return render_template("evaluation/pack.html", pack=built, year=year, years=figures.pilot_years(),
                           observation_labels=OBSERVATION_LABELS, risk_labels=RISK_AREA_LABELS,
                           summary=pack.summary_items(built))


@bp.route("/paket.xlsx")
@allow(Role.EVALUATOR, Role.ADMIN)
def pack_xlsx() -> Any:
    year = _year()
    built = pack.build(year)
    exports.record_export(current_user, _year_filter(year), "pack.xlsx")
    db.session.commit()
    handle = spreadsheet.xlsx_tempfile([
        ("Sammanfattning", ["Mått", "Värde"], pack.summary_rows(built)),
        ("Per vecka", pack.WEEK_HEADER, pack.week_rows(built)),
        ("Per aktivitet", ["Aktivitet", *[s.name + " (h)" for s in built.sites], "Totalt (h)"],
         pack.activity_rows(built)),
        ("Per organisation", pack.ORG_HEADER, pack.organisation_rows(built)),
        ("Tidsposter", exports.HEADER, exports.rows(current_user, _year_filter(year))),
    ])
    return _download(spreadsheet.stream_file(handle), f"utvarderingspaket-{year or 'alla'}.xlsx",
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _year_filter(year: int | None) -> exports.ExportFilter:
    """The pack's time entries: those of the year's pilot periods, as its figures (not a window of dates,
    which took in a neighbouring year's pilot across the ISO year boundary)."""
    if year is None:
        return exports.ExportFilter()
    return exports.ExportFilter(pilot_period_ids=tuple(p.id for p in figures.pilot_periods(year)))


@bp.route("/paket.csv")
@allow(Role.EVALUATOR, Role.ADMIN)
def pack_csv() -> Any:
    year = _year()
    actor, f = current_user._get_current_object(), _year_filter(year)  # type: ignore[attr-defined]
    exports.record_export(actor, f, "pack.csv")
    db.session.commit()
    return _download(_streamed(lambda s: exports.csv_chunks(actor, f, bom=True, semicolon=True, session=s)),
                     f"tidsposter-{year or 'alla'}.csv", "text/csv")


def _streamed(make: Callable[[Session], Iterator[bytes]]) -> Iterator[bytes]:
    """Run a generator that reads the database after the view has returned, with a session of its own (no
    request or app context outlives the request), closed when the response is."""
    session = current_app.extensions["cardadmin.sessionmaker"]()

    def run() -> Iterator[bytes]:
        try:
            yield from make(session)
        finally:
            session.close()

    return run()


def _download(body: Any, filename: str, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _int(name: str) -> int | None:
    """A filter's id; a value that is no id is refused (ignoring it would silently widen the export)."""
    return int_arg(name, refuse="Ogiltigt val i filtret.")


def filter_from_args() -> exports.ExportFilter:
    return exports.ExportFilter(
        desk_id=_int("desk_id"), pilot_period_id=_int("pilot_period_id"), user_id=_int("user_id"),
        organisation_id=_int("organisation_id"), activity_id=_int("activity_id"),
        status=request.args.get("status") or None, date_from=date_arg("from", "Från"), date_to=date_arg("to", "Till"))


def csv_options() -> tuple[bool, bool]:
    """(BOM, semicolon and decimal comma): as Swedish Excel reads a CSV unless the form says otherwise. The form
    sends ``valt`` with its boxes, so an unticked box (which a browser does not send) counts as off."""
    if not request.args.get("valt"):
        return True, True
    return bool(request.args.get("bom")), bool(request.args.get("semikolon"))


@bp.route("/export")
@allow(*EXPORTERS)
def export_page() -> Any:
    try:
        f = filter_from_args()
    except InvalidInput as exc:  # the form again, as the user filled it in, with the message
        return _export_form(None, error=exc), exc.status
    fmt = request.args.get("format", "")
    if fmt in ("csv", "xlsx"):
        exports.record_export(current_user, f, fmt)
        db.session.commit()
    if fmt == "csv":
        actor = current_user._get_current_object()  # type: ignore[attr-defined]
        bom, semicolon = csv_options()
        return _download(_streamed(lambda s: exports.csv_chunks(actor, f, bom=bom, semicolon=semicolon, session=s)),
                         "tidsposter.csv", "text/csv")
    if fmt == "xlsx":
        handle = exports.xlsx_file(current_user, f)
        return _download(spreadsheet.stream_file(handle), "tidsposter.xlsx",
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return _export_form(f)


def _export_form(f: exports.ExportFilter | None, error: InvalidInput | None = None) -> str:
    """The filters as given (kept when they are refused), the CSV options, and the selection's totals."""
    bom, semicolon = csv_options()
    options = {
        "desks": db.session.scalars(select(Desk).order_by(Desk.name)),
        "periods": db.session.scalars(select(PilotPeriod).order_by(PilotPeriod.year, PilotPeriod.week_from)),
        "users": db.session.scalars(select(User).where(User.role_rows.any(role="card_admin")).order_by(User.full_name)),
        "organisations": db.session.scalars(select(Organisation).order_by(Organisation.name)),
        "activities": db.session.scalars(select(Activity).order_by(Activity.sort_order)),
        "statuses": SHEET_LABELS,
    }
    return render_template("evaluation/export.html", totals=exports.totals(current_user, f) if f else None,
                           args=request.args, bom=bom, semicolon=semicolon, error=error, **options)


# ---------------------------------------------------------------- inputs


@bp.route("/installningar")
@allow(*EDITORS)
def inputs() -> Any:
    return render_template("evaluation/inputs.html", factors=settings.factors(), factor_labels=FACTOR_LABELS,
                           prices=settings.price_list(), price_labels=PRICE_LABELS, risks=settings.risks(),
                           risk_labels=RISK_AREA_LABELS, observations=settings.observations(),
                           observation_labels=OBSERVATION_LABELS,
                           desks=list(db.session.scalars(select(Desk).order_by(Desk.name))))


def _form_int(name: str) -> int:
    return int_arg(name, values=request.form) or 0


@bp.route("/installningar/faktorer", methods=["POST"])
@allow(*EDITORS)
def save_factors() -> Any:
    def save() -> None:
        for key in FACTOR_LABELS:
            if request.form.get(str(key), "").strip():
                settings.set_factor(current_user, str(key), request.form[str(key)])

    _done, status = attempt(save)
    if status == 200:
        flash("Antagandena är sparade.", "success")
    return redirect(url_for("evaluation.inputs"))


@bp.route("/installningar/priser", methods=["POST"])
@allow(*EDITORS)
def add_price() -> Any:
    row, _status = attempt(lambda: settings.save_price(
        current_user, item=request.form.get("item", ""), valid_from=date_arg("valid_from", "Från", values=request.form),
        valid_to=date_arg("valid_to", "Till", values=request.form), price=request.form.get("price", "")))
    if row is not None:
        flash("Priset är sparat.", "success")
    return redirect(url_for("evaluation.inputs"))


@bp.route("/installningar/risker", methods=["POST"])
@allow(*EDITORS)
def save_risk() -> Any:
    row, _status = attempt(lambda: settings.save_risk(
        current_user, int_arg("risk_id", values=request.form),
        area=request.form.get("area", ""), title=request.form.get("title", ""),
        likelihood=_form_int("likelihood"), consequence=_form_int("consequence"),
        mitigation=request.form.get("mitigation", ""), owner=request.form.get("owner", "")))
    if row is not None:
        flash("Risken är sparad.", "success")
    return redirect(url_for("evaluation.inputs"))


@bp.route("/iakttagelser", methods=["POST"])
@allow(Role.EVALUATOR, Role.CARD_ADMIN, Role.RA_OFFICER, Role.ADMIN)
def add_observation() -> Any:
    row, _status = attempt(lambda: settings.add_observation(
        current_user, category=request.form.get("category", ""), text=request.form.get("text", ""),
        desk_id=int_arg("desk_id", values=request.form)))
    if row is not None:
        flash("Iakttagelsen är sparad.", "success")
    return redirect(url_for("evaluation.observations_page"))


@bp.route("/iakttagelser")
@allow(Role.EVALUATOR, Role.CARD_ADMIN, Role.RA_OFFICER, Role.ADMIN)
def observations_page() -> Any:
    return render_template("evaluation/observations.html", observations=settings.observations(),
                           labels=OBSERVATION_LABELS, desks=list(db.session.scalars(select(Desk).order_by(Desk.name))))
