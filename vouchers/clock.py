"""The programme's time zone: times are stored in UTC and shown, and dated, in it."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from .models.base import utcnow


def programme_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["PROGRAMME_TIMEZONE"])


def local_date(at: datetime) -> date:
    return at.astimezone(programme_zone()).date()


def today() -> date:
    return local_date(utcnow())
