"""The ranking and the funding line: order and tie-breaks, what is proposed and why, and a
confirmation that applies the whole proposal or nothing.

The hypothesis test builds random calls (envelope, quota, maximum, per-SME cap, de minimis
declarations, thresholds, scores, same-region providers, SMEs with two applications) and
checks the proposal against a simulation written here from the rules, not from the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.helpers import login
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import AidDeclaration, Application, AuditRecord, EligibilityOverride
from vouchers.models.base import utcnow
from vouchers.services import funding_line, ranking, reviews, transitions
from vouchers.services.errors import ConcurrentChange
from vouchers.services.funding_line import AWARD, NONE, REJECT, WAITLIST, LineRefused

DE_MINIMIS_CAP = Decimal("300000.00")


@dataclass
class Team:
    """The people every application of a test needs: one manager, one evaluator."""

    make: object
    manager: object
    evaluator: object

    def ranked(self, cvt, *, scores=(4, 4), org=None, requested: str | None = None,
               same_region: bool = False, submitted_at=None) -> Application:
        """An application under review with one review of its current version."""
        applicant = self.make.applicant(org) if org is not None else self.make.applicant()
        application = self.make.draft(cvt, applicant, requested=requested)
        if same_region:
            org_ = applicant.organisation
            provider = self.make.provider(country=org_.country, region=org_.region)
            application.provider_id = provider.id
            db.session.commit()
        transitions.submit(application, applicant, now=submitted_at)
        reviews.assign(application, self.evaluator, self.manager)
        reviews.confirm_no_conflict(application, self.evaluator)
        reviews.submit_review(application, self.evaluator, recommendation="award",
                              comment="Fine.", scores={c.id: s for c, s in
                                                       zip(cvt.criteria, scores, strict=True)})
        db.session.commit()
        return application


@pytest.fixture
def team(app, make) -> Team:
    return Team(make, make.manager(), make.evaluator())


def _mv(make, **changes):
    """A call's market validation type, with ``changes`` set on it (columns, directly)."""
    call = make.call()
    call.max_applications_per_type = None
    cvt = call.voucher_type("market_validation")
    for name, value in changes.items():
        setattr(cvt, name, value)
    db.session.commit()
    return cvt


def _lines(proposal):
    return [(line.application.id, line.action, line.amount) for line in proposal.lines]


# --- the ranking -------------------------------------------------------------------------


def test_ranking_orders_by_score_then_first_criterion_then_submission_then_reference(team):
    cvt = _mv(team.make)
    same_moment = utcnow()
    # (4, 4) and (2, 5) both weigh 4.00 (weights 1 and 2): the first criterion decides.
    low_first = team.ranked(cvt, scores=(2, 5))
    high_first = team.ranked(cvt, scores=(4, 4))
    best = team.ranked(cvt, scores=(5, 5))
    later = team.ranked(cvt, scores=(3, 3), submitted_at=same_moment + timedelta(minutes=5))
    earlier = team.ranked(cvt, scores=(3, 3), submitted_at=same_moment)
    # Submitted at the same instant: the lower reference number first.
    twin_a = team.ranked(cvt, scores=(1, 1), submitted_at=same_moment)
    twin_b = team.ranked(cvt, scores=(1, 1), submitted_at=same_moment)
    not_ranked = team.make.application("submitted", cvt)  # no review yet
    order = [r.application for r in ranking.order(cvt)]
    assert order == [best, high_first, low_first, earlier, later, twin_a, twin_b]
    assert not_ranked not in order
    assert ranking.TIE_BREAK == ("higher score on the first criterion, then the earlier "
                                 "submission, then the lower reference number")


def test_consensus_score_ranks_instead_of_the_mean(team):
    cvt = _mv(team.make)
    mean_high = team.ranked(cvt, scores=(4, 4))
    agreed_higher = team.ranked(cvt, scores=(2, 2))
    agreed_higher.consensus_score = Decimal("5.00")
    db.session.commit()
    ranked = ranking.order(cvt)
    assert [r.application for r in ranked] == [agreed_higher, mean_high]
    assert ranked[0].consensus and not ranked[1].consensus


