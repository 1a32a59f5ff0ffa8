"""The one matching rule for person searches (people, HSA entries, orders): which persons a text finds, and in
what order a search that walks them shows them.

A text is an HSA-ID (exactly, or a prefix) or one to five name words; every word must begin the given name or
the surname, in any case ("öberg" finds "Öberg": the case-folded key columns). A person with a protected identity
is found by the exact HSA-ID only, never by name or prefix.

One word, the driving word, picks the candidates from a key index and the others filter them. Its matches are
walked in two parts, surname matches then given-name matches, each in the order of its index (key, other key,
id), so a search that wants fifty results reads about fifty index entries however common the name. With several
words the other words narrow the walk further: a person found by the driving word's surname must have a given
name beginning with each of the other words (unless a word is a prefix of the driving word or the other way
round), which is a range of the index's second column for each distinct surname, so the walk seeks those ranges
one distinct surname after another instead of reading every namesake.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, false, func, literal, not_, or_, select, true, union

from cardadmin.db import db, starts_with
from cardadmin.identifiers import could_begin_hsa_id
from cardadmin.people.models import Person, name_key

DISTINCT_CAP = 100  # distinct names listed for one word and column before its walk falls back to the plain range


def name_keys(text: str) -> list[str]:
    """The words of a search text as name keys (case-folded), at most five."""
    return [name_key(word) for word in text.split()[:5]]


@functools.cache
def _distinct_statement(column_name: str) -> Select[Any]:
    """A loose index scan over a name key column: each step is the smallest value after the last one, one index
    seek each, while the values stay below ``:end``. Built once (its construction costs more than its run). The key
    columns sort by code point on every database (db.code_point_string), so a prefix is the range [key, end)."""
    column = getattr(Person, column_name)
    start, end = bindparam("start"), bindparam("end")
    first = select(func.min(column)).where(column >= start, column < end).scalar_subquery()
    seen = select(first.label("v"), literal(1).label("n")).cte("name_values", recursive=True)
    # The step's only lower bound is the last value: with a second one SQLite would seek from the prefix each time.
    after = select(func.min(column)).where(column > seen.c.v).scalar_subquery()
    seen = seen.union_all(select(after, seen.c.n + 1).where(seen.c.v < end, seen.c.n <= DISTINCT_CAP))
    return select(seen.c.v).where(seen.c.v < end)


def _distinct(column: Any, key: str) -> list[str] | None:
    """The distinct values of a key column that begin with ``key``, in order; None when there are more than
    DISTINCT_CAP."""
    values = list(db.session.scalars(_distinct_statement(column.key), {"start": key, "end": key + "\U0010ffff"}))
    return values if len(values) <= DISTINCT_CAP else None


@dataclass
class _Spread:
    """Distinct given names and surnames beginning with one word (None: more than DISTINCT_CAP), listed once."""

    given_name: list[str] | None
    surname: list[str] | None

    @property
    def cost(self) -> int:
        return sum(DISTINCT_CAP + 1 if v is None else len(v) for v in (self.given_name, self.surname))


def _spreads() -> Callable[[str], _Spread]:
    cache: dict[str, _Spread] = {}

    def spread(key: str) -> _Spread:
        if key not in cache:
            cache[key] = _Spread(_distinct(Person.given_name_key, key), _distinct(Person.surname_key, key))
        return cache[key]

    return spread


PART_ORDER = ("hsa_id", "surname", "given_name")


@dataclass(frozen=True)
class MatchPart:
    """One way a search text matches persons, as a walk in result order: ``lead`` begins with ``prefix`` (the range
    of the index the walk follows) and ``where`` holds (the rest of the rule), ``excluding`` leaves out those an
    earlier part gave (so a walk over the parts shows each person once), ``keys`` orders them (``lead`` first; the
    last key is unique, so the order is total)."""

    name: str  # what the part matched on: one of PART_ORDER
    lead: Any
    prefix: str
    where: ColumnElement[bool]
    excluding: ColumnElement[bool]
    keys: tuple[Any, ...]

    @property
    def matches(self) -> ColumnElement[bool]:
        return and_(starts_with(self.lead, self.prefix), self.where)


@dataclass(frozen=True)
class Match:
    driver: str  # the driving word's key ('' for a text without words)
    parts: list[MatchPart]  # in PART_ORDER; a part that cannot match is left out


def _word_matches(key: str) -> ColumnElement[bool]:
    return or_(starts_with(Person.given_name_key, key), starts_with(Person.surname_key, key))


def _name_part(column: Any, other: Any, driver: str, others: list[str],
               values: Callable[[], list[str] | None]) -> ColumnElement[bool]:
    """The rest of the rule for persons whose ``column`` begins with ``driver``: no protected identity, every one of
    ``others`` begins a name; with what the walk can seek on: the other words that cannot begin ``column`` too
    must all begin ``other``, so the longest of them is a range of the index's second column for each distinct
    value of ``column``."""
    rule = [Person.protected_identity.is_(False), *[_word_matches(k) for k in others]]
    unrelated = [k for k in others if not (k.startswith(driver) or driver.startswith(k))]
    if not unrelated:
        return and_(*rule)
    longest = max(unrelated, key=len)
    if not all(longest.startswith(k) for k in unrelated):
        return false()  # two words that no one name can both begin
    listed = values()
    if listed == []:
        return false()
    seek = [column.in_(listed)] if listed is not None else []
    return and_(*rule, *seek, starts_with(other, longest))


def match(text: str, driver: str | None = None) -> Match:
    """The persons ``text`` finds, as parts in the order results are shown:

    1. the HSA-ID, exactly or as a prefix, by HSA-ID (only for a text that can begin one);
    2. persons whose surname begins with the driving word, by surname, given name;
    3. persons whose given name begins with it (and surname does not), by given name, surname.

    ``driver`` (a cursor's) must be one of the text's words; by default it is the word with the fewest distinct
    names beginning with it, counted a few index seeks at a time (a tie keeps the earlier word)."""
    keys = name_keys(text)
    parts: list[MatchPart] = []
    hsa: ColumnElement[bool] = false()
    if could_begin_hsa_id(text):
        hsa = starts_with(Person.hsa_id, text)
        exact_or_unprotected = or_(Person.hsa_id == text, Person.protected_identity.is_(False))
        parts.append(MatchPart("hsa_id", Person.hsa_id, text, exact_or_unprotected, true(), (Person.hsa_id,)))
    if not keys:
        return Match("", parts)
    spread = _spreads()
    if driver is None:
        driver = keys[0] if len(keys) == 1 else min(keys, key=lambda k: spread(k).cost)
    elif driver not in keys:
        raise ValueError("the driving word must be one of the text's words")
    others = list(keys)
    others.remove(driver)
    by_surname = starts_with(Person.surname_key, driver)
    surname = _name_part(Person.surname_key, Person.given_name_key, driver, others, lambda: spread(driver).surname)
    given = _name_part(Person.given_name_key, Person.surname_key, driver, others, lambda: spread(driver).given_name)
    parts.append(MatchPart("surname", Person.surname_key, driver, surname, not_(hsa),
                           (Person.surname_key, Person.given_name_key, Person.id)))
    parts.append(MatchPart("given_name", Person.given_name_key, driver, given, and_(not_(hsa), not_(by_surname)),
                           (Person.given_name_key, Person.surname_key, Person.id)))
    return Match(driver, [part for part in parts if part.where is not false()])  # none that cannot match


def matching_person_ids(text: str) -> Select[Any]:
    """Every person ``match`` finds, as a set of ids (for filters that need no order)."""
    parts = match(text).parts
    if not parts:
        return select(Person.id).where(false())
    matched = union(*[select(Person.id).where(part.matches) for part in parts]).subquery()
    return select(matched.c.id)


def name_or_hsa_id_clause(text: str) -> Any:
    return Person.id.in_(matching_person_ids(text))
