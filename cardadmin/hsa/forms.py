"""Forms of the HSA screens. They check shape only; the rules are in the services."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Length, Optional

from cardadmin.accounts.forms import _optional_int
from cardadmin.forms import Form


class PersonEntryForm(Form):
    hsa_id = StringField("HSA-id (hsaIdentity)", validators=[DataRequired("Fyll i HSA-id."), Length(max=31)])
    given_name = StringField("Förnamn (givenName)", validators=[DataRequired("Fyll i förnamn."), Length(max=100)])
    surname = StringField("Efternamn (sn)", validators=[DataRequired("Fyll i efternamn."), Length(max=100)])
    title = StringField("Titel (title)", validators=[Optional(), Length(max=100)])
    mail = StringField("E-post (mail)", validators=[Optional(), Length(max=254)])
    telephone = StringField("Telefon (telephoneNumber)", validators=[Optional(), Length(max=40)])
    organisation_id = SelectField("Organisation", coerce=_optional_int, validate_choice=False)
    unit_ids = SelectMultipleField("Enheter (den första är huvudenhet)", coerce=int, validate_choice=False)
    start_date = DateField("Startdatum", validators=[Optional()])
    end_date = DateField("Slutdatum", validators=[Optional()])
    desk_id = SelectField("Arbetar vid kortutlämning", coerce=_optional_int, validate_choice=False)
    submit = SubmitField("Spara HSA-posten")


class ConfirmForm(Form):
    """Removing an entry takes two posts: the first shows what will happen, the second (confirm=1) does it."""
    desk_id = SelectField("Arbetar vid kortutlämning", coerce=_optional_int, validate_choice=False)
    confirm = HiddenField()
    submit = SubmitField("Ta bort HSA-posten")


class ImportForm(Form):
    file = FileField("Fil (CSV eller LDIF)", validators=[FileRequired("Välj en fil.")])
    file_format = SelectField("Format", choices=[("", "Avgör av filnamnet"), ("csv", "CSV"), ("ldif", "LDIF")],
                              default="", validate_choice=False)
    encoding = SelectField("Teckenkodning", choices=[("", "Känn av (UTF-8 eller Latin-1)"), ("utf-8", "UTF-8"),
                                                     ("latin-1", "Latin-1 (ISO 8859-1)")],
                           default="", validate_choice=False)
    mode = RadioField("Vad ska göras", choices=[("dry", "Provkör: visa varje rads problem, spara inget"),
                                                ("apply", "Läs in")], default="dry")
    valid_only = BooleanField("Läs in de giltiga raderna även om andra rader har fel")
    desk_id = SelectField("Arbetar vid kortutlämning", coerce=_optional_int, validate_choice=False)
    submit = SubmitField("Fortsätt")
