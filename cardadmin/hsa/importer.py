"""Import of HSA persons and units from a stream of rows (CSV or LDIF, see ``formats``).

Every row goes through the same services as the screens, each inside its own savepoint, so a dry run checks
exactly what an import would do (it runs the import and rolls it back) and a bad row leaves nothing behind.
All-or-nothing (the default): any problem and the whole import is rolled back. "Valid rows only": bad rows are
skipped and listed, the rest kept. The caller commits when ``result.commit`` is true (the edge owns the
transaction); memory stays flat: rows are read one at a time and only the first problems are kept in full."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from cardadmin.accounts.models import Unit
from cardadmin.db import db
from cardadmin.errors import CardAdminError, Conflict
from cardadmin.hsa import service
from cardadmin.hsa.changelog import ChangeContext
from cardadmin.hsa.formats import Row
from cardadmin.hsa.models import HsaChange
from cardadmin.hsa.records import PersonRecord, Record, UnitRecord

KEEP_PROBLEMS = 1000
BATCH = 100  # rows tried together in one savepoint (a failing batch is redone row by row)


@dataclass
class Problem:
    line: int
    hsa_id: str
    message: str

    def __str__(self) -> str:
        return f"rad {self.line}{f' ({self.hsa_id})' if self.hsa_id else ''}: {self.message}"


@dataclass
class ImportResult:
    apply: bool
    valid_only: bool
    rows: int = 0
    persons: int = 0
    units: int = 0
    problem_count: int = 0
    warning_count: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    commit: bool = False

    @property
    def ok_rows(self) -> int:
        return self.persons + self.units

    def summary(self) -> str:
        counts = f"{self.rows} rader: {self.persons} personer och {self.units} enheter giltiga, " \
                 f"{self.problem_count} med fel"
        if not self.apply:
            return f"Provkörning, inget sparat. {counts}."
        if self.commit:
            skipped = f" {self.problem_count} rader med fel hoppades över." if self.problem_count else ""
            return f"Inläst: {self.persons} personer och {self.units} enheter.{skipped}"
        return f"Inget inläst: {counts}. Rätta raderna, eller välj att bara läsa in de giltiga raderna."


class _UnitIds:
    """HSA-ID → unit id, looked up once per unit (units are few; persons are many)."""

    def __init__(self) -> None:
        self.known: dict[str, int] = {}

    def __call__(self, hsa_id: str) -> int:
        if hsa_id not in self.known:
            unit_id = db.session.scalar(select(Unit.id).where(Unit.hsa_id == hsa_id))
            if unit_id is None:
                raise Conflict(f"Enheten {hsa_id} finns inte (varken i registret eller tidigare i filen).")
            self.known[hsa_id] = unit_id
        return self.known[hsa_id]


def apply_record(ctx: ChangeContext, record: Record, unit_id: Callable[[str], int]) -> list[str]:
    """Create one entry through the services; returns its warnings."""
    if isinstance(record, UnitRecord):
        parent = unit_id(record.parent_hsa_id) if record.parent_hsa_id else None
        _unit, warnings = service.create_unit_entry(ctx, service.UnitEntryInput(
            hsa_id=record.hsa_id, name=record.name, parent_id=parent, town=record.town))
        return warnings
    _person, warnings = service.create_person_entry(ctx, person_input(record, unit_id))
    return warnings


def person_input(record: PersonRecord, unit_id: Callable[[str], int]) -> service.PersonEntryInput:
    return service.PersonEntryInput(
        hsa_id=record.hsa_id, given_name=record.given_name, surname=record.surname, title=record.title,
        mail=record.mail, telephone=record.telephone, unit_ids=[unit_id(u) for u in record.unit_hsa_ids],
        start_date=record.start_date, end_date=record.end_date)


def _earlier_in_this_run(ctx: ChangeContext, hsa_id: str) -> bool:
    return db.session.scalar(select(HsaChange.id).where(
        HsaChange.hsa_id == hsa_id, HsaChange.at == ctx.at, HsaChange.action == "created").limit(1)) is not None


def run_import(ctx: ChangeContext, rows: Iterable[Row], *, apply: bool, valid_only: bool = False,
               on_problem: Callable[[Problem], None] | None = None) -> ImportResult:
    result = ImportResult(apply=apply, valid_only=valid_only)
    unit_id = _UnitIds()
    batch: list[Row] = []

    def problem(line: int, hsa_id: str, message: str) -> None:
        result.problem_count += 1
        found = Problem(line, hsa_id, message)
        if len(result.problems) < KEEP_PROBLEMS:
            result.problems.append(found)
        if on_problem:
            on_problem(found)

    def done(row: Row, warnings: list[str]) -> None:
        assert row.record is not None
        if isinstance(row.record, UnitRecord):
            result.units += 1
        else:
            result.persons += 1
        for warning in warnings:
            result.warning_count += 1
            if len(result.warnings) < KEEP_PROBLEMS:
                result.warnings.append(Problem(row.line, row.record.hsa_id, warning))

    def one_by_one() -> None:
        for row in batch:
            if row.record is None:
                problem(row.line, "", row.error or "Raden kan inte läsas.")
                continue
            try:
                with db.session.begin_nested():
                    warnings = apply_record(ctx, row.record, unit_id)
            except CardAdminError as exc:
                message = exc.message
                if isinstance(exc, Conflict) and exc.field == "hsa_id" and _earlier_in_this_run(
                        ctx, row.record.hsa_id):
                    message = f"HSA-id {row.record.hsa_id} förekommer flera gånger i filen."
                problem(row.line, row.record.hsa_id, message)
                continue
            done(row, warnings)

    def flush_batch() -> None:
        """Most rows are good: try a batch in one savepoint; if any row fails, roll the batch back and go
        through it row by row (each in its own savepoint) to name the bad rows and keep the good ones."""
        known, cache = dict(unit_id.known), dict(ctx.cache)
        try:
            with db.session.begin_nested():
                outcomes = [(row, apply_record(ctx, row.record, unit_id)) for row in batch if row.record is not None]
        except CardAdminError:
            unit_id.known, ctx.cache = known, cache  # forget units and lookups made in the rolled-back savepoint
            one_by_one()
        else:
            warnings = dict((id(row), found) for row, found in outcomes)
            for row in batch:
                if row.record is None:
                    problem(row.line, "", row.error or "Raden kan inte läsas.")
                else:
                    done(row, warnings[id(row)])
        batch.clear()

    for row in rows:
        result.rows += 1
        batch.append(row)
        if len(batch) >= BATCH:
            flush_batch()
    flush_batch()
    result.commit = apply and (result.problem_count == 0 or valid_only) and result.ok_rows > 0
    if not result.commit:
        db.session.rollback()
    return result
