"""Every route of the URL map, as every kind of user: who may see and do what.

Each route declares its permission (vouchers/boundary.route) and its blueprint may add
one (guard_blueprint); this test reads those declarations and knows, for each predicate,
who in its world may pass. A route added without a declaration fails it. GET requests of
allowed users must succeed, and so must their POSTs with valid forms; every other user, on
GET and on POST, is refused (a 404, or the login page for anonymous visitors) and the
database is left exactly as it was.
"""

from __future__ import annotations

import io

import pytest
from werkzeug.datastructures import FileStorage

from tests.helpers import PDF, login, logout, page_rules, snapshot
from tests.matrix_cases import CASES
from tests.matrix_cases_partners import WORLD_SME_ARGS
from vouchers.boundary import BLUEPRINT_PERMISSIONS
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.manager.applications import ACTIONS
from vouchers.models import BankDetailsChange
from vouchers.services import accounts, aid, attachments, reviews

PERSONAS = ("anonymous", "applicant", "other_applicant", "evaluator", "conflicted_evaluator",
            "manager", "partner_manager", "other_partner_manager")
EVERYONE = set(PERSONAS)
SIGNED_IN = EVERYONE - {"anonymous"}
APPLICANTS = {"applicant", "other_applicant"}
EVALUATORS = {"evaluator", "conflicted_evaluator"}
# Managers of the world's partners (tests/matrix_cases_partners.py): the world SME's region's
# and another region's. Objects outside their reach answer 404 (WORLD_SME_ARGS).
PARTNER_MANAGERS = {"partner_manager", "other_partner_manager"}
MANAGERS = {"manager"} | PARTNER_MANAGERS

# Each permission predicate a route may declare (vouchers/policy.py), and who in the
# world below it lets through. Written out by hand, not computed by the predicates, so a
# predicate that lets the wrong people in fails here. A route declaring a predicate not
# listed here fails too: say who it is for.
ALLOWED_BY = {
    "can_visit": EVERYONE,
    "can_use_account": SIGNED_IN,
    "can_apply": APPLICANTS,
    "can_evaluate": EVALUATORS,
    "can_manage": MANAGERS,
    # What concerns the whole programme (calls, budgets, users, the funder's exports):
    # the lead partner's managers (and managers of no partner).
    "can_run_programme": {"manager"},
    # The world's application: its owner and the managers; its attachment (a quote) to the
    # same people. Not (yet) the evaluator assigned without a conflict: they have not
    # confirmed having none, so they see nothing of its content.
    "can_view_application": {"applicant"} | MANAGERS,
    # The applicant's own API (/api/v1/me): its owner only, as the applicant's pages
    # (can_apply and can_view_application together).
    "is_owner": {"applicant"},
    "can_download": {"applicant"} | MANAGERS,
    "can_review": {"evaluator"},
    # Account administration: managers only (the target, another applicant, is not one of
    # them, so a manager may disable it).
    "can_invite": {"manager"},
    "can_revoke_invitation": {"manager"},
    "can_disable_account": {"manager"},
    "can_enable_account": {"manager"},
    "can_unlock_account": {"manager"},
    "can_reset_second_factor": {"manager"},
    # The evaluator assigned without a conflict opens the application's page, which asks
    # them to confirm they have none (or declare one) first; only then may they compare
    # its versions, like the managers. The manager may unassign them: no review yet.
    "can_open_assignment": {"evaluator"},
    "can_confirm_no_conflict": {"evaluator"},
    "can_compare_versions": MANAGERS,
    "can_unassign": MANAGERS,
    # The world's application is submitted: a manager may accept an exception to a rule.
    "can_accept_exception": MANAGERS,
    # The world's evaluator is also its call's lead evaluator (assigned, not yet reviewed:
    # the page shows them that they review first).
    "can_record_consensus": {"evaluator"} | MANAGERS,
    # Money (issue 9): payments, reversals, recoveries and SEPA batches are the managers'.
    "can_manage_payments": {"manager"},
    "can_edit_bank_details": {"applicant"} | MANAGERS,
    "can_decide_bank_change": MANAGERS,
    "can_export_register": {"manager"},
    "can_reverse_payment": MANAGERS,
    "can_record_recovery": MANAGERS,
    # The world's company (the owner's) and its declared aid: its applicant and managers.
    "can_declare_aid": {"applicant"} | MANAGERS,
    "can_withdraw_aid": {"applicant"} | MANAGERS,
    # The ranking of a call's voucher type, its funding line and its reserve list.
    "can_view_ranking": {"manager"},
    "can_decide_funding": {"manager"},
    "can_promote_from_reserve": {"manager"},
    # The outbox (issue 10): the managers' mailbox page; the world's message failed, so
    # a manager may send it again.
    "can_view_mailbox": {"manager"},
    "can_retry_mail": {"manager"},
    # Messages on the world's (submitted) application: its applicant and the managers
    # write and read the thread and its files (another company and the evaluators get 404);
    # internal notes and their files are the managers' alone.
    "can_post_message": {"applicant"} | MANAGERS,
    "can_download_message_file": {"applicant"} | MANAGERS,
    "can_post_internal_note": MANAGERS,
    "can_download_note_file": MANAGERS,
    # Partner reports (issue 11): the world's partner's (a draft) to its own managers and
    # the lead partner's (the other partner's manager: WORLD_SME_ARGS); the consortium
    # summary to the lead partner's.
    "can_view_partner_reports": MANAGERS,
    "can_submit_partner_report": MANAGERS,
    "can_view_consortium": {"manager"},
    # Jobs (issue 12): "My files" is every manager's; the world's job (a finished workbook)
    # is its requester's alone, the world's manager.
    "can_list_jobs": MANAGERS,
    "can_see_job": {"manager"},
    "can_retry_job": {"manager"},
    # Follow-up surveys (issue 14): the world's survey is on the applicant's paid voucher.
    "can_answer_survey": {"applicant"},
    # Personal access tokens (issue 13): the world's token is its applicant's alone.
    "can_revoke_token": {"applicant"},
}


