"""Forms of the order, desk and card screens. They check shape only; the rules are in the services."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from cardadmin.accounts.forms import _optional_int
from cardadmin.orders.models import DOCUMENT_LABELS, ORDER_TYPE_LABELS, REVOCATION_LABELS

ORDER_TYPE_CHOICES = [(str(k), v) for k, v in ORDER_TYPE_LABELS.items()]
DOCUMENT_CHOICES = [("", "— välj id-handling —")] + [(str(k), v) for k, v in DOCUMENT_LABELS.items()]
# "replaced" is set by the service at a replacement hand-over, "not collected" by the sweep.
MANUAL_REVOCATION_CHOICES = [(str(k), v) for k, v in REVOCATION_LABELS.items() if k not in ("replaced",)]


class OrderForm(FlaskForm):
    person_id = HiddenField(validators=[DataRequired("Välj kortmottagare.")])
    nonce = HiddenField()
    order_type = SelectField("Typ av beställning", choices=ORDER_TYPE_CHOICES)
    desk_id = SelectField("Kortutlämning där kortet hämtas", coerce=_optional_int, validate_choice=False,
                          validators=[DataRequired("Välj kortutlämning.")])
    comment = TextAreaField("Kommentar (valfri)", validators=[Optional(), Length(max=1000)])
    submit = SubmitField("Skicka beställning")


class PersonForm(FlaskForm):
    hsa_id = StringField("HSA-id", validators=[DataRequired("Fyll i HSA-id."), Length(max=31)])
    given_name = StringField("Förnamn", validators=[DataRequired("Fyll i förnamn."), Length(max=100)])
    surname = StringField("Efternamn", validators=[DataRequired("Fyll i efternamn."), Length(max=100)])
    organisation_id = SelectField("Arbetsgivare", coerce=_optional_int, validate_choice=False,
                                  validators=[DataRequired("Välj arbetsgivare.")])
    unit_id = SelectField("Enhet (valfri)", coerce=_optional_int, validate_choice=False)
    title = StringField("Titel (valfri)", validators=[Optional(), Length(max=100)])
    mail = StringField("E-post (valfri)", validators=[Optional(), Length(max=254)])
    telephone = StringField("Telefon (valfri)", validators=[Optional(), Length(max=40)])
    personnummer = StringField("Personnummer (valfritt, ÅÅÅÅMMDD-NNNN)", validators=[Optional(), Length(max=13)])
    protected_identity = BooleanField("Skyddad identitet")
    submit = SubmitField("Spara person")


class DecisionForm(FlaskForm):
    """One or many orders from the approval queue (order_ids come as a multi-value field)."""

    reason = TextAreaField("Skäl för avslag", validators=[Optional(), Length(max=1000)])


class ProduceForm(FlaskForm):
    card_number = StringField("Kortnummer", validators=[DataRequired("Fyll i kortnumret."), Length(max=40)])
    expires_on = DateField("Giltigt till (valfritt)", validators=[Optional()])
    submit = SubmitField("Registrera kortet – finns att hämta")


class HandOverForm(FlaskForm):
    card_number = StringField("Kortnummer på kortet som lämnas ut",
                              validators=[DataRequired("Fyll i kortnumret."), Length(max=40)])
    method = RadioField("Identitetskontroll", choices=[("document", "Id-handling"),
                                                       ("witness", "Vittnesförfarande (ingen id-handling)")],
                        default="document", validate_choice=False)
    document_type = SelectField("Typ av id-handling", choices=DOCUMENT_CHOICES, validate_choice=False)
    document_valid_until = DateField("Id-handlingen giltig till", validators=[Optional()])
    document_number = StringField("Id-handlingens nummer (bara de fyra sista sparas)",
                                  validators=[Optional(), Length(max=40)])
    witness_name = StringField("Vittnets namn", validators=[Optional(), Length(max=200)])
    witness_hsa_id = StringField("Vittnets HSA-id", validators=[Optional(), Length(max=31)])
    submit = SubmitField("Identiteten är kontrollerad – lämna ut kortet")


class RevokeForm(FlaskForm):
    reason = SelectField("Skäl för spärr", choices=MANUAL_REVOCATION_CHOICES)
    requested_by = StringField("Vem begärde spärren", validators=[DataRequired("Fyll i vem som begärde spärren."),
                                                                  Length(max=200)])
    comment = TextAreaField("Kommentar (valfri)", validators=[Optional(), Length(max=1000)])
    submit = SubmitField("Spärra kortet")


class BulkRevokeForm(RevokeForm):
    confirm = HiddenField()
    submit = SubmitField("Spärra de valda korten")
