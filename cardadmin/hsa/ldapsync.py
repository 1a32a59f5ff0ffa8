"""LDAP sync: read HSA units and persons from a directory (ldap3, paged search, read-only), compare them with the
register and, when asked, apply the difference through the same services as the screens (change-log and audit
rows, source "sync"). The directory is authoritative and never written to.

Units are read first (there are few; they are ordered parent before child by DN depth), then persons, streamed page
by page. The register's side of the comparison is one small digest per entry, so memory stays flat.
"Gone" means: in the register, not in the directory, and of an organisation the directory holds entries for (a
sync of the region's directory never removes a municipality's entries). A dropped connection, a timeout or an
unreadable answer ends the run with a clear message and nothing applied; the sync can simply be run again."""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cardadmin.accounts.models import Unit
from cardadmin.db import db
from cardadmin.errors import CardAdminError
from cardadmin.hsa import export, importer, service
from cardadmin.hsa.changelog import ChangeContext
from cardadmin.hsa.formats import parent_dn
from cardadmin.hsa.records import PersonRecord, Record, RecordError, UnitRecord, from_attributes
from cardadmin.identifiers import organisation_number_of
from cardadmin.people.models import Person
from cardadmin.validation import hsa_id_input

log = logging.getLogger(__name__)
ATTRIBUTES = ["objectClass", "hsaIdentity", "givenName", "sn", "title", "mail", "telephoneNumber",
              "hsaUnitIdentity", "hsaStartDate", "hsaEndDate", "ou", "l", "hsaParentIdentity"]
SHOW = 50


class DirectoryUnavailable(CardAdminError):
    status = 503
    code = "directory_unavailable"


@dataclass
class DirectoryOptions:
    url: str
    base: str
    bind_dn: str | None = None
    password: str | None = None
    timeout: float = 10.0
    page_size: int = 500


@dataclass
class SyncResult:
    apply: bool
    new: int = 0
    changed: int = 0
    gone: int = 0
    unchanged: int = 0
    problem_count: int = 0
    lines: list[str] = field(default_factory=list)  # the first SHOW of each kind, for display
    problems: list[str] = field(default_factory=list)
    _shown: dict[str, int] = field(default_factory=dict)

    def show(self, kind: str, text: str) -> None:
        if self._shown.get(kind, 0) < SHOW:
            self._shown[kind] = self._shown.get(kind, 0) + 1
            self.lines.append(text)

    def problem(self, text: str) -> None:
        self.problem_count += 1
        if len(self.problems) < importer.KEEP_PROBLEMS:
            self.problems.append(text)

    def summary(self) -> str:
        counts = f"{self.new} nya, {self.changed} ändrade, {self.gone} borta, {self.unchanged} oförändrade"
        extra = f"; {self.problem_count} poster kunde inte tas med" if self.problem_count else ""
        return (f"Synkad: {counts}{extra}." if self.apply else f"Skillnad mot katalogen (inget ändrat): {counts}"
                f"{extra}. Kör med --apply för att genomföra.")


# ---------------------------------------------------------------- reading the directory


def _translate(exc: Exception, options: DirectoryOptions) -> DirectoryUnavailable:
    from ldap3.core import exceptions as ldap_errors

    where = options.url
    if isinstance(exc, ldap_errors.LDAPSocketOpenError | ConnectionRefusedError):
        return DirectoryUnavailable(f"Katalogen {where} svarar inte (ingen anslutning). Kontrollera adressen "
                                    f"och försök igen.")
    if isinstance(exc, ldap_errors.LDAPSocketReceiveError | ldap_errors.LDAPResponseTimeoutError | TimeoutError):
        return DirectoryUnavailable(f"Katalogen {where} svarade inte inom {options.timeout:g} s. Försök igen "
                                    f"senare; inget har ändrats.")
    if isinstance(exc, ldap_errors.LDAPBindError | ldap_errors.LDAPInvalidCredentialsResult):
        return DirectoryUnavailable(f"Inloggningen mot katalogen {where} misslyckades (bind-DN eller lösenord).")
    if isinstance(exc, ldap_errors.LDAPNoSuchObjectResult):
        return DirectoryUnavailable(f"Bas-DN {options.base} finns inte i katalogen {where}.")
    return DirectoryUnavailable(f"Katalogen {where} svarade med något som inte går att tolka "
                                f"({exc.__class__.__name__}); inget har ändrats.")


