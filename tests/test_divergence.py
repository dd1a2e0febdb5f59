"""Divergent scores: the flag, and the extra evaluator assigned automatically.

The factories' calls score two criteria on a scale of 5; with equal scores on both, an
evaluator's weighted total is that score. The default share is 30%: totals further apart
than 1.50 diverge.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.scoring_support import score, set_rules
from vouchers.extensions import db
from vouchers.models import Assignment, AuditRecord
from vouchers.services import reviews, scoring
from vouchers.services.application_page import application_page


@pytest.fixture
def reviewing(make):
    manager = make.manager()
    application = make.application("submitted", manager=manager)
    return application, manager, make.evaluator(), make.evaluator()


def extras(application) -> list[Assignment]:
    return list(db.session.scalars(
        select(Assignment).where(Assignment.application_id == application.id,
                                 Assignment.reason == "divergence")))


def test_totals_further_apart_than_the_share_are_flagged(reviewing):
    application, manager, e1, e2 = reviewing
    score(application, e1, manager, 5, 5)
    assert not application.divergent  # one review: nothing to compare
    score(application, e2, manager, 3, 3)
    assert application.divergent
    d = scoring.divergence(application)
    assert (d.spread, d.limit) == (Decimal("2.00"), Decimal("1.50"))
    assert extras(application) == []  # the call does not ask for an extra evaluator


@pytest.mark.parametrize(("low", "divergent"), [(3, False), (2, True)])
def test_a_spread_at_the_share_is_not_divergent_one_above_it_is(reviewing, low, divergent):
    application, manager, e1, e2 = reviewing
    set_rules(application, divergence_share=Decimal("0.40"))  # 2.00 on the scale of 5
    score(application, e1, manager, 5, 5)
    score(application, e2, manager, low, low)
    assert application.divergent is divergent


def test_not_applicable_criteria_count_as_left_out_not_as_zero(reviewing):
    application, manager, e1, e2 = reviewing
    score(application, e1, manager, None, 4)
    score(application, e2, manager, 4, 4)
    assert not application.divergent


def test_one_extra_evaluator_is_assigned_balanced_never_a_conflicted_one(make, reviewing):
    application, manager, e1, e2 = reviewing
    set_rules(application, extra_evaluator_on_divergence=True)
    cvt = application.call_voucher_type
    # Busy: two standing assignments elsewhere in the call.
    busy = make.evaluator()
    for _ in range(2):
        reviews.assign(make.application("submitted", cvt, manager=manager), busy, manager)
    # Free, but declared a conflict on this application.
    conflicted = make.evaluator()
    reviews.assign(application, conflicted, manager)
    reviews.declare_conflict(application, conflicted, "I advise this company.")
    # Works for the applicant's organisation: policy.may_be_assigned refuses them.
    make.evaluator(organisation=application.organisation)
    # One assignment elsewhere; a conflict declared elsewhere is no load.
    light = make.evaluator()
    reviews.assign(make.application("submitted", cvt, manager=manager), light, manager)
    other = make.application("submitted", cvt, manager=manager)
    reviews.assign(other, busy, manager)
    reviews.declare_conflict(other, busy, "Former employer.")
    db.session.commit()

    score(application, e1, manager, 5, 5)
    score(application, e2, manager, 1, 1)
    [extra] = extras(application)
    assert extra.evaluator_id == light.id
    assert extra.assigned_by_id is None
    record = db.session.scalar(select(AuditRecord).where(
        AuditRecord.application_id == application.id, AuditRecord.trigger == "assign"))
    assert (record.from_state, record.to_state) == ("under_review", "under_review")
    assert record.actor_id is None
    assert record.comment == "Extra evaluator: divergent scores"

    # The extra evaluator's review keeps the scores divergent: no second extra.
    score(application, light, manager, 3, 3)
    assert application.divergent
    assert len(extras(application)) == 1
    summary = scoring.summary(application)
    assert summary.extra.evaluator_id == light.id
    assert not summary.extra_unavailable


def test_ties_in_load_go_to_the_lowest_id(make, reviewing):
    application, manager, e1, e2 = reviewing
    set_rules(application, extra_evaluator_on_divergence=True)
    first, second = make.evaluator(), make.evaluator()
    score(application, e1, manager, 5, 5)
    score(application, e2, manager, 0, 0)
    [extra] = extras(application)
    assert extra.evaluator_id == min(first.id, second.id)


def test_with_no_evaluator_left_the_flag_stays_and_the_page_says_so(make, client, reviewing):
    from tests.helpers import login

    application, manager, e1, e2 = reviewing
    set_rules(application, extra_evaluator_on_divergence=True)
    conflicted = make.evaluator()
    reviews.assign(application, conflicted, manager)
    reviews.declare_conflict(application, conflicted, "My brother's company.")
    db.session.commit()
    score(application, e1, manager, 5, 5)
    score(application, e2, manager, 1, 1)
    assert application.divergent
    assert extras(application) == []
    assert scoring.summary(application).extra_unavailable
    login(client, manager)
    html = client.get(f"/manage/applications/{application.id}").get_data(as_text=True)
    assert "Divergent scores" in html
    assert "No extra evaluator was available" in html


def test_the_page_names_the_extra_evaluator(make, client, reviewing):
    from tests.helpers import login

    application, manager, e1, e2 = reviewing
    set_rules(application, extra_evaluator_on_divergence=True)
    extra = make.evaluator()
    score(application, e1, manager, 5, 5)
    score(application, e2, manager, 1, 1)
    page = application_page(application)
    assert page.scoring.extra.evaluator_id == extra.id
    login(client, manager)
    html = client.get(f"/manage/applications/{application.id}").get_data(as_text=True)
    assert f"Extra evaluator added: {extra.name}" in html
    assert "the weighted totals differ by 4.00; the call allows 1.50" in html


def test_changing_the_call_s_share_flags_the_applications_again(reviewing):
    """The flag follows the call's rule when the manager changes the share, not only when
    the next review comes in."""
    from dataclasses import replace

    from tests.test_call_setup_service import spec_of
    from vouchers.services import call_setup

    application, manager, e1, e2 = reviewing
    score(application, e1, manager, 5, 5)
    score(application, e2, manager, 3, 3)  # spread 2.00 of 5: over 30%
    assert application.divergent
    call = application.call
    call_setup.update_call(call, replace(spec_of(call), divergence_share=Decimal("0.50")),
                           manager)
    db.session.commit()
    assert not application.divergent  # 2.00 is within 50% of 5
    call_setup.update_call(call, replace(spec_of(call), divergence_share=Decimal("0.20")),
                           manager)
    db.session.commit()
    assert application.divergent
