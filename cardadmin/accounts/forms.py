from __future__ import annotations

from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from cardadmin.forms import Form
from cardadmin.roles import ROLE_LABELS


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _optional_int(value: object) -> int | None:
    return int(value) if value not in (None, "", "None") else None  # type: ignore[call-overload]


class LoginForm(Form):
    username = StringField("Användarnamn", validators=[DataRequired("Fyll i användarnamn."), Length(max=64)])
    password = PasswordField("Lösenord", validators=[DataRequired("Fyll i lösenord."), Length(max=256)])
    submit = SubmitField("Logga in")


class PasswordChangeForm(Form):
    current_password = PasswordField("Nuvarande lösenord", validators=[DataRequired(), Length(max=256)])
    new_password = PasswordField("Nytt lösenord (minst 10 tecken)", validators=[DataRequired(), Length(max=256)])
    submit = SubmitField("Byt lösenord")


class TokenForm(Form):
    name = StringField("Namn på nyckeln (t.ex. kortläsaragent Lycksele)", validators=[DataRequired(), Length(max=100)])
    scope = SelectField("Får användas till", choices=[("desk_agent", "Bara kortläsaragenten (verifiering)"),
                                                      ("all", "Allt jag får göra")], default="desk_agent")
    days = IntegerField("Giltig i dagar (1–365)", default=90, validators=[InputRequired()])
    password = PasswordField("Ditt lösenord", validators=[DataRequired()])
    submit = SubmitField("Skapa API-nyckel")


class UserForm(Form):
    username = StringField("Användarnamn", validators=[DataRequired(), Length(max=64)])
    full_name = StringField("Namn", validators=[DataRequired(), Length(max=200)])
    email = StringField("E-post", validators=[Optional(), Length(max=254)])
    hsa_id = StringField("HSA-id", validators=[Optional(), Length(max=31)])
    organisation_id = SelectField("Arbetsgivare / RA-organisation", coerce=_optional_int, validate_choice=False)
    roles = MultiCheckboxField("Roller", choices=[(str(r), label) for r, label in ROLE_LABELS.items()])
    desk_ids = MultiCheckboxField("Kortutlämningar (för korthandläggare)", coerce=int, validate_choice=False)
    active = BooleanField("Aktiv", default=True)
    password = PasswordField("Lösenord (minst 10 tecken)", validators=[Length(max=256)])
    submit = SubmitField("Spara")


class OrganisationForm(Form):
    name = StringField("Namn", validators=[DataRequired(), Length(max=200)])
    org_number = StringField("Organisationsnummer", validators=[DataRequired(), Length(max=11)])
    kind = SelectField("Typ", choices=[("region", "Region"), ("municipality", "Kommun"), ("other", "Annan")])
    submit = SubmitField("Spara")


class UnitForm(Form):
    name = StringField("Namn", validators=[DataRequired(), Length(max=200)])
    hsa_id = StringField("HSA-id", validators=[DataRequired(), Length(max=31)])
    town = StringField("Ort", validators=[Optional(), Length(max=100)])
    parent_id = SelectField("Överordnad enhet", coerce=_optional_int, validate_choice=False)
    submit = SubmitField("Spara")


class DeskForm(Form):
    name = StringField("Namn", validators=[DataRequired(), Length(max=200)])
    town = StringField("Ort", validators=[DataRequired(), Length(max=100)])
    organisation_id = SelectField("Organisation", coerce=_optional_int, validate_choice=False)
    is_regional = BooleanField("Regional kortutlämning")
    opening_hours = StringField("Öppettider", validators=[Optional(), Length(max=300)])
    active = BooleanField("Aktiv", default=True)
    submit = SubmitField("Spara")


class PilotPeriodForm(Form):
    name = StringField("Namn", validators=[DataRequired(), Length(max=100)])
    # Only the shape here: which weeks a year has (52 or 53) is the service's rule.
    year = IntegerField("År", validators=[InputRequired()])
    week_from = IntegerField("Från vecka (ISO)", validators=[InputRequired()])
    week_to = IntegerField("Till vecka (ISO)", validators=[InputRequired()])
    submit = SubmitField("Spara")
