"""Every form speaks Swedish: WTForms' own messages (required, number range, bad choice …) come from its Swedish
catalogue through the one base form, and no form is built on Flask-WTF's FlaskForm directly."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest
import wtforms
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

import cardadmin
from cardadmin.forms import Form


def _english_messages() -> list[re.Pattern[str]]:
    pot = (Path(wtforms.__file__).parent / "locale" / "wtforms.pot").read_text(encoding="utf-8")
    ids = [m for m in re.findall(r'^msgid(?:_plural)? "(.+)"$', pot, re.M) if m]
    return [re.compile(re.sub(r"%\\\(\w+\\\)[sd]", ".*", re.escape(m))) for m in ids]


ENGLISH = _english_messages()


def _all_forms() -> list[type[FlaskForm]]:
    for module in pkgutil.walk_packages(cardadmin.__path__, "cardadmin."):
        if module.name.endswith((".forms", "_forms")):
            importlib.import_module(module.name)
    found: list[type[FlaskForm]] = []
    todo: list[type[FlaskForm]] = [FlaskForm]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("cardadmin.") and sub is not Form:
                found.append(sub)
    return sorted(set(found), key=lambda c: (c.__module__, c.__name__))


FORMS = _all_forms()


def test_every_form_derives_from_the_swedish_base() -> None:
    assert len(FORMS) > 15
    assert [f for f in FORMS if not issubclass(f, Form)] == []


def _errors(form: FlaskForm) -> list[str]:
    out: list[str] = []
    for messages in form.errors.values():
        out.extend(m for m in messages if isinstance(m, str))
    return out


@pytest.mark.parametrize("form_class", FORMS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("value", ["", "x", "60"])
def test_no_english_message_on_any_form(app: Any, form_class: type[FlaskForm], value: str) -> None:
    with app.test_request_context(method="POST"):
        empty = form_class(meta={"csrf": False}, formdata=MultiDict())
        names = [f.name for f in empty]
        form = form_class(meta={"csrf": False}, formdata=MultiDict({n: value for n in names} if value else {}))
        for field in form:  # select fields built by the views get their choices there
            if getattr(field, "choices", ...) is None:
                field.choices = []
        form.validate()
        english = [e for e in _errors(form) if any(p.fullmatch(e) for p in ENGLISH)]
        assert english == []


def test_empty_admin_forms_and_a_bad_week_say_it_in_swedish(app: Any, client: Any, world: Any) -> None:
    client.login("admin")
    pages = ["/admin/anvandare/ny", "/admin/organisationer/ny", f"/admin/organisationer/{world.region_id}/enheter/ny",
             "/admin/kortutlamningar/ny", f"/admin/kortutlamningar/{world.desk_id}/pilot/ny"]
    for page in pages:
        response = client.post_form(page, {})
        text = response.get_data(as_text=True)
        assert response.status_code == 400, page
        assert "This field is required" not in text and "Det här fältet är obligatoriskt." in text, page
    week60 = client.post_form(pages[-1], {"name": "Pilot", "year": "2026", "week_from": "60", "week_to": "61"})
    assert week60.status_code == 400 and "Number must" not in week60.get_data(as_text=True)