def _connection(options: DirectoryOptions) -> Any:
    import ldap3

    server = ldap3.Server(options.url, connect_timeout=options.timeout, get_info=ldap3.NONE)
    return ldap3.Connection(server, user=options.bind_dn, password=options.password, read_only=True,
                            # whole seconds: ldap3 packs it into SO_RCVTIMEO as an integer
                            receive_timeout=max(1, math.ceil(options.timeout)), raise_exceptions=True, auto_bind=True,
                            auto_referrals=False)


def _entries(connection: Any, options: DirectoryOptions, object_class: str) -> Iterator[tuple[str, Any]]:
    import ldap3

    pages = connection.extend.standard.paged_search(
        options.base, f"(objectClass={object_class})", ldap3.SUBTREE, attributes=ATTRIBUTES,
        paged_size=options.page_size, generator=True)
    for entry in pages:
        if entry.get("type") != "searchResEntry":
            continue
        dn = str(entry.get("dn", ""))
        try:
            attrs = {name: [v.decode("utf-8") for v in values] for name, values in
                     entry.get("raw_attributes", {}).items()}
            yield dn, from_attributes(attrs)
        except UnicodeDecodeError:
            yield dn, f"{dn}: attributvärden är inte UTF-8."
        except RecordError as exc:
            yield dn, f"{dn}: {exc}"


def read_directory(options: DirectoryOptions) -> Iterator[tuple[str, Record | str]]:
    """(DN, record) for every unit (parents first), then every person; (DN, message) for an unusable entry."""
    from ldap3.core.exceptions import LDAPException

    # ldap3 raises its own exceptions for protocol errors, but KeyError/ValueError/IndexError for bytes it cannot
    # decode at all: at this boundary every one of them means "the server's answer is unusable".
    unusable = (LDAPException, OSError, KeyError, ValueError, IndexError, TypeError)
    try:
        connection = _connection(options)
    except unusable as exc:
        log.warning("LDAP connection to %s failed: %s", options.url, exc.__class__.__name__)
        raise _translate(exc, options) from None
    try:
        units: list[tuple[str, UnitRecord | str]] = []
        for dn, record in _entries(connection, options, "hsaUnit"):
            units.append((dn, record if isinstance(record, UnitRecord | str) else f"{dn}: inte en enhet."))
        by_dn = {dn.lower(): r.hsa_id for dn, r in units if isinstance(r, UnitRecord)}
        units.sort(key=lambda item: item[0].count(","))
        for dn, unit in units:
            if isinstance(unit, UnitRecord) and unit.parent_hsa_id is None:
                parent = by_dn.get(parent_dn(dn.lower()))
                unit = UnitRecord(unit.hsa_id, unit.name, parent, unit.town) if parent else unit
            yield dn, unit
        for dn, person in _entries(connection, options, "hsaPerson"):
            yield dn, person if isinstance(person, PersonRecord | str) else f"{dn}: inte en person."
    except unusable as exc:
        log.warning("LDAP search on %s failed: %s", options.url, exc.__class__.__name__)
        raise _translate(exc, options) from None
    finally:
        with contextlib.suppress(*unusable):
            connection.unbind()


# ---------------------------------------------------------------- comparing and applying


def register_digests() -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]], dict[str, set[str]]]:
    """HSA-ID → (id, digest of the record) for units and current persons, and for each entry the units it
    hangs under (a person's primary unit, a unit's parent)."""
    units, persons, under = {}, {}, {}
    for unit_id, r in export.unit_records(None):
        units[r.hsa_id] = (unit_id, hash(r))
        under[r.hsa_id] = {r.parent_hsa_id} if r.parent_hsa_id else set()
    for person_id, r in export.person_records(None):
        persons[r.hsa_id] = (person_id, hash(r))
        under[r.hsa_id] = set(r.unit_hsa_ids[:1])  # the primary unit: where the entry lives in the tree
    return units, persons, under


def _old_record(record: Record, entry_id: int) -> Record:
    if isinstance(record, UnitRecord):
        return export.unit_record(db.session.get(Unit, entry_id))
    return export.person_record(db.session.get(Person, entry_id))


