"""Template filters: money in euros, times in the programme's time zone."""

from datetime import datetime

from flask import Flask

from workflows.lifecycle import STATE_LABELS

from .clock import programme_zone
from .models import VOUCHER_TYPE_LABELS
from .money import format_eur


def local_time(value: datetime | None, fmt: str = "%d %b %Y %H:%M") -> str:
    if value is None:
        return "—"
    return value.astimezone(programme_zone()).strftime(fmt)


def init_app(app: Flask) -> None:
    app.add_template_filter(format_eur, "eur")
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(lambda s: STATE_LABELS.get(s, s), "state_label")
    app.add_template_filter(lambda t: VOUCHER_TYPE_LABELS.get(t, t), "type_label")
    app.add_template_filter(lambda r: f"{r * 100:.0f}%", "percent")