def test_position_of_a_waitlisted_application(team):
    cvt = _mv(team.make)
    first = team.ranked(cvt, scores=(5, 5))
    second = team.ranked(cvt, scores=(4, 4))
    third = team.ranked(cvt, scores=(3, 3))
    for a in (first, third):
        transitions.waitlist(a, team.manager)
    db.session.commit()
    assert ranking.position_of(third).rank == 3
    assert (ranking.position_of(third).reserve, ranking.position_of(third).reserve_size) == (2, 2)
    assert ranking.position_of(second).reserve is None
    assert ranking.position_of(team.make.application("draft", cvt)) is None


# --- what the proposal says ----------------------------------------------------------------


def test_greedy_walk_skips_what_does_not_fit_and_gives_the_next_that_does(team):
    cvt = _mv(team.make, envelope=Decimal("100000"), quota=3)
    a = team.ranked(cvt, scores=(5, 5), requested="60000")
    b = team.ranked(cvt, scores=(4, 4), requested="50000")  # 40,000 left: waitlisted
    c = team.ranked(cvt, scores=(3, 3), requested="30000")  # fits what is left
    d = team.ranked(cvt, scores=(2, 2), requested="10000")  # fits, the quota's last
    e = team.ranked(cvt, scores=(1, 1), requested="100")  # quota used up
    proposal = funding_line.propose(cvt)
    assert _lines(proposal) == [
        (a.id, AWARD, Decimal("60000.00")), (b.id, WAITLIST, Decimal("50000.00")),
        (c.id, AWARD, Decimal("30000.00")), (d.id, AWARD, Decimal("10000.00")),
        (e.id, WAITLIST, Decimal("100.00"))]
    assert "The envelope has €40,000.00 left" in proposal.lines[1].reason
    assert "quota is used up" in proposal.lines[4].reason
    assert proposal.awarded_total == Decimal("100000.00")


def test_the_amount_is_capped_at_the_type_maximum(team):
    cvt = _mv(team.make)
    a = team.ranked(cvt, requested="60000")
    cvt.max_amount = Decimal("45000")  # lowered after the application came in
    db.session.commit()
    line = funding_line.propose(cvt).lines[0]
    assert (line.application, line.action, line.amount) == (a, AWARD, Decimal("45000.00"))
    assert "capped" in line.reason


def test_below_threshold_is_proposed_for_rejection_with_the_reason(team):
    cvt = _mv(team.make, threshold=Decimal("3.00"))
    cvt.criteria[0].minimum = 3
    db.session.commit()
    low_total = team.ranked(cvt, scores=(2, 2))
    low_first = team.ranked(cvt, scores=(2, 5))  # total 4.00, first criterion 2 < 3
    lines = {line.application.id: line for line in funding_line.propose(cvt).lines}
    assert lines[low_total.id].action == REJECT
    assert "Scored 2.00 of 5 in total" in lines[low_total.id].reason
    assert lines[low_first.id].action == REJECT
    assert "Criterion 1" in lines[low_first.id].reason


def test_an_ineligible_application_is_left_to_the_manager_and_says_which_rule(team):
    cvt = _mv(team.make, provider_other_region=True)
    same_region = team.ranked(cvt, scores=(5, 5), same_region=True)
    fine = team.ranked(cvt, scores=(3, 3))
    proposal = funding_line.propose(cvt)
    assert _lines(proposal)[0] == (same_region.id, NONE, None)
    assert "Provider from another region" in proposal.lines[0].reason
    assert proposal.lines[1].application == fine and proposal.lines[1].action == AWARD
    # With the manager's exception, it is proposed like any other.
    db.session.add(EligibilityOverride(application_id=same_region.id, rule="provider_region",
                                       reason="The only lab able to do it.",
                                       by_id=team.manager.id))
    db.session.commit()
    assert funding_line.propose(cvt).lines[0].action == AWARD


def test_two_applications_of_one_sme_share_its_cap_and_de_minimis(team):
    make = team.make
    cvt = _mv(make)
    cvt.call.support_cap = Decimal("60000")
    db.session.commit()
    org = make.organisation()
    first = team.ranked(cvt, scores=(5, 5), org=org, requested="40000")
    second = team.ranked(cvt, scores=(4, 4), org=org, requested="30000")
    near_cap = make.organisation(declared="280000")
    third = team.ranked(cvt, scores=(3, 3), org=near_cap, requested="30000")
    lines = {line.application.id: line for line in funding_line.propose(cvt).lines}
    assert lines[first.id].action == AWARD
    assert lines[second.id].action == WAITLIST
    assert "cap per company" in lines[second.id].reason
    assert lines[third.id].action == WAITLIST
    assert "de minimis" in lines[third.id].reason


