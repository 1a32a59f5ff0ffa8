"""Import and export of HSA entries (CSV, LDIF): encodings, dry run, all-or-nothing, valid rows only, every bad
input named by its row, nothing half-imported; the CLI with its exit codes and the web upload."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from cardadmin.accounts.models import Unit
from cardadmin.audit.models import AuditEvent
from cardadmin.db import db
from cardadmin.hsa import formats, importer
from cardadmin.hsa.changelog import ChangeContext
from cardadmin.hsa.models import HsaChange
from cardadmin.hsa.rules import SystemActor
from cardadmin.people.models import Person
from tests.conftest import World

HEADER = "objectClass,hsaIdentity,givenName,sn,title,hsaUnitIdentity,ou,hsaParentIdentity\n"
GOOD_CSV = HEADER + (
    "hsaUnit,SE2321000222-LL01,,,,,Lycksele lasarett,\n"
    "hsaUnit,SE2321000222-AVD1,,,,,Avdelning Älvdalen,SE2321000222-LL01\n"
    "hsaPerson,SE2321000222-P1,Åsa,Öberg,Sjuksköterska,SE2321000222-AVD1|SE2321000222-LL01,,\n"
    "hsaPerson,SE2321000222-P2,Örjan,Ärlig,,,,\n"
)
BAD_ROWS = (
    "hsaPerson,SE2321000223-P3,Kalle,Kula,,,,\n"          # line 6: Luhn
    "hsaPerson,SE2321000222-P1,Åsa,Dubblett,,,,\n"        # line 7: duplicate in the file
    "hsaPerson,SE2321000222-P4,Ulla,,,,,\n"               # line 8: sn missing
    "hsaPerson,SE2321000222-P5,Per,Pil,,SE2321000222-NOPE,,\n"  # line 9: unknown unit
    "hsaPerson,SE2321000222-P6,För,Få\n"                  # line 10: too few fields
    "hsaGroup,SE2321000222-G1,,,,,,\n"                     # line 11: neither person nor unit
)


def run(text: str | bytes, fmt: str = "csv", *, apply: bool = True, valid_only: bool = False,
        encoding: str | None = None) -> tuple[importer.ImportResult, str]:
    data = text.encode("utf-8") if isinstance(text, str) else text
    lines, rows = formats.open_rows(io.BytesIO(data), fmt, encoding)
    result = importer.run_import(ChangeContext(SystemActor("system:test"), "import"), rows, apply=apply,
                                 valid_only=valid_only)
    if result.commit:
        db.session.commit()
    return result, lines.encoding


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def w(app_ctx: Any, world: World) -> World:
    return world


def test_good_csv_imports_with_memberships_parents_and_change_log(w: World) -> None:
    result, encoding = run(GOOD_CSV)
    assert (result.commit, result.units, result.persons, result.problem_count) == (True, 2, 2, 0)
    assert encoding == "utf-8"
    asa = db.session.scalar(select(Person).where(Person.hsa_id == "SE2321000222-P1"))
    avd = db.session.scalar(select(Unit).where(Unit.hsa_id == "SE2321000222-AVD1"))
    assert (asa.given_name, asa.surname, asa.unit_id) == ("Åsa", "Öberg", avd.id)
    assert avd.parent.hsa_id == "SE2321000222-LL01" and avd.name == "Avdelning Älvdalen"
    assert count(HsaChange) == 4
    assert {r.source for r in db.session.scalars(select(HsaChange))} == {"import"}


def test_latin1_is_detected_and_a_choice_is_respected(w: World) -> None:
    result, encoding = run(GOOD_CSV.encode("latin-1"), apply=False)
    assert encoding == "latin-1" and result.problem_count == 0
    # Chosen UTF-8 for a Latin-1 file: the row is named, nothing imported.
    with pytest.raises(formats.FileProblem, match=r"Rad 3 är inte giltig UTF-8"):
        run(GOOD_CSV.encode("latin-1"), encoding="utf-8")
    db.session.rollback()
    assert count(Person) == 0 and count(Unit) == 0
    result, _ = run(GOOD_CSV.encode("latin-1"), encoding="latin-1")
    assert db.session.scalar(select(Person.surname).where(Person.hsa_id == "SE2321000222-P1")) == "Öberg"


def test_dry_run_lists_every_problem_and_saves_nothing(w: World) -> None:
    audit_before = count(AuditEvent)
    result, _ = run(GOOD_CSV + BAD_ROWS, apply=False)
    problems = {p.line: p.message for p in result.problems}
    assert set(problems) == {6, 7, 8, 9, 10, 11}, problems
    assert "kontrollsiffra" in problems[6]
    assert "flera gånger i filen" in problems[7]
    assert "sn saknas" in problems[8]
    assert "SE2321000222-NOPE finns inte" in problems[9]
    assert "fält" in problems[10]
    assert "hsaPerson eller hsaUnit" in problems[11]
    assert "Provkörning" in result.summary()
    assert count(Person) == count(Unit) == count(HsaChange) == 0 and count(AuditEvent) == audit_before


def test_all_or_nothing_by_default_and_valid_rows_only_on_request(w: World) -> None:
    result, _ = run(GOOD_CSV + BAD_ROWS)
    assert not result.commit and "Inget inläst" in result.summary()
    assert count(Person) == count(Unit) == count(HsaChange) == 0
    result, _ = run(GOOD_CSV + BAD_ROWS, valid_only=True)
    assert result.commit and (result.persons, result.units, result.problem_count) == (2, 2, 6)
    assert count(Person) == 2 and count(Unit) == 2


def test_duplicates_against_the_database(w: World) -> None:
    run(GOOD_CSV)
    result, _ = run(GOOD_CSV, apply=False)
    assert [p.line for p in result.problems] == [2, 3, 4, 5]
    assert all("används redan" in p.message for p in result.problems)


@pytest.mark.parametrize(("data", "message"), [
    (b"", "tom"),
    (b"hsaIdentity;sn;shoeSize\n", "okända kolumner shoeSize"),
    (b"objectClass,sn\n", "kolumnen hsaIdentity saknas"),
    (b"objectClass,hsaIdentity\n" + b"x" * (formats.MAX_LINE_BYTES + 10), "Rad 2 är längre"),
])
def test_unusable_files_are_refused_as_a_whole(w: World, data: bytes, message: str) -> None:
    with pytest.raises(formats.FileProblem, match=message):
        run(data)


LDIF = """version: 1

