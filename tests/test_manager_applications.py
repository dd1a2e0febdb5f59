"""The manager's applications table and an application's page with its actions."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from tests.helpers import login, snapshot
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.manager.applications import ACTIONS
from vouchers.manager.forms import ApplicationFilterForm
from vouchers.models import Assignment, Attachment, AuditRecord, LedgerEntry
from vouchers.models.base import utcnow
from vouchers.services import reporting, reviews, settlement
from vouchers.services.listing import TableQuery, applications_page


@pytest.fixture
def manager(make, client):
    user = make.manager()
    login(client, user)
    return user


def page(response) -> str:
    return response.get_data(as_text=True)


def audit_count(application) -> int:
    return len(db.session.scalars(
        select(AuditRecord).where(AuditRecord.application_id == application.id)
    ).all())


def money_movements(application) -> int:
    """Ledger entries besides the commitment, whose audit record is the award's own."""
    return db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.application_id == application.id, LedgerEntry.kind != "commitment"))


# --- the table --------------------------------------------------------------------------


def test_table_lists_submitted_applications_of_the_call_but_not_drafts(client, make, manager):
    call = make.call()
    mv = call.voucher_type("market_validation")
    submitted = make.application("submitted", mv)
    rejected = make.application("rejected", mv, manager=manager)
    draft = make.application("draft", mv)
    other_call = make.application("submitted", make.call().voucher_type("travel"))

    html = page(client.get(f"/manage/applications?call={call.id}"))

    assert submitted.reference in html and rejected.reference in html
    assert submitted.organisation.legal_name in html
    assert draft.reference not in html
    assert other_call.reference not in html
    assert "Applications 1–2 of 2" in html


def test_table_filters_by_type_state_country_and_text(client, make, manager):
    call = make.call()
    travel = make.application("submitted", call.voucher_type("travel"))
    mv_nl = make.application("submitted", call.voucher_type("market_validation"))
    mv_dk = make.application("under_review", call.voucher_type("market_validation"),
                             applicant=make.applicant(country="DK"), manager=manager)
    base = f"/manage/applications?call={call.id}"

    by_type = page(client.get(f"{base}&type=travel"))
    assert travel.reference in by_type and mv_nl.reference not in by_type

    by_state = page(client.get(f"{base}&state=under_review"))
    assert mv_dk.reference in by_state and mv_nl.reference not in by_state

    by_country = page(client.get(f"{base}&country=DK"))
    assert mv_dk.reference in by_country and travel.reference not in by_country

    by_name = page(client.get(f"{base}&q={mv_nl.organisation.legal_name.lower()}"))
    assert mv_nl.reference in by_name and travel.reference not in by_name

    by_reference = page(client.get(f"{base}&q={travel.reference[-8:]}"))
    assert travel.reference in by_reference and mv_dk.reference not in by_reference

    wildcard = page(client.get(f"{base}&q=%25"))
    assert "No application matches these filters." in wildcard


def test_table_sorts_by_score_best_first_with_unscored_last(client, make, manager):
    call = make.call()
    mv = call.voucher_type("market_validation")
    low = make.application("submitted", mv)
    make.review(low, manager=manager, score=2)
    high = make.application("submitted", mv)
    make.review(high, manager=manager, score=5)
    unscored = make.application("submitted", mv)

    best_first = page(client.get(f"/manage/applications?call={call.id}&sort=score"))
    assert (best_first.index(high.reference) < best_first.index(low.reference)
            < best_first.index(unscored.reference))

    worst_first = page(client.get(f"/manage/applications?call={call.id}&sort=score&dir=asc"))
    assert (worst_first.index(low.reference) < worst_first.index(high.reference)
            < worst_first.index(unscored.reference))