def test_an_already_waitlisted_application_stays(team):
    cvt = _mv(team.make, envelope=Decimal("1000"))
    a = team.ranked(cvt)
    transitions.waitlist(a, team.manager)
    db.session.commit()
    line = funding_line.propose(cvt).lines[0]
    assert line.action == WAITLIST and not line.applies
    assert line.label == "Stays on the waitlist"


# --- confirming ------------------------------------------------------------------------------


def _states(applications):
    db.session.expire_all()
    return [(a.state, a.awarded_amount) for a in applications]


def test_confirm_applies_every_line(team):
    cvt = _mv(team.make, envelope=Decimal("70000"), threshold=Decimal("2.00"))
    a = team.ranked(cvt, scores=(5, 5), requested="60000")
    b = team.ranked(cvt, scores=(4, 4), requested="60000")
    c = team.ranked(cvt, scores=(1, 1))
    proposal = funding_line.propose(cvt)
    funding_line.confirm(cvt, team.manager, proposal.fingerprint)
    db.session.commit()
    assert _states([a, b, c]) == [("awarded", Decimal("60000.00")), ("waitlisted", None),
                                  ("rejected", None)]
    assert (cvt.committed, cvt.awarded_count) == (Decimal("60000.00"), 1)
    assert "Below the call's threshold" in c.decision_reason


def test_a_change_since_the_proposal_refuses_the_confirmation_and_applies_nothing(team):
    cvt = _mv(team.make)
    a = team.ranked(cvt, scores=(5, 5))
    b = team.ranked(cvt, scores=(4, 4))
    proposal = funding_line.propose(cvt)
    transitions.award(b, team.manager, "1000")  # a colleague, meanwhile
    db.session.commit()
    with pytest.raises(ConcurrentChange, match="recompute it") as refused:
        funding_line.confirm(cvt, team.manager, proposal.fingerprint, basis=proposal.basis)
    assert "the type's awards changed" in refused.value.message
    db.session.rollback()
    assert _states([a]) == [("under_review", None)]


def test_one_refused_line_undoes_the_whole_proposal(team):
    cvt = _mv(team.make, threshold=Decimal("2.00"))
    a = team.ranked(cvt, scores=(5, 5))
    b = team.ranked(cvt, scores=(4, 4))
    c = team.ranked(cvt, scores=(1, 1))
    audit = db.session.scalar(select(func.count()).select_from(AuditRecord))
    proposal = funding_line.propose(cvt)
    with mock.patch.object(transitions, "reject", side_effect=ConcurrentChange("Busy.")), \
            pytest.raises(LineRefused, match=f"{c.reference} .*Busy. Nothing of the"):
        funding_line.confirm(cvt, team.manager, proposal.fingerprint)
    # Undone inside the transaction already, before any rollback by the caller.
    assert _states([a, b, c]) == [("under_review", None)] * 3
    assert (cvt.committed, cvt.awarded_count) == (Decimal("0.00"), 0)
    assert db.session.scalar(select(func.count()).select_from(AuditRecord)) == audit


# --- the pages -------------------------------------------------------------------------------


def test_pages_rank_propose_and_confirm(team, client):
    cvt = _mv(team.make, envelope=Decimal("60000"))
    a = team.ranked(cvt, scores=(5, 5), requested="60000")
    b = team.ranked(cvt, scores=(4, 4), requested="60000")
    base = f"/manage/calls/{cvt.call_id}/ranking/market_validation"
    login(client, team.manager)
    page = client.get(base).get_data(as_text=True)
    assert ranking.TIE_BREAK in page and a.reference in page
    assert client.get(f"/manage/calls/{cvt.call_id}/ranking/travel").status_code == 200
    assert client.get(f"/manage/calls/{cvt.call_id}/ranking/nonsense").status_code == 404
    assert client.get("/manage/calls/999999/ranking/travel").status_code == 404
    shown = client.post(base + "/propose")
    assert shown.status_code == 200
    text = shown.get_data(as_text=True)
    proposal = funding_line.propose(cvt)
    assert proposal.fingerprint in text and "Does not fit" in text
    assert _states([a, b]) == [("under_review", None)] * 2  # nothing committed
    done = client.post(base + "/confirm", data={"fingerprint": proposal.fingerprint,
                                                "basis": proposal.basis})
    assert done.status_code == 303
    assert _states([a, b]) == [("awarded", Decimal("60000.00")), ("waitlisted", None)]


