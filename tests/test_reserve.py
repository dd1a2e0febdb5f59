"""The reserve list: money returned to an envelope is offered to the waitlisted in rank
order; the manager promotes the first; applicants see their place on the list."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.helpers import login
from tests.test_funding_line import Team, _mv, _states
from vouchers.extensions import db
from vouchers.services import funding_line, reporting, reserve, transitions
from vouchers.services.errors import ConcurrentChange, InvalidInput


@pytest.fixture
def team(app, make) -> Team:
    return Team(make, make.manager(), make.evaluator())


@pytest.fixture
def line(team):
    """Envelope 100,000: two awarded by the funding line, three waitlisted after them."""
    cvt = _mv(team.make, envelope=Decimal("100000"), quota=4)
    awarded = [team.ranked(cvt, scores=(5, 5), requested="60000"),
               team.ranked(cvt, scores=(5, 4), requested="40000")]
    waiting = [team.ranked(cvt, scores=(4, 4), requested="50000"),
               team.ranked(cvt, scores=(4, 3), requested="30000"),
               team.ranked(cvt, scores=(3, 3), requested="20000")]
    proposal = funding_line.propose(cvt)
    funding_line.confirm(cvt, team.manager, proposal.fingerprint)
    db.session.commit()
    assert _states(awarded + waiting) == [("awarded", Decimal("60000.00")),
                                          ("awarded", Decimal("40000.00"))] + [
        ("waitlisted", None)] * 3
    return cvt, awarded, waiting


def _offer(cvt):
    return next(o for o in reserve.offers(cvt.call) if o.cvt.id == cvt.id)


def test_nothing_is_offered_while_the_envelope_is_spent(line):
    cvt, _, waiting = line
    offer = _offer(cvt)
    assert offer.waiting == 3 and offer.lines == [] and offer.first is None
    assert "The envelope has €0.00 left" in offer.walk.lines[0].reason


def test_a_cancelled_voucher_offers_the_first_waitlisted_that_fits_and_it_is_promoted(team, line):
    cvt, awarded, waiting = line
    transitions.cancel(awarded[1], team.manager, "The company gave up.")  # 40,000 back
    db.session.commit()
    offer = _offer(cvt)
    # The first waitlisted asks 50,000 and does not fit; the next two do (30,000 + 20,000
    # would not both fit 40,000: only the first of them is offered).
    assert [(x.application, x.rank, x.amount) for x in offer.lines] == [
        (waiting[1], 2, Decimal("30000.00"))]
    assert [a.id for a in offer.applications] == [waiting[1].id]
    promoted = reserve.promote(waiting[1], team.manager, offer.fingerprint)
    db.session.commit()
    assert promoted.amount == Decimal("30000.00")
    assert _states(waiting) == [("waitlisted", None), ("awarded", Decimal("30000.00")),
                                ("waitlisted", None)]
    assert "Promoted from the reserve list (number 2)" in waiting[1].audit_records[-1].comment
    assert (cvt.committed, cvt.awarded_count) == (Decimal("90000.00"), 2)


def test_promotion_refuses_a_stale_offer_or_one_that_is_not_first(team, line):
    cvt, awarded, waiting = line
    transitions.cancel(awarded[0], team.manager, "Gave up.")  # 60,000 back: 50k then nothing
    db.session.commit()
    offer = _offer(cvt)
    assert [x.application for x in offer.lines] == [waiting[0]]
    with pytest.raises(ConcurrentChange, match="ranks higher on the reserve list"):
        reserve.promote(waiting[1], team.manager, offer.fingerprint)
    db.session.rollback()
    with pytest.raises(ConcurrentChange, match="changed since it was shown"):
        reserve.promote(waiting[0], team.manager, "0" * 64)
    db.session.rollback()
    assert _states(waiting) == [("waitlisted", None)] * 3


def test_promotion_of_what_does_not_fit_says_why(team, line):
    cvt, _, waiting = line
    offer = _offer(cvt)
    with pytest.raises(InvalidInput, match="does not fit now"):
        reserve.promote(waiting[0], team.manager, offer.fingerprint)


def test_the_dashboard_offers_and_promotes(team, line, client):
    cvt, awarded, waiting = line
    transitions.cancel(awarded[1], team.manager, "Gave up.")
    db.session.commit()
    login(client, team.manager)
    page = client.get(f"/manage/calls/{cvt.call_id}/dashboard").get_data(as_text=True)
    offer = _offer(cvt)
    assert 'id="reserve-offers"' in page and offer.fingerprint in page
    assert waiting[1].reference in page and "Promote and award €30,000.00" in page
    assert f"/manage/calls/{cvt.call_id}/ranking/market_validation" in page
    stale = client.post(f"/manage/applications/{waiting[1].id}/promote",
                        data={"fingerprint": "f" * 64})
    assert stale.status_code == 303 and "#reserve-offers" in stale.headers["Location"]
    assert "changed since it was shown" in client.get(stale.headers["Location"]).get_data(
        as_text=True)
    done = client.post(f"/manage/applications/{waiting[1].id}/promote",
                       data={"fingerprint": offer.fingerprint})
    assert done.status_code == 303
    assert _states([waiting[1]]) == [("awarded", Decimal("30000.00"))]


def test_applicants_see_their_place_on_the_reserve_list(team, line, client):
    _, awarded, waiting = line
    for number, application in enumerate(waiting, start=1):
        login(client, application.applicant)
        page = client.get(f"/apply/applications/{application.id}").get_data(as_text=True)
        assert (f"You are number {number} on the reserve list of market validation"
                in page)
    login(client, awarded[0].applicant)
    page = client.get(f"/apply/applications/{awarded[0].id}").get_data(as_text=True)
    assert "on the reserve list" not in page


def test_the_managers_application_page_shows_rank_and_reserve_place(team, line, client):
    _, _, waiting = line
    login(client, team.manager)
    page = client.get(f"/manage/applications/{waiting[2].id}").get_data(as_text=True)
    assert "Rank 3 of 3" in page and "number 3 of 3 on its reserve list" in page


def test_a_waitlisted_application_waits_while_a_higher_ranked_undecided_one_takes_the_money(
        team, line):
    """The reserve list follows the ranking: an application still under review that ranks
    above the waitlisted and fits is the funding line's to award, so nothing is offered."""
    cvt, awarded, waiting = line
    newcomer = team.ranked(cvt, scores=(5, 5), requested="40000")
    transitions.cancel(awarded[1], team.manager, "The company gave up.")  # 40,000 back
    db.session.commit()
    offer = _offer(cvt)
    assert offer.waiting == 3 and offer.lines == []
    proposal = funding_line.propose(cvt)
    assert [(x.application, x.action) for x in proposal.awards] == [(newcomer, "award")]


