"""HSA entries as they come from (and go to) files and the directory: plain records keyed by LDAP attribute
names. One mapping for LDIF, CSV and LDAP, so every source is checked the same way."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

PERSON_CLASS = "hsaperson"
UNIT_CLASS = "hsaunit"
# CSV columns (the first two are required) in export order; multi-valued hsaUnitIdentity is split on '|'.
CSV_COLUMNS = ["objectClass", "hsaIdentity", "givenName", "sn", "title", "mail", "telephoneNumber",
               "hsaUnitIdentity", "hsaStartDate", "hsaEndDate", "ou", "l", "hsaParentIdentity"]
MULTI_SEPARATOR = "|"
_GENERALIZED = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{6}(\.\d+)?)?Z?$")


class RecordError(ValueError):
    """A record that cannot be an HSA entry (message in Swedish)."""


@dataclass(frozen=True)
class PersonRecord:
    hsa_id: str
    given_name: str
    surname: str
    title: str = ""
    mail: str = ""
    telephone: str = ""
    unit_hsa_ids: tuple[str, ...] = ()
    start_date: date | None = None
    end_date: date | None = None

    def attributes(self) -> dict[str, list[str]]:
        values = {"objectClass": ["hsaPerson"], "hsaIdentity": [self.hsa_id], "givenName": [self.given_name],
                  "sn": [self.surname], "title": [self.title], "mail": [self.mail],
                  "telephoneNumber": [self.telephone], "hsaUnitIdentity": list(self.unit_hsa_ids),
                  "hsaStartDate": [self.start_date.isoformat()] if self.start_date else [],
                  "hsaEndDate": [self.end_date.isoformat()] if self.end_date else []}
        return {k: [v for v in vs if v] for k, vs in values.items() if any(vs)}


@dataclass(frozen=True)
class UnitRecord:
    hsa_id: str
    name: str
    parent_hsa_id: str | None = None
    town: str = ""

    def attributes(self) -> dict[str, list[str]]:
        values = {"objectClass": ["hsaUnit"], "hsaIdentity": [self.hsa_id], "ou": [self.name],
                  "l": [self.town], "hsaParentIdentity": [self.parent_hsa_id or ""]}
        return {k: [v for v in vs if v] for k, vs in values.items() if any(vs)}


Record = PersonRecord | UnitRecord


def parse_date(value: str, name: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        match = _GENERALIZED.match(value)
        if match:
            try:
                return date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                pass
    raise RecordError(f"{name} ska vara ett datum (ÅÅÅÅ-MM-DD), inte {value[:20]!r}.")


def _one(attrs: dict[str, list[str]], name: str, *, required: bool = False) -> str:
    values = [v.strip() for v in attrs.get(name.lower(), []) if v.strip()]
    if len(values) > 1:
        raise RecordError(f"{name} får bara ha ett värde.")
    if required and not values:
        raise RecordError(f"{name} saknas.")
    return values[0] if values else ""


def from_attributes(attrs: dict[str, list[str]], *, parent_hsa_id: str | None = None) -> Record | None:
    """Map an entry's attributes (names in any case) to a record; None for entries that are neither a person nor
    a unit (the directory's containers). Raises RecordError for an entry that is one but cannot be used."""
    attrs = {k.lower(): v for k, v in attrs.items()}
    classes = {c.strip().lower() for c in attrs.get("objectclass", [])}
    if PERSON_CLASS in classes:
        units = tuple(u.strip() for v in attrs.get("hsaunitidentity", []) for u in v.split(MULTI_SEPARATOR)
                      if u.strip())
        units = units[:1] + tuple(sorted(units[1:]))  # the first is the primary unit; the rest have no order
        return PersonRecord(
            hsa_id=_one(attrs, "hsaIdentity", required=True), given_name=_one(attrs, "givenName", required=True),
            surname=_one(attrs, "sn", required=True), title=_one(attrs, "title"), mail=_one(attrs, "mail"),
            telephone=_one(attrs, "telephoneNumber"), unit_hsa_ids=units,
            start_date=parse_date(_one(attrs, "hsaStartDate"), "hsaStartDate"),
            end_date=parse_date(_one(attrs, "hsaEndDate"), "hsaEndDate"))
    if UNIT_CLASS in classes:
        return UnitRecord(hsa_id=_one(attrs, "hsaIdentity", required=True), name=_one(attrs, "ou", required=True),
                          parent_hsa_id=_one(attrs, "hsaParentIdentity") or parent_hsa_id, town=_one(attrs, "l"))
    if not classes:
        raise RecordError("objectClass saknas (hsaPerson eller hsaUnit).")
    return None