def test_confirming_a_stale_proposal_answers_409_with_a_recompute_button(team, client):
    cvt = _mv(team.make)
    a = team.ranked(cvt)
    proposal = funding_line.propose(cvt)
    team.ranked(cvt)  # a new application enters the ranking meanwhile
    login(client, team.manager)
    base = f"/manage/calls/{cvt.call_id}/ranking/market_validation"
    response = client.post(base + "/confirm", data={"fingerprint": proposal.fingerprint,
                                                    "basis": proposal.basis})
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "The ranking changed since the proposal was made" in text
    assert "newly ranked" in text and "Recompute the proposal" in text
    assert _states([a]) == [("under_review", None)]
    assert client.post(base + "/confirm", data={"fingerprint": "x"}).status_code == 400


# --- random calls ------------------------------------------------------------------------------

amounts = st.integers(1, 600).map(lambda hundreds: Decimal(hundreds * 100))
score = st.one_of(st.none(), st.integers(0, 5))
application_specs = st.fixed_dictionaries({
    "org": st.integers(0, 3), "scores": st.tuples(score, score), "requested": amounts,
    # One in four chooses a provider in its own region (ineligible for this type).
    "same_region": st.sampled_from([False, False, False, True]),
})
call_specs = st.fixed_dictionaries({
    "envelope": st.integers(0, 150).map(lambda k: Decimal(k * 1000)),
    "quota": st.integers(0, 5),
    "max_amount": st.sampled_from([Decimal("20000"), Decimal("45000"), Decimal("60000")]),
    "support_cap": st.sampled_from([None, Decimal("30000"), Decimal("60000")]),
    "max_vouchers": st.sampled_from([None, 1, 2]),
    "threshold": st.sampled_from([None, Decimal("2.50"), Decimal("3.50")]),
    "minimum": st.sampled_from([None, 2]),
    "declared": st.lists(st.sampled_from([Decimal(0), Decimal("250000"), Decimal("290000"),
                                          Decimal("299000")]), min_size=4, max_size=4),
    "prior": st.lists(st.booleans(), min_size=4, max_size=4),
    "applications": st.lists(application_specs, min_size=1, max_size=6),
    "fail_at": st.one_of(st.none(), st.integers(0, 5)),
})


def _weighted(scores) -> Decimal | None:
    pairs = [(s, w) for s, w in zip(scores, (1, 2), strict=True) if s is not None]
    if not pairs:
        return None
    return (Decimal(sum(s * w for s, w in pairs)) / sum(w for _, w in pairs)).quantize(
        Decimal("0.01"))


def _build(team, spec):
    make = team.make
    cvt = _mv(make, envelope=spec["envelope"], quota=spec["quota"], provider_other_region=True,
              threshold=spec["threshold"])
    call = cvt.call
    call.support_cap, call.max_vouchers_per_sme = spec["support_cap"], spec["max_vouchers"]
    cvt.criteria[0].minimum = spec["minimum"]
    db.session.commit()
    orgs, held = [], {}
    for declared, prior in zip(spec["declared"], spec["prior"], strict=True):
        org = make.organisation()
        orgs.append(org)
        held[org.id] = (1, Decimal("5000.00")) if prior else (0, Decimal("0.00"))
        if prior:  # a travel voucher of 5,000 in the same call
            make.application("awarded", call.voucher_type("travel"), applicant=make.applicant(org),
                             manager=team.manager, evaluator=team.evaluator)
        if declared:  # declared after the award: the standing may start above the cap
            org.aid_declarations.append(AidDeclaration(
                granting_body="Regional fund", granted_on=today(), amount=declared))
            db.session.commit()
    built = {}
    for a in spec["applications"]:
        application = team.ranked(cvt, scores=a["scores"], org=orgs[a["org"]],
                                  requested=str(a["requested"]), same_region=a["same_region"])
        built[application.id] = a
    cvt.max_amount = spec["max_amount"]  # lowered after submission: amounts get capped
    db.session.commit()
    declared = {org.id: d for org, d in zip(orgs, spec["declared"], strict=True)}
    return cvt, built, held, declared


