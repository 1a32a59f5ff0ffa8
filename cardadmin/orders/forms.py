"""Forms of the order, desk and card screens. They check shape only; the rules are in the services."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from cardadmin.accounts.forms import _optional_int
from cardadmin.forms import Form
from cardadmin.orders.models import (
    DOCUMENT_LABELS,
    ORDER_TYPE_LABELS,
    REVOCATION_LABELS,
    SUPPORT_CHANNEL_LABELS,
    SUPPORT_KIND_LABELS,
)

ORDER_TYPE_CHOICES = [(str(k), v) for k, v in ORDER_TYPE_LABELS.items()]
DOCUMENT_CHOICES = [("", "— välj id-handling —")] + [(str(k), v) for k, v in DOCUMENT_LABELS.items()]
# No reason is preselected: the one revoking must choose (cards.manual_reasons says which fit a card).
NO_REASON = [("", "— välj skäl —")]
MANUAL_REVOCATION_CHOICES = NO_REASON + [(str(k), v) for k, v in REVOCATION_LABELS.items() if k != "replaced"]


class OrderForm(Form):
    person_id = HiddenField(validators=[DataRequired("Välj kortmottagare.")])
    nonce = HiddenField()
    order_type = SelectField("Typ av beställning", choices=ORDER_TYPE_CHOICES)
    desk_id = SelectField("Kortutlämning där kortet hämtas", coerce=_optional_int, validate_choice=False,
                          validators=[DataRequired("Välj kortutlämning.")])
    comment = TextAreaField("Kommentar (valfri)", validators=[Optional(), Length(max=1000)])
    submit = SubmitField("Skicka beställning")


class PersonForm(Form):
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
    desk_id = SelectField("Arbetar vid kortutlämning", coerce=_optional_int, validate_choice=False)  # desk staff
    submit = SubmitField("Spara person")


class DecisionForm(Form):
    """One or many orders from the approval queue (order_ids come as a multi-value field)."""

    reason = TextAreaField("Skäl för avslag", validators=[Optional(), Length(max=1000)])


class ProduceForm(Form):
    card_number = StringField("Kortnummer", validators=[DataRequired("Fyll i kortnumret."), Length(max=40)])
    expires_on = DateField("Giltigt till (valfritt)", validators=[Optional()])
    submit = SubmitField("Registrera kortet – finns att hämta")


class HandOverForm(Form):
    # Every rule of the hand-over is checked by the service, which names all problems at once.
    card_number = StringField("Kortnummer på kortet som lämnas ut", validators=[Length(max=40)])
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


class RevokeForm(Form):
    reason = SelectField("Skäl för spärr", choices=MANUAL_REVOCATION_CHOICES,
                         validators=[DataRequired("Välj skäl för spärren.")])
    requested_by = StringField("Vem begärde spärren", validators=[DataRequired("Fyll i vem som begärde spärren."),
                                                                  Length(max=200)])
    comment = TextAreaField("Kommentar (valfri)", validators=[Optional(), Length(max=1000)])
    submit = SubmitField("Spärra kortet")


class CardRevokeForm(RevokeForm):
    """One card's page: the reason's choices are set per card; the box must be ticked (checked by the server)."""

    confirmed = BooleanField("Jag har kontrollerat att det är rätt kort. Spärren kan inte ångras.",
                             validators=[DataRequired("Bekräfta spärren genom att kryssa i rutan.")])


class BulkRevokeForm(RevokeForm):
    confirm = HiddenField()
    submit = SubmitField("Spärra de valda korten")


SUPPORT_KIND_CHOICES = [(str(k), v) for k, v in SUPPORT_KIND_LABELS.items()]
SUPPORT_CHANNEL_CHOICES = [(str(k), v) for k, v in SUPPORT_CHANNEL_LABELS.items()]


class SupportForm(Form):
    kind = SelectField("Ärendetyp", choices=SUPPORT_KIND_CHOICES)
    channel = SelectField("Kanal", choices=SUPPORT_CHANNEL_CHOICES)
    out_of_hours = BooleanField("Utanför kontorstid (kväll, natt, helg)")
    desk_id = SelectField("Kortutlämning", coerce=_optional_int, validate_choice=False)
    card_number = StringField("Kortnummer (valfritt)", validators=[Optional(), Length(max=40)])
    person_hsa_id = StringField("Personens HSA-id (valfritt)", validators=[Optional(), Length(max=31)])
    description = TextAreaField("Beskrivning", validators=[Optional(), Length(max=4000)])
    resolution = TextAreaField("Åtgärd (fyll i om ärendet är löst nu)", validators=[Optional(), Length(max=4000)])
    minutes_spent = IntegerField("Tidsåtgång (minuter)", default=0,
                                 validators=[InputRequired("Ange tidsåtgången i minuter."),
                                             NumberRange(0, 1440, "Tidsåtgången ska vara 0–1440 minuter.")])
    submit = SubmitField("Spara ärendet")


class ResolveSupportForm(Form):
    resolution = TextAreaField("Åtgärd", validators=[DataRequired("Beskriv vad som gjordes."), Length(max=4000)])
    minutes_spent = IntegerField("Ytterligare tid (minuter)", default=0,
                                 validators=[InputRequired("Ange tiden i minuter (0 om ingen)."),
                                             NumberRange(0, 1440, "Tiden ska vara 0–1440 minuter.")])
    submit = SubmitField("Markera som löst")