# the base and a container are not HSA entries
dn: dc=hsa,dc=test
objectClass: dcObject
dc: hsa

dn: ou=Lycksele lasarett,dc=hsa,dc=test
objectClass: organizationalUnit
objectClass: hsaUnit
ou: Lycksele lasarett
hsaIdentity: SE2321000222-LL01

dn: ou=Avdelning 1,ou=Lycksele lasarett,dc=hsa,dc=test
objectClass: organizationalUnit
objectClass: hsaUnit
ou: Avdelning 1
hsaIdentity: SE2321000222-AVD1

dn: cn=Asa Oberg,ou=Avdelning 1,ou=Lycksele lasarett,dc=hsa,dc=test
objectClass: inetOrgPerson
objectClass: hsaPerson
cn: Asa Oberg
givenName:: w4VzYQ==
sn: Öberg
title: Sjuksköterska med
  lång titel
hsaIdentity: SE2321000222-P1
hsaUnitIdentity: SE2321000222-AVD1
hsaStartDate: 20260901000000Z

dn: cn=Bad,dc=hsa,dc=test
objectClass: hsaPerson
hsaIdentity: SE2321000222-P2
givenName:: ***notbase64
sn: X

dn: cn=Change,dc=hsa,dc=test
changetype: delete
"""


def test_ldif_with_base64_folding_and_dn_parents(w: World) -> None:
    result, _ = run(LDIF, "ldif", valid_only=True)
    assert (result.units, result.persons) == (2, 1)
    assert {p.line: p.message for p in result.problems}.keys() == {32, 38}
    assert "base64" in result.problems[0].message and "changetype" in result.problems[1].message
    asa = db.session.scalar(select(Person).where(Person.hsa_id == "SE2321000222-P1"))
    assert (asa.given_name, asa.surname, asa.title) == ("Åsa", "Öberg", "Sjuksköterska med lång titel")
    assert asa.start_date.isoformat() == "2026-09-01"
    assert db.session.scalar(select(Unit).where(Unit.hsa_id == "SE2321000222-AVD1")).parent.hsa_id == \
        "SE2321000222-LL01"


def test_export_round_trips_through_import(app: Any, make_app: Any, w: World, tmp_path: Path) -> None:
    run(GOOD_CSV)
    runner = app.test_cli_runner()
    for fmt in ("csv", "ldif"):
        out = tmp_path / f"hsa.{fmt}"
        result = runner.invoke(args=["hsa", "export", str(out)])
        assert result.exit_code == 0, result.output
        text = out.read_text(encoding="utf-8")
        assert ("Öberg" in text) if fmt == "csv" else ("SE2321000222-P1" in text)
        rows = list(formats.open_rows(io.BytesIO(out.read_bytes()), fmt, None)[1])
        assert [r.record.hsa_id for r in rows] == ["SE2321000222-LL01", "SE2321000222-AVD1", "SE2321000222-P1",
                                                  "SE2321000222-P2"]
        assert rows[2].record.unit_hsa_ids == ("SE2321000222-AVD1", "SE2321000222-LL01")  # primary first


def test_cli_dry_run_apply_and_exit_codes(app: Any, w: World, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    bad = tmp_path / "bad.csv"
    bad.write_bytes((GOOD_CSV + BAD_ROWS).encode("latin-1"))
    result = runner.invoke(args=["hsa", "import", str(bad)])
    assert result.exit_code == 1 and "rad 6 (SE2321000223-P3)" in result.output and "Latin-1 (avkänd)" in result.output
    result = runner.invoke(args=["hsa", "import", str(bad), "--apply"])
    assert result.exit_code == 1 and "Inget inläst" in result.output
    assert count(Person) == 0
    result = runner.invoke(args=["hsa", "import", str(bad), "--apply", "--valid-only"])
    assert result.exit_code == 0 and "Inläst: 2 personer och 2 enheter" in result.output
    db.session.expire_all()
    assert count(Person) == 2
    empty = tmp_path / "empty.ldif"
    empty.write_bytes(b"")
    result = runner.invoke(args=["hsa", "import", str(empty)])
    assert result.exit_code == 2 and "Fel: Filen är tom" in result.output and "Traceback" not in result.output
    result = runner.invoke(args=["hsa", "import", str(bad), "--format", "ldif"])
    assert result.exit_code == 1  # a CSV read as LDIF: every entry is named as unusable, nothing saved


def test_web_upload_dry_run_then_apply(app: Any, client: Any, world: World) -> None:
    client.login("admin")

    def upload(mode: str, data: bytes, **extra: Any) -> Any:
        return client.post_form("/hsa/import", {"file": (io.BytesIO(data), "hsa.csv"), "mode": mode, **extra},
                                content_type="multipart/form-data")

    response = upload("dry", (GOOD_CSV + BAD_ROWS).encode("utf-8"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Provkörning" in page and "flera gånger i filen" in page
    response = upload("apply", GOOD_CSV.encode("utf-8"))
    assert response.status_code == 200 and "Inläst: 2 personer och 2 enheter" in response.get_data(as_text=True)
    response = upload("dry", b"")
    assert response.status_code == 400 and "tom" in response.get_data(as_text=True)
    with app.app_context():
        assert count(Person) == 2
    big = app.config["MAX_CONTENT_LENGTH"] + 1
    response = upload("dry", b"x" * big)
    assert response.status_code == 413


def test_cli_import_in_a_users_name_at_their_desk(app: Any, w: World, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text(GOOD_CSV.replace("hsaUnit,SE2321000222-LL01,,,,,Lycksele lasarett,\n", "").replace(
        "hsaUnit,SE2321000222-AVD1,,,,,Avdelning Älvdalen,SE2321000222-LL01\n", "").replace(
        "SE2321000222-AVD1|SE2321000222-LL01", ""), encoding="utf-8")
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["hsa", "import", str(good), "--apply", "--user", "card_admin",
                                  "--desk", str(w.other_desk_id)])
    assert refused.exit_code == 2 and "kortutlämningen" in refused.output
    result = runner.invoke(args=["hsa", "import", str(good), "--apply", "--user", "card_admin",
                                 "--desk", str(w.desk_id)])
    assert result.exit_code == 0, result.output
    rows = db.session.scalars(select(HsaChange)).all()
    assert {(r.actor_name, r.desk_id, r.source) for r in rows} == {("card_admin", w.desk_id, "import")}
    unknown = runner.invoke(args=["hsa", "import", str(good), "--user", "nobody"])
    assert unknown.exit_code == 2 and "nobody finns inte" in unknown.output


@pytest.mark.parametrize("batch", [1, 2, 3])
def test_batch_boundaries_change_nothing(w: World, monkeypatch: Any, batch: int) -> None:
    """Rows are tried in batches and a failing batch is redone row by row: any batch size gives the same result,
    also when a bad row shares a batch with a unit the next rows need."""
    monkeypatch.setattr(importer, "BATCH", batch)
    mixed = HEADER + (
        "hsaUnit,SE2321000222-LL01,,,,,Lycksele lasarett,\n"
        "hsaPerson,SE2321000223-P3,Kalle,Kula,,,,\n"
        "hsaPerson,SE2321000222-P1,Åsa,Öberg,,SE2321000222-LL01,,\n"
        "hsaPerson,SE2321000222-P1,Åsa,Dubblett,,,,\n"
        "hsaPerson,SE2321000222-P2,Örjan,Ärlig,,SE2321000222-LL01,,\n"
    )
    result, _ = run(mixed, valid_only=True)
    assert [p.line for p in result.problems] == [3, 5]
    assert "flera gånger i filen" in result.problems[1].message
    assert (result.units, result.persons) == (1, 2)
    assert db.session.scalar(select(Person.unit_id).where(Person.hsa_id == "SE2321000222-P2")) == \
        db.session.scalar(select(Unit.id).where(Unit.hsa_id == "SE2321000222-LL01"))
    assert count(HsaChange) == 3


def test_a_1_gb_file_of_garbage_is_refused_quickly_without_reading_it_all(app: Any, w: World, tmp_path: Path) -> None:
    """A sparse 1 GiB file (NUL bytes, no line ends): named as unusable from its first line, in bounded time."""
    import time

    huge = tmp_path / "huge.csv"
    with huge.open("wb") as handle:
        handle.truncate(1 << 30)
    started = time.monotonic()
    result = app.test_cli_runner().invoke(args=["hsa", "import", str(huge), "--apply"])
    assert result.exit_code == 2 and "Fel:" in result.output and "Traceback" not in result.output, result.output
    assert time.monotonic() - started < 20
    assert count(Person) == 0



def test_a_card_administrators_import_names_their_desk(app: Any, w: World, tmp_path: Path) -> None:
    """In a card administrator's name the import needs their desk, as the form does (the change log bills it)."""
    good = tmp_path / "good.csv"
    good.write_text(GOOD_CSV, encoding="utf-8")
    refused = app.test_cli_runner().invoke(args=["hsa", "import", str(good), "--apply", "--user", "card_admin"])
    assert refused.exit_code == 2 and "kortutlämning" in refused.output and "Traceback" not in refused.output
    assert count(Person) == 0 and count(HsaChange) == 0