def test_table_pages_through_applications_newest_first(client, make, manager):
    call = make.call()
    mv = call.voucher_type("market_validation")
    apps = [make.application("submitted", mv) for _ in range(12)]

    first = page(client.get(f"/manage/applications?call={call.id}&per_page=10"))
    second = page(client.get(f"/manage/applications?call={call.id}&per_page=10&page=2"))

    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert apps[-1].reference in first and apps[0].reference not in first
    assert apps[0].reference in second and apps[1].reference in second
    assert "Applications 11–12 of 12" in second
    # Past the last page shows the last page rather than nothing.
    beyond = page(client.get(f"/manage/applications?call={call.id}&per_page=10&page=99"))
    assert "Page 2 of 2" in beyond


def test_table_defaults_to_the_open_call(client, make, manager):
    closed = make.call(open_now=False)
    open_call = make.call()
    in_open = make.application("submitted", open_call.voucher_type("travel"))
    assert closed.id != open_call.id

    html = page(client.get("/manage/applications"))

    assert in_open.reference in html


@pytest.mark.parametrize("query, message", [
    ("state=bogus", "Choose one of the states"),
    ("type=lottery", "Choose one of the voucher types."),
    ("country=Narnia", "No applicant comes from that country."),
    ("sort=popularity", "Sort by date or by score."),
    ("dir=sideways", "Order descending or ascending."),
    ("per_page=100000", "Show 10, 25, 50 or 100 per page."),
    ("per_page=many", "Show 10, 25, 50 or 100 per page."),
    ("call=999999", "There is no such call."),
    ("call=x", "There is no such call."),
])
def test_invalid_filters_are_explained_not_a_server_error(client, make, manager, query, message):
    make.call()
    response = client.get(f"/manage/applications?{query}")
    assert response.status_code == 400
    html = page(response)
    assert "Some filters are not valid" in html
    assert message in html


@pytest.mark.parametrize("value", ["abc", "0", "99999999999999999999", "\uff11"])
def test_a_page_number_out_of_range_is_refused_with_the_reason(client, make, manager, value):
    make.call()
    response = client.get("/manage/applications", query_string={"page": value})
    assert response.status_code == 400
    assert "must be a page number from 1 to 1,000,000" in page(response)


def test_table_without_any_call_says_so(client, manager):
    assert "No call has been set up yet." in page(client.get("/manage/applications"))


def test_other_roles_do_not_reach_the_manager_pages(client, make):
    application = make.application("submitted")
    login(client, make.evaluator())
    assert client.get("/manage/applications").status_code == 404
    assert client.get(f"/manage/applications/{application.id}").status_code == 404


# --- the application page ---------------------------------------------------------------


def test_application_page_shows_reviews_average_spread_assignments_and_history(
        client, make, manager):
    application = make.application("submitted")
    first = make.review(application, manager=manager, score=2)
    second = make.review(application, manager=manager, score=5)
    conflicted = make.evaluator()
    reviews.assign(application, conflicted, manager)
    reviews.declare_conflict(application, conflicted, "I advised this company last year.")
    db.session.commit()

    html = page(client.get(f"/manage/applications/{application.id}"))

    assert application.title in html and application.organisation.legal_name in html
    assert first.name in html and second.name in html
    assert "Criterion 1" in html and "Criterion 2" in html
    assert "Weighted average: <strong>3.50</strong>" in html
    assert "spread between evaluators: <strong>3.00</strong>" in html
    assert "Conflict of interest" in html and "I advised this company last year." in html
    # Two evaluators still stand, as many as wanted: no flag.
    assert "Needs another evaluator" not in html
    assert "Submitted → Under review" in html  # the audit trail
    for label in ("Award", "Reject", "Waitlist", "Return for changes"):
        assert f">{label}</button>" in html


def test_a_conflict_that_leaves_too_few_evaluators_is_flagged(client, make, manager):
    application = make.application("submitted")
    evaluator = make.evaluator()
    reviews.assign(application, evaluator, manager)
    reviews.declare_conflict(application, evaluator, "Former employer.")
    db.session.commit()

    html = page(client.get(f"/manage/applications/{application.id}"))

    assert "Needs another evaluator" in html


