"""The limits of one undertaking: vouchers and support over the programme, and de minimis
aid over the rolling three years (dated declarations + aid awarded here)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.factories import Factories
from tests.helpers import snapshot
from tests.test_concurrency import concurrent_app  # noqa: F401  (the fixture)
from vouchers.clock import programme_zone, today
from vouchers.extensions import db
from vouchers.models import AidDeclaration, Application, Call, EligibilityOverride, User
from vouchers.models.base import utcnow
from vouchers.services import transitions, undertaking
from vouchers.services.budget import (
    counts_on,
    de_minimis_period_start,
    last_day_counted,
)
from vouchers.services.errors import (
    DeMinimisExceeded,
    SupportCapExceeded,
    VoucherLimitReached,
)
from vouchers.services.undertaking import Standing, limit_problems, standing_of

IMPACT = {"impact": (10, "100000", "1.00", "1000000")}
ZERO = Decimal("0.00")


def years_back(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def local_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=programme_zone()).astimezone(UTC)


def open_limits(call: Call, **limits) -> Call:
    """A call whose per-type application count does not interfere with the limit tested."""
    call.max_applications_per_type = None
    call.support_cap = None
    for name, value in limits.items():
        setattr(call, name, value)
    db.session.commit()
    return call


# --- the period, decided once ---------------------------------------------------------


def test_aid_three_years_and_a_day_old_does_not_count_three_years_less_a_day_does():
    day = date(2027, 6, 15)
    assert de_minimis_period_start(day) == date(2024, 6, 15)
    assert counts_on(date(2024, 6, 16), day)  # three years less a day
    assert not counts_on(date(2024, 6, 15), day)  # three years exactly
    assert not counts_on(date(2024, 6, 14), day)  # three years and a day
    assert not counts_on(date(2027, 6, 16), day)  # not yet granted
    assert last_day_counted(date(2024, 6, 16)) == date(2027, 6, 15)


def test_the_29th_of_february():
    # From 29 February the period reaches back to the 28th.
    assert de_minimis_period_start(date(2028, 2, 29)) == date(2025, 2, 28)
    assert counts_on(date(2025, 3, 1), date(2028, 2, 29))
    assert not counts_on(date(2025, 2, 28), date(2028, 2, 29))
    # Aid granted on 29 February counts until the 28th, three years on.
    assert last_day_counted(date(2024, 2, 29)) == date(2027, 2, 28)
    assert counts_on(date(2024, 2, 29), date(2027, 2, 28))
    assert not counts_on(date(2024, 2, 29), date(2027, 3, 1))
    # A leap day at the end of the period: aid of 28 February three years before is
    # three years and a day old.
    assert not counts_on(date(2025, 2, 28), date(2028, 2, 29))
    assert counts_on(date(2025, 2, 28), date(2028, 2, 27))


def test_the_period_is_consistent_for_every_grant_date_over_two_leap_years():
    day, end = date(2023, 1, 1), date(2029, 1, 1)
    previous = de_minimis_period_start(day)
    while day < end:
        last = last_day_counted(day)
        # It counts from its grant until its last day, and not the day after.
        assert counts_on(day, day) and counts_on(day, last) and not counts_on(day, last
                                                                               + timedelta(1))
        assert timedelta(days=365 * 3 - 1) <= last - day <= timedelta(days=365 * 3 + 1)
        start = de_minimis_period_start(day)
        assert start >= previous  # the period moves forward, never back
        previous = start
        day += timedelta(days=1)


# --- the standing -----------------------------------------------------------------------


def _declare(org, granted_on: date, amount: str) -> AidDeclaration:
    declaration = AidDeclaration(organisation_id=org.id, granting_body="Regional agency",
                                 granted_on=granted_on, amount=Decimal(amount))
    db.session.add(declaration)
    db.session.commit()
    return declaration


def test_standing_counts_declared_aid_inside_the_period_on_the_29th_of_february(make):
    call = make.call(IMPACT)
    org = make.organisation()
    _declare(org, date(2025, 2, 28), "1000")  # three years and a day before 29 February
    _declare(org, date(2025, 3, 1), "2000")  # three years less a day
    _declare(org, date(2028, 3, 1), "4000")  # after the day asked about
    at = local_noon(date(2028, 2, 29))
    assert standing_of(org.id, call, at).de_minimis == Decimal("2000.00")


def test_aid_awarded_here_counts_by_its_local_award_date(make):
    call = open_limits(make.call(IMPACT))
    cvt = call.voucher_type("impact")
    applicant = make.applicant()
    old = make.application("awarded", cvt, applicant=applicant, amount="1000", requested="1000")
    recent = make.application("awarded", cvt, applicant=applicant, amount="3000",
                              requested="3000")
    day = date(2028, 2, 29)
    # Late on 28 February 2025 (local time) is three years and a day before; just after
    # local midnight of 1 March, three years less a day.
    zone = programme_zone()
    old.awarded_at = datetime(2025, 2, 28, 23, 30, tzinfo=zone).astimezone(UTC)
    recent.awarded_at = datetime(2025, 3, 1, 0, 30, tzinfo=zone).astimezone(UTC)
    db.session.commit()
    standing = standing_of(applicant.organisation_id, call, local_noon(day))
    assert standing.de_minimis == Decimal("3000.00")
    # Support and vouchers are over the programme, whenever awarded.
    assert (standing.vouchers, standing.support) == (2, Decimal("4000.00"))
    assert standing_of(applicant.organisation_id, call, local_noon(day),
                       excluding=recent.id).de_minimis == ZERO


def test_support_and_vouchers_count_the_whole_programme_but_not_other_programmes(make):
    call = open_limits(make.call(IMPACT))
    applicant = make.applicant()
    make.application("awarded", call.voucher_type("impact"), applicant=applicant,
                     amount="5000", requested="5000")
    # Another call of the same programme.
    sibling = open_limits(make.call(IMPACT, code="SIB"))
    sibling.programme_id = call.programme_id
    db.session.commit()
    make.application("awarded", sibling.voucher_type("impact"), applicant=applicant,
                     amount="7000", requested="7000")
    # Another programme: de minimis aid, not support of this programme.
    elsewhere = open_limits(make.call(IMPACT))
    make.application("awarded", elsewhere.voucher_type("impact"), applicant=applicant,
                     amount="11000", requested="11000")
    make.application("cancelled", call.voucher_type("impact"), applicant=applicant,
                     amount="13000", requested="13000")
    standing = standing_of(applicant.organisation_id, call, utcnow())
    assert standing == Standing(2, Decimal("12000.00"), Decimal("23000.00"))


def test_limit_problems_name_each_limit_with_its_figures(app):
    call = Call(max_vouchers_per_sme=2, support_cap=Decimal("60000"))
    standing = Standing(2, Decimal("55000.00"), Decimal("295000.00"))
    problems = dict(limit_problems(call, standing, Decimal("6000.00")))
    assert set(problems) == {"vouchers_per_sme", "support_cap", "de_minimis"}
    assert "already holds 2 vouchers" in problems["vouchers_per_sme"]
    assert "at most 2" in problems["vouchers_per_sme"]
    assert "€61,000.00" in problems["support_cap"] and "€60,000.00" in problems["support_cap"]
    assert "€301,000.00" in problems["de_minimis"] and "€300,000.00" in problems["de_minimis"]
    # Exactly at each limit is allowed; no limit set is no limit.
    assert limit_problems(Call(max_vouchers_per_sme=3, support_cap=Decimal("61000")),
                          standing, Decimal("5000.00")) == []
    assert limit_problems(Call(max_vouchers_per_sme=None, support_cap=None),
                          Standing(99, Decimal("1E6"), ZERO), Decimal("1.00")) == []


# --- the award check ----------------------------------------------------------------------


def _refused(action, error) -> str:
    before = snapshot()
    with pytest.raises(error) as exc:
        action()
    db.session.rollback()
    assert snapshot() == before
    return exc.value.message


def _awardable(make, call, applicant, requested: str) -> Application:
    return make.application("under_review", call.voucher_type("impact"), applicant=applicant,
                            requested=requested)


@pytest.mark.parametrize("age, counts", [
    (lambda d: years_back(d, 3) - timedelta(days=1), False),  # 3 years and 1 day old
    (lambda d: years_back(d, 3) + timedelta(days=1), True),  # 3 years less a day old
])
def test_award_counts_declared_aid_only_inside_the_rolling_three_years(make, age, counts):
    call = open_limits(make.call(IMPACT))
    applicant = make.applicant()
    _declare(applicant.organisation, age(today()), "290000")
    application = _awardable(make, call, applicant, "20000")
    manager = make.manager()
    if counts:
        message = _refused(lambda: transitions.award(application, manager, "20000"),
                           DeMinimisExceeded)
        assert "€310,000.00 of de minimis aid" in message
    else:
        transitions.award(application, manager, "20000")
        db.session.commit()
        assert application.state == "awarded"


def test_award_beyond_the_support_cap_is_refused_and_up_to_it_allowed(make):
    call = open_limits(make.call(IMPACT), support_cap=Decimal("30000"))
    applicant, manager = make.applicant(), make.manager()
    make.application("awarded", call.voucher_type("impact"), applicant=applicant,
                     amount="20000", requested="20000")
    application = _awardable(make, call, applicant, "15000")
    message = _refused(lambda: transitions.award(application, manager, "15000"),
                       SupportCapExceeded)
    assert "would reach €35,000.00" in message and "cap per company is €30,000.00" in message
    transitions.award(application, manager, "10000")  # exactly at the cap
    db.session.commit()
    assert application.awarded_amount == Decimal("10000.00")


def test_a_second_voucher_beyond_the_calls_limit_is_refused_unless_accepted(make):
    call = open_limits(make.call(IMPACT), max_vouchers_per_sme=1)
    applicant, manager = make.applicant(), make.manager()
    make.application("cancelled", call.voucher_type("impact"), applicant=applicant)
    make.application("awarded", call.voucher_type("impact"), applicant=applicant,
                     amount="1000", requested="1000")  # a cancelled voucher held no place
    application = _awardable(make, call, applicant, "1000")
    message = _refused(lambda: transitions.award(application, manager, "1000"),
                       VoucherLimitReached)
    assert "already holds 1 voucher of this programme" in message
    # A manager's written exception admits the count (not the legal ceilings).
    db.session.add(EligibilityOverride(application_id=application.id, rule="vouchers_per_sme",
                                       reason="Second trip agreed by the steering group.",
                                       by_id=manager.id))
    db.session.commit()
    transitions.award(application, manager, "1000")
    db.session.commit()
    assert application.state == "awarded"


# --- two managers at once -----------------------------------------------------------------

THREADS = 8


def test_simultaneous_awards_to_one_sme_never_pass_the_support_cap(concurrent_app):  # noqa: F811
    with concurrent_app.app_context():
        make = Factories()
        call = make.call({"travel": (50, "5000", "1.00", "100000")})
        call.max_applications_per_type = None
        call.support_cap = Decimal("3500")  # room for three awards of 1,000
        db.session.commit()
        cvt = call.voucher_type("travel")
        applicant, manager = make.applicant(), make.manager()
        ids = [make.application("under_review", cvt, applicant=applicant, manager=manager,
                                requested="1000").id for _ in range(THREADS)]
        manager_id, org_id, call_id = manager.id, applicant.organisation_id, call.id
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def award(application_id):
        with concurrent_app.app_context():
            try:
                application = db.session.get(Application, application_id)
                manager = db.session.get(User, manager_id)
                barrier.wait(timeout=30)
                transitions.award(application, manager, "1000")
                db.session.commit()
                outcome = "awarded"
            except SupportCapExceeded:
                outcome = "support_cap"
            except Exception as exc:  # noqa: BLE001 - reported in the assertion below
                outcome = f"error: {exc!r}"
            finally:
                db.session.rollback()
                db.session.remove()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=award, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(outcomes) == ["awarded"] * 3 + ["support_cap"] * (THREADS - 3), outcomes
    with concurrent_app.app_context():
        total = db.session.scalar(select(func.sum(Application.awarded_amount)).where(
            Application.organisation_id == org_id, Application.state == "awarded"))
        assert total == Decimal("3000.00")
        assert undertaking.standing_of(org_id, db.session.get(Call, call_id),
                                       utcnow()).support == Decimal("3000.00")
