"""Helpers of the scoring, divergence and consensus tests."""

from __future__ import annotations

from decimal import Decimal

from vouchers.extensions import db
from vouchers.models import Application, User
from vouchers.services import reviews


def score(application: Application, evaluator: User, manager: User, *values) -> None:
    """``evaluator`` reviews the current version, scoring the criteria in order (None:
    "not applicable"); assigned first if they are not yet."""
    if reviews.assignment_of(application, evaluator) is None:
        reviews.assign(application, evaluator, manager)
    reviews.confirm_no_conflict(application, evaluator)
    criteria = application.call_voucher_type.criteria
    assert len(values) == len(criteria)
    reviews.submit_review(application, evaluator,
                          scores={c.id: v for c, v in zip(criteria, values, strict=True)},
                          recommendation="award", comment="Scored for the test.")
    db.session.commit()


def set_rules(application: Application, *, threshold: str | None = None,
              minimum: dict[int, int] | None = None, **call_columns) -> None:
    """Set the call's scoring columns directly (the call form is another part's)."""
    cvt = application.call_voucher_type
    cvt.threshold = Decimal(threshold) if threshold is not None else None
    for position, least in (minimum or {}).items():
        cvt.criteria[position].minimum = least
    for name, value in call_columns.items():
        setattr(application.call, name, value)
    db.session.commit()
