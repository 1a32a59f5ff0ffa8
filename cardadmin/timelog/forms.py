"""The time entry form. Shape only; the rules are in the service."""

from __future__ import annotations

from wtforms import DateField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from cardadmin.accounts.forms import _optional_int
from cardadmin.forms import Form


class EntryForm(Form):
    work_date = DateField("Datum", validators=[DataRequired("Ange datum (ÅÅÅÅ-MM-DD).")])
    start = StringField("Starttid (TT:MM)", validators=[Optional(), Length(max=5)])
    end = StringField("Sluttid (TT:MM)", validators=[Optional(), Length(max=5)])
    duration = StringField("…eller tidsåtgång (t:mm eller minuter)", validators=[Optional(), Length(max=7)])
    desk_id = SelectField("Pilotort / kortutlämning", coerce=_optional_int, validate_choice=False)
    activity_id = SelectField("Aktivitet", coerce=_optional_int, validate_choice=False)
    organisation_id = SelectField("Organisation (vems personal)", coerce=_optional_int, validate_choice=False)
    persons_handled = StringField("Antal personer/kort", validators=[Optional(), Length(max=6)])
    journeys_avoided = StringField("Undvikna resor (antal)", validators=[Optional(), Length(max=6)])
    km_avoided = StringField("Undvikna km (tomt = standardavstånd)", validators=[Optional(), Length(max=10)])
    note = TextAreaField("Anteckning (inga personnummer)", validators=[Optional(), Length(max=2000)])
    source = HiddenField()
    submit = SubmitField("Spara tidspost")
