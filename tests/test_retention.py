"""The retention date, defined once (services/retention.py), and shown to managers."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete

from tests.helpers import login
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import Application, DeMinimisGrant
from vouchers.services.retention import retention_of


def _paid_without_grant(make, **kwargs) -> Application:
    """A paid voucher whose award is not de minimis aid (its register row removed)."""
    application = make.application("paid", **kwargs)
    db.session.execute(delete(DeMinimisGrant).where(
        DeMinimisGrant.application_id == application.id))
    db.session.commit()
    return application


def test_five_years_from_the_end_of_the_year_of_the_last_payment(app, make):
    application = _paid_without_grant(make)
    standing = retention_of(application.organisation)
    assert standing.received_aid and not standing.de_minimis and standing.running == 0
    assert standing.last_movement == today()
    assert standing.keep_until == date(today().year + 5, 12, 31)
    assert not standing.due(date(today().year + 5, 12, 31))
    assert standing.due(date(today().year + 6, 1, 1))


def test_de_minimis_records_ten_years(app, make):
    application = make.application("paid")  # every award is entered in the register
    standing = retention_of(application.organisation)
    assert standing.de_minimis
    assert standing.keep_until == date(today().year + 10, 12, 31)


def test_the_years_are_configuration(app, make):
    application = make.application("paid")
    app.config["DE_MINIMIS_RETENTION_YEARS"] = 12
    try:
        assert retention_of(application.organisation).keep_until == date(
            today().year + 12, 12, 31)
    finally:
        app.config["DE_MINIMIS_RETENTION_YEARS"] = 10


def test_nothing_is_due_while_an_application_runs(app, make):
    paid = make.application("paid")
    make.application("submitted", paid.call_voucher_type, applicant=paid.applicant)
    standing = retention_of(paid.organisation)
    assert standing.running == 1 and standing.keep_until is None
    assert not standing.due(date(9999, 1, 1))


def test_a_company_without_aid_is_kept_after_its_last_activity_and_may_be_erased(app, make):
    rejected = make.application("rejected")
    standing = retention_of(rejected.organisation)
    assert not standing.received_aid and standing.manager_may_anonymise
    assert standing.keep_until == date(today().year + 5, 12, 31)
    assert "no aid received" in standing.explanation


def test_a_later_unfunded_application_keeps_an_aided_company_longer(app, make):
    application = _paid_without_grant(make)
    # The payment was four years ago; the application itself was decided this year.
    from vouchers.models import LedgerEntry, Payment

    old = date(today().year - 4, 3, 1)
    db.session.execute(LedgerEntry.__table__.update().values(booked_on=old))
    db.session.execute(Payment.__table__.update().values(paid_on=old))
    db.session.commit()
    standing = retention_of(application.organisation)
    assert standing.last_movement == old
    # The activity (this year's) is later than the payment: 5 years after it.
    assert standing.keep_until == date(today().year + 5, 12, 31)
    assert "later activity" in standing.explanation


def test_the_company_page_shows_the_date_to_managers(app, client, make):
    application = make.application("paid")
    login(client, make.manager())
    page = client.get(f"/manage/organisations/{application.organisation_id}").get_data(
        as_text=True)
    assert "Retention" in page
    assert date(today().year + 10, 12, 31).isoformat() in page
    assert "Anonymise now" not in page  # it received aid


def test_the_company_page_offers_to_erase_a_company_without_aid(app, client, make):
    rejected = make.application("rejected")
    login(client, make.manager())
    page = client.get(f"/manage/organisations/{rejected.organisation_id}").get_data(
        as_text=True)
    assert "Anonymise now" in page
