"""Template filters: money in euros, times in the programme's time zone, each written the
way the reader's language writes it (English as it always was: "€1,250.00", "03 Dec 2026")."""

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_skeleton
from babel.numbers import format_currency
from flask import Flask
from flask_babel import gettext, pgettext
from markupsafe import Markup, escape

from workflows.lifecycle import STATE_LABELS

from . import voucher_types
from .clock import programme_zone
from .i18n import local_decimal, reader_locale
from .money import format_money
from .services.rates import format_rate

DEFAULT_TIME = "%d %b %Y %H:%M"
# A moment's day alone: local_time("%d %b %Y") in the templates.
DATE_ONLY = "%d %b %Y"


class LocaleText(str):
    """Text that is written again in the language of the moment it is shown: a value made
    before its reader's language is known (a mail's context, made before outbox.render
    forces the recipient's). As a ``str`` it holds the text of the moment it was made (what
    comparisons and ``in`` see); ``str()``, ``%s`` and Jinja write it afresh."""

    def __new__(cls, write: Callable[..., str], *args):
        made = super().__new__(cls, write(*args))
        made._write, made._args = write, args
        return made

    def __str__(self) -> str:
        return str(self._write(*self._args))

    def __html__(self) -> Markup:
        return escape(str(self))


def local_time(value: datetime | None, fmt: str = DEFAULT_TIME) -> str:
    if value is None:
        return "—"
    value = value.astimezone(programme_zone())
    locale = reader_locale()
    if locale is None or fmt not in (DEFAULT_TIME, DATE_ONLY):
        return value.strftime(fmt)
    if fmt == DATE_ONLY:  # the day of that moment, as the ``day`` filter writes it
        return day(value.date())
    return f"{format_skeleton('yMMMd', value, locale=locale)} {value:%H:%M}"


def day(value: date | None) -> str:
    """A date: "03 Dec 2026"; "3 de des. del 2026" in Catalan, "3. Dez. 2026" in German."""
    if value is None:
        return "—"
    locale = reader_locale()
    if locale is None:
        return value.strftime("%d %b %Y")
    return format_skeleton("yMMMd", value, locale=locale)


def eur(amount: Decimal | None) -> str:
    return money(amount, "EUR")


def money(amount: Decimal | None, currency: str = "EUR") -> str:
    locale = reader_locale()
    if locale is None or amount is None:
        return format_money(amount, currency)
    return format_currency(amount, currency, locale=locale)


def state_label(state: str | None) -> str:
    """A state's label (workflows/lifecycle.STATE_LABELS, English there) in the reader's
    language; a code the lifecycle does not know is shown as it is."""
    return gettext(STATE_LABELS[state]) if state in STATE_LABELS else state


def type_label(code: str | None) -> str:
    """A voucher type's name (vouchers/voucher_types.py) in the reader's language."""
    return gettext(voucher_types.LABELS[code]) if code in voucher_types.LABELS else code


def a_voucher(code: str | None) -> str:
    """"an impact voucher", in the reader's language (voucher_types.A_VOUCHER)."""
    return gettext(voucher_types.A_VOUCHER[code]) if code in voucher_types.A_VOUCHER else code


def report_status(status: str | None) -> str:
    """A final report's status in the reader's language (a report's "Submitted" has its
    own context: masculine in Catalan, where an application's is feminine)."""
    return {"draft": gettext("Draft"), "submitted": pgettext("report", "Submitted"),
            "returned": gettext("Returned"), "approved": gettext("Approved")}.get(status, status)


def call_status(status: str | None) -> str:
    """A call's status (services/calls.py: upcoming, open, closed) in the reader's language."""
    return {"open": gettext("Open"), "closed": gettext("Closed"),
            "upcoming": gettext("Upcoming")}.get(status, status)


def attachment_kind(kind: str | None) -> str:
    """What an attachment is (voucher_types.ATTACHMENT_KINDS) in the reader's language."""
    labels = voucher_types.ATTACHMENT_KINDS
    return gettext(labels[kind]) if kind in labels else kind


def init_app(app: Flask) -> None:
    app.add_template_filter(eur, "eur")
    # An amount in a partner's currency: {{ amount|money(application.currency) }}.
    app.add_template_filter(money, "money")
    app.add_template_filter(day, "day")
    app.add_template_filter(format_rate, "rate")
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(state_label, "state_label")
    # Labels of voucher types come from their registry, like everywhere else.
    app.add_template_filter(type_label, "type_label")
    from .services.wording import in_sentence  # wording reads this module's formats

    # Inside a sentence: "Rànquing de validació de mercat" (German keeps its capitals).
    app.add_template_filter(lambda code: in_sentence(voucher_types.label(code)),
                            "type_in_sentence")
    app.add_template_filter(lambda state: in_sentence(STATE_LABELS.get(state, state)),
                            "state_in_sentence")
    from .text import capital

    app.add_template_filter(capital, "capital")
    app.add_template_filter(attachment_kind, "attachment_kind")
    app.add_template_filter(report_status, "report_status")
    app.add_template_filter(a_voucher, "a_voucher")
    app.add_template_filter(call_status, "call_status")
    app.add_template_filter(local_decimal, "decimal")  # a score: "4,50" in Catalan
    app.add_template_filter(lambda r: f"{r * 100:.0f}%", "percent")
    # The registry itself, for templates that show a type's own questions.
    app.add_template_global(voucher_types.get, "voucher_type")
    # Deadlines and their overdue marks (services/deadlines.py, templates/_deadline.html).
    from .services import deadlines

    deadlines.init_app(app)