def test_attachments_are_listed_even_without_the_files_area(client, make, manager):
    application = make.application("submitted")
    db.session.add(Attachment(application_id=application.id, original_name="quote.pdf",
                              stored_name="a" * 32, content_type="application/pdf", size=2048,
                              uploaded_by_id=application.applicant_id))
    db.session.commit()

    response = client.get(f"/manage/applications/{application.id}")

    assert response.status_code == 200
    assert "quote.pdf" in page(response)


def test_unknown_application_or_action_is_404(client, make, manager):
    application = make.application("submitted")
    assert client.get("/manage/applications/999999").status_code == 404
    assert client.get("/manage/applications/2147483648").status_code == 404
    assert client.post("/manage/applications/2147483648/actions/award").status_code == 404
    assert client.post("/manage/applications/2147483648/assignments").status_code == 404
    assert client.post(f"/manage/applications/{application.id}/actions/pay").status_code == 404


# --- actions ----------------------------------------------------------------------------


def test_award_with_an_amount_lower_than_requested(client, make, manager):
    application = make.application("under_review", manager=manager)
    html = page(client.get(f"/manage/applications/{application.id}"))
    assert f'value="{application.requested_amount:.2f}"' in html  # the default amount

    response = client.post(f"/manage/applications/{application.id}/actions/award",
                           data={"award-amount": "20000.00", "award-comment": "Strong case."})

    assert response.status_code == 303
    db.session.expire_all()
    assert application.state == "awarded"
    assert application.awarded_amount == Decimal("20000.00")
    assert application.call_voucher_type.committed == Decimal("20000.00")
    assert "Voucher awarded." in page(client.get(response.headers["Location"]))


def _refused(client, application, action, data, message, within=None, end="</form>"):
    """The service refuses (422): its message next to the action, and no row changed."""
    before = snapshot()

    response = client.post(f"/manage/applications/{application.id}/actions/{action}", data=data)

    html = page(response)
    assert response.status_code == 422
    # The message sits inside the action's own form (or the actions section when the
    # application's state no longer offers the action).
    start = html.index(within or f'id="action-{action}"')
    assert start < html.index(message, start) < html.index(end, start)
    assert snapshot() == before


def test_award_beyond_the_envelope_is_refused_and_changes_nothing(client, make, manager):
    call = make.call({"market_validation": (6, "60000", "0.75", "50000")})
    mv = call.voucher_type("market_validation")
    make.application("awarded", mv, manager=manager, requested="40000")
    application = make.application("under_review", mv, manager=manager, requested="30000")

    _refused(client, application, "award", {"award-amount": "30000"},
             "would exceed the market validation envelope")


def test_award_beyond_the_quota_is_refused_and_changes_nothing(client, make, manager):
    call = make.call({"travel": (1, "5000", "1.00", "60000")})
    travel = call.voucher_type("travel")
    make.application("awarded", travel, manager=manager)
    application = make.application("under_review", travel, manager=manager)

    _refused(client, application, "award", {"award-amount": "1000"},
             "The quota of 1 travel vouchers is used up")


def test_award_with_a_bad_amount_is_shown_next_to_the_field(client, make, manager):
    application = make.application("under_review", manager=manager)
    response = client.post(f"/manage/applications/{application.id}/actions/award",
                           data={"award-amount": "12,5"})
    assert response.status_code == 400
    assert "with a dot for cents" in page(response)
    db.session.expire_all()
    assert application.state == "under_review"


def test_award_from_a_state_that_does_not_allow_it_is_refused(client, make, manager):
    application = make.application("submitted")
    _refused(client, application, "award", {"award-amount": "1000"},
             "Not possible now: the application is submitted", within='id="actions-heading"',
             end="</section>")


