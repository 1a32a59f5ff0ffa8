"""The "Verifiera kort" form on the hand-over page."""

from __future__ import annotations

from wtforms import PasswordField, SubmitField
from wtforms.validators import DataRequired, Length

from cardadmin.forms import Form


class VerifyCardForm(Form):
    # The holder types the PIN here on the desk PC; it goes to the card once and is not kept (see views.py).
    # The page marks it autocomplete="one-time-code", so browsers do not offer to save it as a password.
    pin = PasswordField("Kortinnehavarens PIN-kod (legitimering)",
                        validators=[DataRequired("Låt kortinnehavaren skriva sin PIN-kod."), Length(max=16)],
                        render_kw={"inputmode": "numeric"})
    submit = SubmitField("Verifiera kort")
