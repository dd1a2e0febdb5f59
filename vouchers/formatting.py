"""Template filters: money in euros, times in the programme's time zone."""

from datetime import datetime

from flask import Flask

from workflows.lifecycle import STATE_LABELS

from . import voucher_types
from .clock import programme_zone
from .money import format_eur, format_money
from .services.rates import format_rate


def local_time(value: datetime | None, fmt: str = "%d %b %Y %H:%M") -> str:
    if value is None:
        return "—"
    return value.astimezone(programme_zone()).strftime(fmt)


def init_app(app: Flask) -> None:
    app.add_template_filter(format_eur, "eur")
    # An amount in a partner's currency: {{ amount|money(application.currency) }}.
    app.add_template_filter(format_money, "money")
    app.add_template_filter(format_rate, "rate")
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(lambda s: STATE_LABELS.get(s, s), "state_label")
    # Labels of voucher types come from their registry, like everywhere else.
    app.add_template_filter(voucher_types.label, "type_label")
    app.add_template_filter(lambda k: voucher_types.ATTACHMENT_KINDS.get(k, k),
                            "attachment_kind")
    app.add_template_filter(lambda r: f"{r * 100:.0f}%", "percent")
    # The registry itself, for templates that show a type's own questions.
    app.add_template_global(voucher_types.get, "voucher_type")
    # Deadlines and their overdue marks (services/deadlines.py, templates/_deadline.html).
    from .services import deadlines

    deadlines.init_app(app)