def test_reject_needs_a_reason(client, make, manager):
    application = make.application("under_review", manager=manager)
    _refused(client, application, "reject", {"reject-comment": " "},
             "Give the reason for the rejection.")

    client.post(f"/manage/applications/{application.id}/actions/reject",
                data={"reject-comment": "Outside the programme's scope."})
    db.session.expire_all()
    assert application.state == "rejected"
    assert application.decision_reason == "Outside the programme's scope."


ACTION_CASES = [
    ("under_review", "award", {"award-amount": "1000"}, "awarded"),
    ("under_review", "reject", {"reject-comment": "Out of scope."}, "rejected"),
    ("under_review", "waitlist", {}, "waitlisted"),
    ("submitted", "return_for_changes", {"return_for_changes-comment": "Add a quote."},
     "returned"),
    ("submitted", "start_review", {}, "under_review"),
    ("awarded", "cancel", {"cancel-comment": "The company closed."}, "cancelled"),
    ("awarded", "start_reporting", {}, "reporting"),
    ("report_submitted", "approve_report", {}, "completed"),
    ("report_submitted", "return_report", {"return_report-comment": "Add the invoices."},
     "reporting"),
    # A part payment: the voucher stays completed until payments reach the payable amount.
    ("completed", "record_payment",
     {"record_payment-amount": "100", "record_payment-paid_on": "today",
      "record_payment-reference": "BANK-7"}, "completed"),
]


def test_every_action_of_the_page_is_tried_below():
    assert sorted(name for _, name, _, _ in ACTION_CASES) == sorted(ACTIONS)


@pytest.mark.parametrize("state, action, data, expected", ACTION_CASES)
def test_each_action_moves_the_application(client, make, manager, state, action, data,
                                           expected):
    application = make.application(state, manager=manager)
    html = page(client.get(f"/manage/applications/{application.id}"))
    assert f'id="action-{action}"' in html
    records, movements = audit_count(application), money_movements(application)
    data = {k: today().isoformat() if v == "today" else v for k, v in data.items()}

    response = client.post(f"/manage/applications/{application.id}/actions/{action}",
                           data=data)

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/manage/applications/{application.id}")
    db.session.expire_all()
    assert application.state == expected
    # One audit record per state change and one per movement of money (a payment, the
    # release of a cancelled voucher's money), written by the manager who acted.
    moved = money_movements(application) - movements
    assert audit_count(application) == records + (expected != state) + moved
    assert moved == (action in ("cancel", "record_payment"))
    assert ACTIONS[action].done in page(client.get(response.headers["Location"]))


def test_cancel_returns_the_money_to_the_envelope(client, make, manager):
    application = make.application("awarded", manager=manager)
    client.post(f"/manage/applications/{application.id}/actions/cancel",
                data={"cancel-comment": "Given up."})
    db.session.expire_all()
    assert application.call_voucher_type.committed == Decimal("0.00")


def test_the_final_report_is_shown_with_the_payable_amount(client, make, manager):
    application = make.application("report_submitted", manager=manager, amount="30000")
    # Costs of 60,000 at 75% would pay 45,000; the award caps it at 30,000.
    html = page(client.get(f"/manage/applications/{application.id}"))
    assert "Final report" in html and "Done." in html
    assert "Payable</dt><dd>€30,000.00" in html
    assert ">Approve final report</button>" in html
    assert ">Return final report</button>" in html