def _close_out(application, manager, actual_costs: str) -> None:
    """The final report of ``application`` at ``actual_costs``, approved."""
    reporting.start_reporting(application, application.applicant)
    reporting.save_final_report(application, application.applicant, summary="Study done.",
                                actual_costs=actual_costs)
    reporting.submit_final_report(application, application.applicant)
    reporting.approve_report(application, manager)
    db.session.commit()


def test_money_released_at_close_out_is_what_the_reserve_list_offers(team, line):
    cvt, awarded, waiting = line
    # 13,333.33 of costs at 75%: 10,000 payable of the 40,000 awarded, 30,000 released.
    _close_out(awarded[1], team.manager, "13333.33")
    assert awarded[1].state == "completed"
    assert (awarded[1].released_amount, cvt.remaining_envelope) == (Decimal("30000.00"),
                                                                    Decimal("30000.00"))

    offer = _offer(cvt)
    # 50,000 does not fit the 30,000 released; the next, 30,000, does.
    assert [(x.application, x.amount) for x in offer.lines] == [(waiting[1],
                                                                 Decimal("30000.00"))]
    reserve.promote(waiting[1], team.manager, offer.fingerprint)
    db.session.commit()
    assert _states(waiting) == [("waitlisted", None), ("awarded", Decimal("30000.00")),
                                ("waitlisted", None)]
    assert cvt.remaining_envelope == Decimal("0.00")


def test_a_report_of_no_costs_offers_its_money_and_its_quota_place(team, make):
    """Quota 2, both places taken: the zero report gives back its place and its 60,000."""
    cvt = _mv(make, envelope=Decimal("120000"), quota=2)
    awarded = [team.ranked(cvt, scores=(5, 5), requested="60000"),
               team.ranked(cvt, scores=(5, 4), requested="60000")]
    waiting = team.ranked(cvt, scores=(4, 4), requested="50000")
    funding_line.confirm(cvt, team.manager, funding_line.propose(cvt).fingerprint)
    db.session.commit()
    assert _offer(cvt).lines == []

    _close_out(awarded[0], team.manager, "0")

    assert awarded[0].state == "paid" and cvt.awarded_count == 1
    offer = _offer(cvt)
    assert [(x.application, x.amount) for x in offer.lines] == [(waiting, Decimal("50000.00"))]