def permissions_of(app, endpoint: str) -> list:
    """The predicates guarding ``endpoint``: its blueprint's and the route's own."""
    if endpoint == "static":
        return []
    view = app.view_functions[endpoint]
    assert hasattr(view, "permission"), f"{endpoint} declares no permission"
    blueprint = endpoint.rpartition(".")[0]
    guards = [BLUEPRINT_PERMISSIONS[blueprint]] if blueprint in BLUEPRINT_PERMISSIONS else []
    return guards + [view.permission]


def allowed_personas(app, endpoint: str) -> set[str]:
    allowed = set(EVERYONE)
    for predicate in permissions_of(app, endpoint):
        assert predicate.__name__ in ALLOWED_BY, (
            f"{endpoint}: say in ALLOWED_BY whom {predicate.__name__} lets through")
        allowed &= ALLOWED_BY[predicate.__name__]
    # A URL naming the world SME's objects: the other partner's manager does not reach them.
    rule = next(app.url_map.iter_rules(endpoint))
    if set(rule.arguments) & WORLD_SME_ARGS:
        allowed -= {"other_partner_manager"}
    return allowed


@pytest.fixture
def world(app, make):
    """An application under review, with an attachment, two evaluators (one conflicted)."""
    call = make.call()
    cvt = call.voucher_type("market_validation")
    manager = make.manager()
    owner = make.applicant()
    application = make.draft(cvt, owner)
    upload = FileStorage(io.BytesIO(PDF), "quote.pdf", content_type="application/pdf")
    attachment = attachments.add_attachment(application, owner, upload, "application")
    make.step(application, "submit", applicant=owner, manager=manager)
    evaluator = make.evaluator()
    conflicted = make.evaluator()
    for e in (evaluator, conflicted):
        reviews.assign(application, e, manager)
    reviews.declare_conflict(application, conflicted, "My former employer.")
    call.lead_evaluator_id = evaluator.id
    declaration = aid.declare(owner.organisation, owner, "Regional agency", today(), "5000")
    # New bank details waiting for a manager's confirmation.
    change = BankDetailsChange(organisation_id=owner.organisation_id, iban="NL14INGB1707536455",
                               account_holder="World B.V.", requested_by_id=owner.id,
                               pending_organisation_id=owner.organisation_id)
    db.session.add(change)
    db.session.commit()
    invitation, token = accounts.create_invitation(by=manager, email="new@x.example",
                                                    name="New Evaluator", role="evaluator")
    db.session.commit()
    users = {"applicant": owner, "other_applicant": make.applicant(), "evaluator": evaluator,
             "conflicted_evaluator": conflicted, "manager": manager}
    args = {"application_id": application.id, "attachment_id": attachment.id,
            "cvt_id": cvt.id, "call_id": call.id, "user_id": users["other_applicant"].id,
            "provider_id": application.provider_id, "invitation_id": invitation.id,
            "token": token, "action": "award", "filename": "app.css", "name": "swagger-ui.css",
            "organisation_id": application.organisation_id, "rule": "region",
            # The versions to compare (the world's application has one) and the evaluator's
            # assignment, which a manager may take off.
            "old": 1, "new": 1,
            "assignment_id": reviews.assignment_of(application, evaluator).id,
            "programme_id": call.programme_id, "declaration_id": declaration.id,
            "voucher_type": cvt.voucher_type, "change_id": change.id}
    # The money parts' objects: a payment of a paid voucher, a batch awaiting execution.
    from tests import matrix_cases_money, matrix_cases_payments

    args.update(matrix_cases_money.world_args(make, manager))
    args.update(matrix_cases_payments.world_args(make, manager))
    # Issue 10's parts: the outbox, accounts by e-mail, messages, deadlines.
    from tests import (
        matrix_cases_accounts_mail,
        matrix_cases_deadlines,
        matrix_cases_jobs,
        matrix_cases_mail,
        matrix_cases_messages,
        matrix_cases_partner_reports,
        matrix_cases_partners,
        matrix_cases_surveys,
        matrix_cases_tokens,
    )

    for part in (matrix_cases_partners, matrix_cases_partner_reports, matrix_cases_mail,
                 matrix_cases_accounts_mail, matrix_cases_messages, matrix_cases_deadlines,
                 matrix_cases_jobs, matrix_cases_tokens, matrix_cases_surveys):
        args.update(part.world_args(make, users, args))
    return users, args