def test_record_payment_defaults_to_what_remains_and_closes_the_voucher(client, make, manager):
    application = make.application("completed", manager=manager)
    payable = settlement.payable(application)
    html = page(client.get(f"/manage/applications/{application.id}"))
    assert f'value="{payable:.2f}"' in html

    part = (payable / 2).quantize(Decimal("0.01"))
    response = client.post(
        f"/manage/applications/{application.id}/actions/record_payment",
        data={"record_payment-amount": str(part), "record_payment-paid_on": today().isoformat(),
              "record_payment-reference": "BANK-1", "record_payment-invoice_number": "INV-9",
              "record_payment-invoice_date": today().isoformat()},
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert application.state == "completed" and application.paid_amount == part
    html = page(client.get(f"/manage/applications/{application.id}"))
    assert "BANK-1" in html and "INV-9" in html
    assert f'value="{payable - part:.2f}"' in html

    client.post(
        f"/manage/applications/{application.id}/actions/record_payment",
        data={"record_payment-amount": str(payable - part),
              "record_payment-paid_on": today().isoformat(),
              "record_payment-reference": "BANK-2"},
    )
    db.session.expire_all()
    assert application.state == "paid"


def test_a_payment_above_the_payable_amount_is_refused(client, make, manager):
    application = make.application("completed", manager=manager)
    payable = settlement.payable(application)
    response = client.post(
        f"/manage/applications/{application.id}/actions/record_payment",
        data={"record_payment-amount": str(payable + 1),
              "record_payment-paid_on": today().isoformat(),
              "record_payment-reference": "BANK-1"},
    )
    assert response.status_code == 422
    assert "still payable" in page(response)
    db.session.expire_all()
    assert application.paid_amount == Decimal("0.00")


# --- assignment by hand -----------------------------------------------------------------


def test_assign_an_evaluator_by_hand(client, make, manager):
    application = make.application("submitted")
    evaluator = make.evaluator()
    html = page(client.get(f"/manage/applications/{application.id}"))
    assert evaluator.name in html
    # Nobody is preselected: the first option asks for a choice.
    assert re.search(r'<select[^>]*name="assign-evaluator"[^>]*>\s*'
                     r'<option selected value="">Choose an evaluator</option>', html)
    response = client.post(f"/manage/applications/{application.id}/assignments",
                           data={"assign-evaluator": ""})
    assert response.status_code == 400

    response = client.post(f"/manage/applications/{application.id}/assignments",
                           data={"assign-evaluator": str(evaluator.id)})

    assert response.status_code == 303
    assert response.headers["Location"].endswith("#assignments-heading")
    db.session.expire_all()
    assert application.state == "under_review"
    assert reviews.active_assignment(application, evaluator) is not None


def test_evaluators_of_the_applicants_organisation_are_refused(client, make, manager):
    application = make.application("submitted")
    colleague = make.evaluator(organisation=application.organisation)
    html = page(client.get(f"/manage/applications/{application.id}"))
    assert f'value="{colleague.id}"' not in html  # not even offered

    response = client.post(f"/manage/applications/{application.id}/assignments",
                           data={"assign-evaluator": str(colleague.id)})

    assert response.status_code == 422
    assert "works for the applicant&#39;s organisation" in page(response)
    assert db.session.scalar(select(Assignment).where(
        Assignment.evaluator_id == colleague.id)) is None


def test_an_evaluator_who_declared_a_conflict_cannot_be_assigned_again(client, make, manager):
    application = make.application("submitted")
    evaluator = make.evaluator()
    reviews.assign(application, evaluator, manager)
    reviews.declare_conflict(application, evaluator, "My cousin runs it.")
    db.session.commit()

    response = client.post(f"/manage/applications/{application.id}/assignments",
                           data={"assign-evaluator": str(evaluator.id)})

    assert response.status_code == 422
    assert "declared a conflict of interest" in page(response)


def test_assigning_a_non_evaluator_is_refused(client, make, manager):
    application = make.application("submitted")
    response = client.post(f"/manage/applications/{application.id}/assignments",
                           data={"assign-evaluator": str(application.applicant_id)})
    assert response.status_code == 422
    assert "is not an active evaluator" in page(response)
    response = client.post(f"/manage/applications/{application.id}/assignments",
                           data={"assign-evaluator": "999999"})
    assert response.status_code == 422
    assert "Choose an evaluator from the list." in page(response)
    for value in ("nobody", "", "99999999999999999999", "-3"):
        response = client.post(f"/manage/applications/{application.id}/assignments",
                               data={"assign-evaluator": value})
        assert response.status_code == 400, value
        assert "Choose an evaluator from the list." in page(response), value


def test_no_assignment_form_once_decided(client, make, manager):
    application = make.application("awarded", manager=manager)
    html = page(client.get(f"/manage/applications/{application.id}"))
    assert "Assign an evaluator" not in html
    assert utcnow()  # the page rendered with times in the programme's zone


def test_actions_need_a_csrf_token(app, client, make, manager):
    application = make.application("under_review", manager=manager)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post(f"/manage/applications/{application.id}/actions/award",
                               data={"award-amount": "1000"})
        assignment = client.post(f"/manage/applications/{application.id}/assignments",
                                 data={"assign-evaluator": str(make.evaluator().id)})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400 and assignment.status_code == 400
    db.session.expire_all()
    assert application.state == "under_review"


def test_page_links_keep_the_filters_and_move_through_the_pages(client, make, manager):
    call = make.call()
    travel = call.voucher_type("travel")
    references = [make.application("submitted", travel).reference for _ in range(21)]

    html = page(client.get(f"/manage/applications?call={call.id}&type=travel&per_page=10"
                           "&sort=date&dir=asc&page=2"))

    assert "Page 2 of 3" in html
    assert references[10] in html and references[9] not in html
    base = f"/manage/applications?call={call.id}&amp;type=travel&amp;sort=date&amp;dir=asc"
    for label, number in (("First", 1), ("Previous", 1), ("Next", 3), ("Last", 3)):
        assert f'href="{base}&amp;per_page=10&amp;page={number}"' in html, label
    last = page(client.get(f"/manage/applications?call={call.id}&type=travel&per_page=10"
                           "&sort=date&dir=asc&page=3"))
    assert references[20] in last and ">Next<" not in last


# --- what the page offers ---------------------------------------------------------------

# Written out by hand from the lifecycle (not computed by the policy), so a predicate that
# offers the wrong action fails here.
OFFERED = {
    "submitted": {"start_review", "reject", "return_for_changes"},
    "under_review": {"award", "reject", "waitlist", "return_for_changes"},
    "waitlisted": {"award", "reject"},
    "returned": {"reject"},
    "awarded": {"cancel", "start_reporting"},
    "reporting": {"cancel"},
    "report_submitted": {"approve_report", "return_report"},
    "completed": {"record_payment"},
    "paid": set(),
    "rejected": set(),
    "withdrawn": set(),
    "cancelled": set(),
}


@pytest.mark.parametrize("state", sorted(OFFERED))
def test_the_page_offers_exactly_the_actions_the_state_allows(client, make, manager, state):
    application = make.application(state, manager=manager)

    html = page(client.get(f"/manage/applications/{application.id}"))

    shown = {name for name in ACTIONS if f'id="action-{name}"' in html}
    assert shown == OFFERED[state]
    if not shown:
        assert "No action is open to a manager" in html
    assert ('id="assign"' in html) == (state in ("submitted", "under_review"))


@pytest.mark.parametrize("state", ["paid", "rejected", "cancelled"])
def test_every_action_on_a_closed_application_is_refused_and_changes_nothing(
        client, make, manager, state):
    application = make.application(state, manager=manager)
    for name, action in ACTIONS.items():
        data = {f"{name}-comment": "x", f"{name}-amount": "1",
                f"{name}-paid_on": today().isoformat(), f"{name}-reference": "R"}
        _refused(client, application, name, data, f"{action.label}: ",
                 within='id="actions-heading"', end="</section>")


def test_paying_a_paid_voucher_is_not_offered_and_says_it_is_paid(client, make, manager):
    application = make.application("paid", manager=manager)
    assert ">Record payment</button>" not in page(
        client.get(f"/manage/applications/{application.id}"))

    _refused(client, application, "record_payment",
             {"record_payment-amount": "1", "record_payment-paid_on": today().isoformat(),
              "record_payment-reference": "BANK-9"},
             "This voucher is already paid in full.", within='id="actions-heading"',
             end="</section>")


def test_the_final_report_reads_its_status_and_when_it_was_sent(client, make, manager):
    application = make.application("report_submitted", manager=manager)
    report = reporting.final_report_of(application)

    html = page(client.get(f"/manage/applications/{application.id}"))

    assert "Submitted, submitted" not in html
    assert '<dt>Status</dt><dd><span class="badge">Submitted</span></dd>' in html
    assert "<dt>Sent by the applicant</dt>" in html
    assert report.submitted_at is not None

    approved = make.application("completed", manager=manager)
    html = page(client.get(f"/manage/applications/{approved.id}"))
    assert '<span class="badge">Approved</span>' in html and "<dt>Approved</dt>" in html


def test_an_invalid_form_is_400_and_changes_nothing(client, make, manager):
    application = make.application("completed", manager=manager)
    before = snapshot()

    response = client.post(f"/manage/applications/{application.id}/actions/record_payment",
                           data={"record_payment-amount": "1e3",
                                 "record_payment-paid_on": "yesterday"})

    assert response.status_code == 400
    html = page(response)
    start = html.index('id="action-record_payment"')
    assert start < html.index("Correct the fields marked below.", start)
    assert snapshot() == before


def test_a_refused_assignment_changes_nothing(client, make, manager):
    application = make.application("awarded", manager=manager)
    evaluator = make.evaluator()
    before = snapshot()

    response = client.post(f"/manage/applications/{application.id}/assignments",
                           data={"assign-evaluator": str(evaluator.id)})

    assert response.status_code == 422
    html = page(response)
    start = html.index('id="assignments-heading"')
    assert start < html.index("Only submitted applications and those under review", start)
    assert snapshot() == before


# --- the table's inputs -----------------------------------------------------------------


@pytest.mark.parametrize("query", [
    "call=0", "call=-1", "call=2147483648", "call=99999999999999999999", "call=1.5",
    "call=&call=x", "per_page=0", "per_page=-10", "per_page=1e2",
    "per_page=99999999999999999999", "q=" + "x" * 101, "sort=", "dir=", "state=draft",
])
def test_no_table_input_is_a_server_error(client, make, manager, query):
    application = make.application("submitted")
    response = client.get(f"/manage/applications?{query}")
    assert response.status_code == 400
    html = page(response)
    assert "Some filters are not valid" in html and application.reference not in html


@pytest.mark.parametrize("query", ["page=", "type=", "type=market_validation&type=travel"])
def test_empty_or_repeated_filters_read_as_the_form_sends_them(client, make, manager, query):
    application = make.application("submitted")
    response = client.get(f"/manage/applications?{query}")
    assert response.status_code == 200
    assert application.reference in page(response)


def test_a_control_character_in_a_filter_is_refused_before_the_table(client, make, manager):
    make.application("submitted")
    response = client.get("/manage/applications?country=%00")
    assert response.status_code == 400
    assert "contains a control character (U+0000)" in page(response)


def test_a_page_number_beyond_the_form_bound_is_explained(app, client, make, manager):
    make.call()
    # The global check refuses it first; the form holds the same bound on its own.
    with app.test_request_context():
        form = ApplicationFilterForm(MultiDict({"page": "1000001"}))
        form.call.choices = form.country.choices = []
        form.validate()
    assert form.page.errors == ["Give a page number from 1 to 1,000,000."]


def test_the_service_bounds_its_page_size(make):
    application = make.application("submitted")
    result = applications_page(TableQuery(call_id=application.call_id, per_page=10**9,
                                          page=10**12))
    assert (result.per_page, result.page, len(result.items)) == (100, 1, 1)
    assert applications_page(TableQuery(call_id=application.call_id, per_page=0)).per_page == 1