def test_a_card_administrators_upload_names_their_desk(app: Any, client: Any, world: World) -> None:
    client.login("card_admin")
    response = client.post_form("/hsa/import", {"file": (io.BytesIO(GOOD_CSV.encode()), "hsa.csv"), "mode": "apply"},
                                content_type="multipart/form-data")
    assert response.status_code == 400 and "kortutlämning" in response.get_data(as_text=True)
    with app.app_context():
        assert count(Person) == 0 and count(HsaChange) == 0


@pytest.mark.parametrize("ending", ["\r", "\r\n", "\n"])
def test_every_line_ending_reads_the_same(w: World, ending: str) -> None:
    """Old Mac Excel ends lines with a bare CR: it was one long line and a csv.Error (500 on the web, a traceback
    in the CLI). CR, CRLF and LF give the same rows and the same line numbers."""
    result, _ = run((GOOD_CSV + BAD_ROWS).replace("\n", ending), apply=False)
    assert [p.line for p in result.problems] == [6, 7, 8, 9, 10, 11]


def test_a_cr_split_across_reads_is_one_line_end(w: World) -> None:
    """A CRLF whose CR ends one read of the file and whose LF begins the next is one line end, not two."""
    filler = "hsaPerson,SE2321000222-P1,Åsa,Öberg,,,,\r\n"
    head = HEADER.replace("\n", "\r\n")
    pad = formats.MAX_LINE_BYTES - len(head.encode()) - 1  # the first read ends right after the next CR
    text = head + "hsaPerson,SE2321000222-P9,Pia," + "x" * (pad - 31 - 5) + ",,,,\r\n" + filler
    lines = [n for n, _ in formats.LineReader(io.BytesIO(text.encode()), "utf-8")]
    assert lines == [1, 2, 3]


MAC_CSV = (GOOD_CSV + BAD_ROWS).replace("\n", "\r").encode("utf-8")


def test_bare_cr_file_over_the_cli(app: Any, w: World, tmp_path: Path) -> None:
    path = tmp_path / "mac.csv"
    path.write_bytes(MAC_CSV)
    result = app.test_cli_runner().invoke(args=["hsa", "import", str(path)])
    assert result.exit_code == 1 and "rad 6 (SE2321000223-P3)" in result.output and "Traceback" not in result.output


def test_bare_cr_file_over_the_web(app: Any, client: Any, world: World) -> None:
    data = MAC_CSV
    client.login("admin")
    response = client.post_form("/hsa/import", {"file": (io.BytesIO(data), "hsa.csv"), "mode": "dry"},
                                content_type="multipart/form-data")
    assert response.status_code == 422 and "Provkörning" in response.get_data(as_text=True)
    response = client.post_form(
        "/hsa/import", {"file": (io.BytesIO(b"objectClass,\"hsaIdentity\rsn\n"), "hsa.csv"), "mode": "dry"},
        content_type="multipart/form-data")
    assert response.status_code == 400