def _url(app, rule, args):
    missing = set(rule.arguments) - set(args)
    assert not missing, f"{rule.endpoint}: no test value for {missing}"
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **{k: args[k] for k in rule.arguments})


def _as(client, users, persona):
    logout(client)
    if persona != "anonymous":
        login(client, users[persona])


def _refused(response, persona) -> bool:
    if response.status_code == 404:
        return True
    # Anonymous visitors are sent to the login page instead.
    return (persona == "anonymous" and response.status_code == 302
            and "/account/login" in response.headers["Location"])


def test_every_route_declares_a_known_permission(app):
    for rule in page_rules(app):
        allowed_personas(app, rule.endpoint)


def test_a_route_without_a_declaration_fails_the_matrix(app):
    def undeclared():
        return "hello"

    app.view_functions["manager.undeclared"] = undeclared
    try:
        with pytest.raises(AssertionError, match="declares no permission"):
            allowed_personas(app, "manager.undeclared")
    finally:
        del app.view_functions["manager.undeclared"]


def test_get_matrix(app, client, world):
    users, args = world
    problems = []
    for rule in page_rules(app):
        if "GET" not in rule.methods:
            continue
        url = _url(app, rule, args)
        allowed = allowed_personas(app, rule.endpoint)
        for persona in PERSONAS:
            _as(client, users, persona)
            response = client.get(url)
            response.close()  # file downloads hold their file open until closed
            refused = _refused(response, persona)
            if persona in allowed and (refused or response.status_code >= 400):
                problems.append(f"{persona} GET {url}: {response.status_code}, expected access")
            if persona not in allowed and not refused:
                problems.append(f"{persona} GET {url}: {response.status_code}, expected 404")
    assert problems == []


def test_post_matrix_refuses_everyone_not_allowed_and_changes_nothing(app, client, world):
    users, args = world
    problems = []
    before = snapshot()
    for rule in page_rules(app):
        if "POST" not in rule.methods:
            continue
        url = _url(app, rule, args)
        allowed = allowed_personas(app, rule.endpoint)
        for persona in sorted(EVERYONE - allowed):
            _as(client, users, persona)
            response = client.post(url, data={"comment": "x", "reason": "x", "amount": "1"})
            if not _refused(response, persona):
                problems.append(f"{persona} POST {url}: {response.status_code} "
                                f"{response.headers.get('Location')}, expected 404")
    assert problems == []
    assert snapshot() == before