def _describe(record: Record) -> str:
    if isinstance(record, PersonRecord):
        return f"{record.hsa_id} {record.given_name} {record.surname}"
    return f"{record.hsa_id} {record.name} (enhet)"


def _changes(old: Record, new: Record) -> str:
    before, after = old.attributes(), new.attributes()
    names = [n for n in dict.fromkeys([*before, *after]) if before.get(n) != after.get(n)]
    return ", ".join(f"{n}: {'|'.join(before.get(n, [])) or '–'} → {'|'.join(after.get(n, [])) or '–'}"
                     for n in names)


def run_sync(ctx: ChangeContext, entries: Iterator[tuple[str, Record | str]], *, apply: bool,
             on_entry: Callable[[], None] | None = None) -> SyncResult:
    """Compare (and with ``apply`` change) the register; the caller commits when apply is true."""
    result = SyncResult(apply=apply)
    units, persons, under = register_digests()
    owners: set[str] = set()
    read_units: set[str] = set()  # units the directory showed in this run (the part of the tree read)
    unreadable = 0
    unit_id = importer._UnitIds()
    def attempt(action: Callable[[], Any], what: str) -> bool:
        if not apply:
            return True
        try:
            with db.session.begin_nested():
                action()
        except CardAdminError as exc:
            result.problem(f"{what}: {exc.message}")
            return False
        return True

    for dn, record in entries:
        if on_entry:
            on_entry()
        if isinstance(record, str):
            result.problem(record)
            unreadable += 1
            continue
        if (owner := organisation_number_of(record.hsa_id)) is not None:
            owners.add(owner)
        if isinstance(record, UnitRecord):
            read_units.add(record.hsa_id)
        table = units if isinstance(record, UnitRecord) else persons
        known = table.pop(record.hsa_id, None)
        if known is None:
            if not apply:
                try:
                    hsa_id_input(record.hsa_id)
                except CardAdminError as exc:
                    result.problem(f"{dn}: {exc.message}")
                    continue
            if attempt(lambda r=record: importer.apply_record(ctx, r, unit_id), dn):
                result.new += 1
                result.show("new", f"+ {_describe(record)}")
            continue
        entry_id, digest = known
        if digest == hash(record):
            result.unchanged += 1
            continue
        shown = _changes(_old_record(record, entry_id), record) if result._shown.get("changed", 0) < SHOW else ""
        if attempt(lambda r=record, i=entry_id: _update(ctx, r, i, unit_id), dn):
            result.changed += 1
            result.show("changed", f"~ {_describe(record)}: {shown}")
    if unreadable:
        # An entry the directory returned but we could not read would look gone: remove nothing this run.
        result.problem(f"Inga poster tas bort i den här körningen: {unreadable} poster i katalogen "
                       "kunde inte läsas. Rätta dem och kör igen.")
        persons, units = {}, {}

    def is_gone(hsa_id: str) -> bool:
        """Missing from the directory within the part of the tree this run read (a sync of one sub-tree never
        removes what lies outside it); entries hanging under no unit that was read are left alone."""
        return organisation_number_of(hsa_id) in owners and bool(under.get(hsa_id, set()) & read_units)

    for hsa_id, (person_id, _digest) in persons.items():
        if is_gone(hsa_id) and attempt(
                lambda i=person_id: service.remove_person_entry(ctx, i), hsa_id):
            result.gone += 1
            result.show("gone", f"- {hsa_id}")
    for hsa_id, (unit_id_gone, _digest) in units.items():
        if is_gone(hsa_id) and attempt(
                lambda i=unit_id_gone: service.remove_unit_entry(ctx, i), hsa_id):
            result.gone += 1
            result.show("gone", f"- {hsa_id} (enhet)")
    if not apply:
        db.session.rollback()
    return result


def _update(ctx: ChangeContext, record: Record, entry_id: int, unit_id: Callable[[str], int]) -> None:
    if isinstance(record, UnitRecord):
        parent = unit_id(record.parent_hsa_id) if record.parent_hsa_id else None
        service.update_unit_entry(ctx, entry_id, service.UnitEntryInput(
            hsa_id=record.hsa_id, name=record.name, parent_id=parent, town=record.town))
    else:
        service.update_person_entry(ctx, entry_id, importer.person_input(record, unit_id))
