"""Thresholds per call and type, minimum per criterion, and the score an application ranks by.

The factories' calls score two criteria on a scale of 5, weighted 1 and 2.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.scoring_support import score, set_rules
from vouchers.extensions import db
from vouchers.services import consensus, scoring, transitions
from vouchers.services.errors import BelowThreshold


@pytest.fixture
def reviewing(make):
    """An application under review (no review yet), its manager, two evaluators."""
    manager = make.manager()
    application = make.application("submitted", manager=manager)
    return application, manager, make.evaluator(), make.evaluator()


def test_a_total_below_the_threshold_is_a_problem_and_refuses_the_award(reviewing):
    application, manager, e1, e2 = reviewing
    set_rules(application, threshold="3.00")
    score(application, e1, manager, 2, 2)
    score(application, e2, manager, 3, 3)
    assert application.weighted_score == Decimal("2.50")
    assert scoring.threshold_problems(application) == [
        "Scored 2.50 of 5 in total (weighted); the call asks at least 3.00."]
    with pytest.raises(BelowThreshold, match="cannot be awarded. Scored 2.50 of 5"):
        transitions.award(application, manager, application.requested_amount)
    db.session.rollback()
    assert application.state == "under_review"
    assert application.call_voucher_type.committed == 0


def test_a_total_at_the_threshold_passes_and_may_be_awarded(reviewing):
    application, manager, e1, _ = reviewing
    set_rules(application, threshold="3.00")
    score(application, e1, manager, 3, 3)
    assert scoring.threshold_problems(application) == []
    transitions.award(application, manager, application.requested_amount)
    db.session.commit()
    assert application.state == "awarded"


def test_a_criterion_below_its_minimum_is_a_problem_even_with_a_good_total(reviewing):
    application, manager, e1, e2 = reviewing
    cvt = application.call_voucher_type
    set_rules(application, threshold="3.00", minimum={0: 3})
    score(application, e1, manager, 2, 5)
    score(application, e2, manager, 3, 5)
    assert application.weighted_score > cvt.threshold
    assert scoring.threshold_problems(application) == [
        "Scored 2.50 of 5 on Criterion 1; the call asks at least 3."]
    with pytest.raises(BelowThreshold, match="on Criterion 1"):
        scoring.ensure_above_threshold(application)


def test_not_applicable_is_left_out_of_the_criterion_mean(reviewing):
    application, manager, e1, e2 = reviewing
    set_rules(application, minimum={0: 3, 1: 3})
    score(application, e1, manager, None, 4)
    score(application, e2, manager, 4, 4)
    first, second = scoring.criterion_scores(application)
    assert first.mean == Decimal("4.00")  # not (0 + 4) / 2
    assert second.mean == Decimal("4.00")
    assert scoring.threshold_problems(application) == []


def test_a_criterion_every_evaluator_marked_not_applicable_has_no_minimum_to_meet(reviewing):
    application, manager, e1, _ = reviewing
    set_rules(application, minimum={0: 3})
    score(application, e1, manager, None, 5)
    assert scoring.criterion_scores(application)[0].mean is None
    assert scoring.threshold_problems(application) == []


def test_every_criterion_not_applicable_cannot_reach_a_total_threshold(reviewing):
    application, manager, e1, _ = reviewing
    set_rules(application, threshold="1.00")
    score(application, e1, manager, None, None)
    assert application.weighted_score is None
    [problem] = scoring.threshold_problems(application)
    assert "no weighted total" in problem


def test_without_a_review_there_is_no_threshold_problem_yet(reviewing):
    application, manager, e1, _ = reviewing
    set_rules(application, threshold="3.00", minimum={0: 3})
    assert scoring.threshold_problems(application) == []
    scoring.ensure_above_threshold(application)  # the lifecycle's review guard decides


def test_no_threshold_set_means_no_problem(reviewing):
    application, manager, e1, _ = reviewing
    score(application, e1, manager, 0, 0)
    assert scoring.threshold_problems(application) == []


def test_ranking_uses_the_consensus_score_and_so_does_the_threshold(reviewing):
    application, manager, e1, e2 = reviewing
    set_rules(application, threshold="3.00", minimum={0: 3})
    score(application, e1, manager, 2, 2)
    score(application, e2, manager, 2, 3)
    assert scoring.ranking_score(application) == application.weighted_score
    assert len(scoring.threshold_problems(application)) == 2
    criteria = application.call_voucher_type.criteria
    consensus.record(application, manager, {criteria[0].id: 3, criteria[1].id: 4},
                     "Agreed after discussion.")
    db.session.commit()
    assert application.consensus_score == Decimal("3.67")
    assert scoring.ranking_score(application) == Decimal("3.67")
    assert scoring.criterion_scores(application)[0].score == Decimal(3)
    assert scoring.threshold_problems(application) == []
    transitions.award(application, manager, application.requested_amount)
    db.session.commit()
    assert application.state == "awarded"


def test_a_lower_consensus_puts_an_application_below_the_threshold(reviewing):
    application, manager, e1, _ = reviewing
    set_rules(application, threshold="3.00")
    score(application, e1, manager, 4, 4)
    criteria = application.call_voucher_type.criteria
    consensus.record(application, manager, {criteria[0].id: 2, criteria[1].id: 2},
                     "The market is smaller than the evaluator thought.")
    db.session.commit()
    assert scoring.threshold_problems(application) == [
        "Scored 2.00 of 5 in total (weighted); the call asks at least 3.00."]


def test_the_batch_for_the_ranking_says_what_each_application_alone_says(make):
    manager = make.manager()
    cvt = make.call().voucher_type("market_validation")
    cvt.threshold = Decimal("3.00")
    cvt.criteria[1].minimum = 4
    db.session.commit()
    apps = [make.application("submitted", cvt, manager=manager) for _ in range(4)]
    evaluator = make.evaluator()
    score(apps[0], evaluator, manager, 5, 5)
    score(apps[1], evaluator, manager, 2, 2)
    score(apps[2], evaluator, manager, 5, 3)
    score(apps[3], evaluator, manager, 1, 5)
    consensus.record(apps[3], manager, {cvt.criteria[0].id: 1, cvt.criteria[1].id: None},
                     "Only the first criterion applies.")
    unreviewed = make.application("submitted", cvt, manager=manager)
    db.session.commit()
    batch = scoring.threshold_problems_of(cvt, [a.id for a in apps + [unreviewed]])
    assert unreviewed.id not in batch
    for a in apps:
        assert batch[a.id] == scoring.threshold_problems(a), a.reference
    assert batch[apps[0].id] == []
    assert len(batch[apps[1].id]) == 2
    assert batch[apps[3].id] == [
        "Scored 1.00 of 5 in total (weighted); the call asks at least 3.00."]


def test_reviews_of_an_earlier_version_do_not_count(make):
    manager = make.manager()
    applicant = make.applicant()
    application = make.application("submitted", applicant=applicant, manager=manager)
    evaluator = make.evaluator()
    set_rules(application, threshold="3.00")
    score(application, evaluator, manager, 1, 1)
    assert scoring.threshold_problems(application)
    transitions.return_for_changes(application, manager, "Sharpen the market analysis.")
    transitions.submit(application, applicant)
    db.session.commit()
    assert application.submission_number == 2
    # The low review judged version 1: nothing of version 2 is judged yet.
    assert scoring.current_reviews(application) == []
    assert scoring.threshold_problems(application) == []
    if application.state == "submitted":
        transitions.start_review(application, manager)
        db.session.commit()
    score(application, evaluator, manager, 4, 4)
    assert scoring.ranking_score(application) == Decimal("4.00")
    assert scoring.threshold_problems(application) == []