# Every route that accepts POST, and for the manager's application actions every action:
# each has a case in tests/matrix_cases.py. A new POST route fails the test below until
# it is listed here with a case.
POST_CASES = (
    "applicant.bank_details", "applicant.cancel", "applicant.delete_attachment", "applicant.edit",
    "applicant.new_application", "applicant.profile", "applicant.report",
    "applicant.start_report", "applicant.submit", "applicant.upload", "applicant.withdraw",
    "auth.accept_invitation", "auth.change_password", "auth.login", "auth.logout",
    "auth.register",
    # accounts by e-mail (issue 10): tests/matrix_cases_accounts_mail.py
    "auth.request_reset", "auth.reset_password", "auth.verify_email",
    "auth.send_verification_again", "auth.change_email", "auth.confirm_email_change",
    # mail settings (issue 10): tests/matrix_cases_events.py
    "auth.mail_settings",
    # the language picker (issue 14): tests/matrix_cases_i18n.py
    "auth.language",
    "evaluator.confirm_no_conflict", "evaluator.declare_conflict", "evaluator.submit_review",
    "manager.application_action:approve_report", "manager.application_action:award",
    "manager.application_action:cancel", "manager.application_action:record_payment",
    "manager.application_action:reject", "manager.application_action:return_for_changes",
    "manager.application_action:return_report", "manager.application_action:start_reporting",
    "manager.application_action:start_review", "manager.application_action:waitlist",
    "manager.assign_evaluator", "manager.auto_assign", "manager.bank_details",
    "manager.cancel_batch", "manager.confirm_bank_change",
    "manager.execute_batch", "manager.prepare_batch", "manager.record_recovery",
    "manager.refuse_bank_change", "manager.reverse_payment", "manager.deactivate_provider",
    "manager.disable_user", "manager.edit_call", "manager.edit_organisation",
    "manager.edit_provider", "manager.enable_user", "manager.invite_user", "manager.new_call",
    "manager.new_programme", "manager.new_provider", "manager.reactivate_provider",
    "manager.revoke_invitation", "manager.unlock_user",
    # two-factor sign-in (issue 13): tests/matrix_cases_second_factor.py
    "auth.second_factor_code", "auth.start_second_factor", "auth.confirm_second_factor",
    "auth.new_recovery_codes", "auth.turn_off_second_factor",
    "manager.reset_second_factor", "manager.evaluators_second_factor",
    "manager.unassign",
    "manager.accept_exception",
    "manager.consensus", "evaluator.consensus",
    "manager.edit_programme",
    "applicant.declare_aid", "applicant.withdraw_aid", "manager.declare_aid",
    "manager.withdraw_aid",
    "manager.propose_funding_line", "manager.confirm_funding_line",
    "manager.promote_from_reserve",
    # the mailbox (issue 10): tests/matrix_cases_mail.py
    "manager.retry_mail",
    "applicant.post_message", "manager.post_message", "manager.post_internal_note",
    # the consortium's set-up (issue 11): tests/matrix_cases_partners_admin.py
    "manager.new_partner", "manager.edit_partner", "manager.change_user_partner",
    # partner reports (issue 11): tests/matrix_cases_partner_reports.py
    "manager.open_partner_period", "manager.submit_partner_report",
    "manager.change_partner_period",
    # jobs (issue 12): tests/matrix_cases_jobs.py; the long downloads queue a job now
    "manager.retry_job", "manager.download_workbook", "manager.download_sepa",
    "manager.partner_report_xlsx", "manager.consortium_summary_xlsx",
    # privacy (issue 14): tests/matrix_cases_privacy.py
    "manager.anonymise_organisation",
    # follow-up surveys (issue 14): tests/matrix_cases_surveys.py
    "applicant.survey",
    # API tokens (issue 13): tests/matrix_cases_tokens.py
    "auth.api_tokens_page", "auth.revoke_api_token",
)


def test_every_post_route_and_action_has_a_success_case(app):
    posted = {r.endpoint for r in page_rules(app) if "POST" in r.methods}
    assert {name.partition(":")[0] for name in POST_CASES} == posted
    actions = {name.partition(":")[2] for name in POST_CASES} - {""}
    assert actions == set(ACTIONS)
    assert set(POST_CASES) == set(CASES)


@pytest.mark.parametrize("name", POST_CASES)
def test_an_allowed_users_valid_post_succeeds(app, client, make, name):
    endpoint = name.partition(":")[0]
    post = CASES[name](make)
    assert post.persona in allowed_personas(app, endpoint)
    assert not post.done(), "the world shows the change before the POST"
    logout(client)
    if post.user is not None:
        login(client, post.user)
    if post.session:  # the half-signed-in state of the login's code step
        with client.session_transaction() as session:
            session.update(post.session)
    response = client.post(post.url, data=post.data)
    assert response.status_code == post.status, response.get_data(as_text=True)
    if post.status == 303:
        assert "/account/login" not in response.headers["Location"]
    db.session.expire_all()  # read what the request committed
    assert post.done()