def _simulate(spec, proposal, built, held, declared):
    """The expected action of each line, walked here from the rules; asserts as it goes."""
    envelope, quota = spec["envelope"], spec["quota"]
    vouchers = {org: n for org, (n, _) in held.items()}
    support = {org: s for org, (_, s) in held.items()}
    de_minimis = {org: declared[org] + held[org][1] for org in held}
    for line in proposal.lines:
        a, application = built[line.application.id], line.application
        org = application.organisation_id
        total = _weighted(a["scores"])
        first = a["scores"][0]
        below = ((spec["threshold"] is not None and (total is None or total < spec["threshold"]))
                 or (spec["minimum"] is not None and first is not None
                     and first < spec["minimum"]))
        amount = min(a["requested"], spec["max_amount"])
        fits = (quota >= 1 and amount <= envelope
                and (spec["max_vouchers"] is None or vouchers[org] + 1 <= spec["max_vouchers"])
                and (spec["support_cap"] is None or support[org] + amount <= spec["support_cap"])
                and de_minimis[org] + amount <= DE_MINIMIS_CAP)
        expected = (NONE if a["same_region"] else REJECT if below
                    else AWARD if fits else WAITLIST)
        assert line.action == expected, (line, a)
        if expected == AWARD:
            assert line.amount == amount
            envelope -= amount
            quota -= 1
            vouchers[org] += 1
            support[org] += amount
            de_minimis[org] += amount
    # The limits hold over the whole proposal.
    assert proposal.awarded_total <= spec["envelope"]
    assert len(proposal.awards) <= spec["quota"]
    # (An SME may start above a cap through its declarations; it then gets nothing here.)
    given = {line.application.organisation_id for line in proposal.awards}
    assert all(de_minimis[org] <= DE_MINIMIS_CAP for org in given)
    assert spec["support_cap"] is None or all(support[org] <= spec["support_cap"]
                                              for org in given)


def _rank_key(line, built):
    a = built[line.application.id]
    total, first = _weighted(a["scores"]), a["scores"][0]
    return (total is None, -(total or 0), first is None, -(first or 0),
            line.application.submitted_at, line.application.reference)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(spec=call_specs)
def test_random_calls_propose_within_every_limit_rank_monotone_and_confirm_whole(team, spec):
    cvt, built, held, declared = _build(team, spec)
    proposal = funding_line.propose(cvt)
    assert sorted(line.application.id for line in proposal.lines) == sorted(built)
    keys = [_rank_key(line, built) for line in proposal.lines]
    assert keys == sorted(keys)
    _simulate(spec, proposal, built, held, declared)
    applications = [line.application for line in proposal.lines]
    before = _states(applications)
    to_apply = proposal.to_apply
    fail_at = spec["fail_at"]
    if fail_at is not None and fail_at < len(to_apply):
        target = to_apply[fail_at].application.id
        real = {name: getattr(transitions, name) for name in ("award", "waitlist", "reject")}

        def refusing(name):
            def run(application, *args, **kwargs):
                if application.id == target:
                    raise ConcurrentChange("Refused for the test.")
                return real[name](application, *args, **kwargs)
            return run

        with mock.patch.multiple(transitions, **{n: refusing(n) for n in real}), \
                pytest.raises(LineRefused):
            funding_line.confirm(cvt, team.manager, proposal.fingerprint)
        assert _states(applications) == before
        assert (cvt.committed, cvt.awarded_count) == (Decimal("0.00"), 0)
        db.session.rollback()
        return
    funding_line.confirm(cvt, team.manager, proposal.fingerprint)
    db.session.commit()
    after = dict(zip([a.id for a in applications], _states(applications), strict=True))
    for line in proposal.lines:
        state, awarded = after[line.application.id]
        expected = {AWARD: "awarded", REJECT: "rejected", WAITLIST: "waitlisted",
                    NONE: "under_review"}[line.action]
        assert state == expected
        assert awarded == (line.amount if line.action == AWARD else None)
    assert cvt.committed == proposal.awarded_total
    assert cvt.awarded_count == len(proposal.awards)
