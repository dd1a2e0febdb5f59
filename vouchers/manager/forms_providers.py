"""The provider catalogue's forms: a provider, and a confirmation button.

Checked field by field here; services.providers checks what needs the database (a name
already in the catalogue).
"""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from ..services.providers import ProviderSpec


class ProviderForm(FlaskForm):
    name = StringField(lazy_gettext("Name"),
                       validators=[InputRequired(lazy_gettext("Give the provider's name.")),
                                   Length(max=200)])
    country = StringField(
        lazy_gettext("Country"),
        description=lazy_gettext("Two-letter code, such as DE, NL or FR."),
        validators=[InputRequired(lazy_gettext("Give the country.")),
                    Regexp(r"^[A-Za-z]{2}$",
                           message=lazy_gettext("Two letters, such as DE or NL."))],
    )
    region = StringField(lazy_gettext("Region"),
                         validators=[InputRequired(lazy_gettext("Give the region.")),
                                     Length(max=200)])
    services = TextAreaField(lazy_gettext("Services offered"), validators=[Length(max=5000)])
    website = StringField(
        lazy_gettext("Website"),
        description=lazy_gettext("Full address, starting with https://"),
        validators=[Optional(), Length(max=300),
                    Regexp(r"^https?://[^\s/]+\.\S+$",
                           message=lazy_gettext("Start with https://"))],
    )
    email = StringField(
        lazy_gettext("Contact e-mail"),
        validators=[Optional(), Length(max=254),
                    Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                           message=lazy_gettext("Not an e-mail address."))],
    )

    def to_spec(self) -> ProviderSpec:
        return ProviderSpec(name=self.name.data, country=self.country.data,
                            region=self.region.data, services=self.services.data or "",
                            website=self.website.data or "", email=self.email.data or "")


class ConfirmForm(FlaskForm):
    """A button that changes something: nothing to fill in but the CSRF token."""


