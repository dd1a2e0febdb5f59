"""Who may see and do what: every permission is a ``can_<verb>(user, obj)`` here.

Routes declare one of these (vouchers/boundary.py checks it before the view runs and the
authorization-matrix test reads the declarations), templates call them as Jinja globals
to decide which buttons to show, and services call them again through ``ensure`` so a CLI
command or a future API cannot skip them. The policy reads models and the lifecycle only;
services call it, never the other way round.

A page the user may not see answers 404, never 403, so its existence does not leak.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from workflows import lifecycle
from workflows.lifecycle import APPLICANT, EDITABLE_STATES, EVALUATOR, MANAGER

from .extensions import db
from .models import Application, Assignment, Attachment, Partner, User
from .policy_partners import (  # noqa: F401  (re-exported: ask this module)
    application_scope,
    can_run_programme,
    can_submit_partner_report,
    can_view_consortium,
    can_view_partner_reports,
    organisation_scope,
    partner_scope,
    reaches,
)
from .services.errors import NotAllowed

Predicate = Callable[..., bool]
ATTACHMENT_PURPOSES = ("application", "report")


def _signed_in(user: Any) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False)) and user.enabled


def _role(user: Any, role: str) -> bool:
    return _signed_in(user) and user.role == role


# --- anyone ---------------------------------------------------------------------------


def can_visit(user: Any, obj: Any = None) -> bool:
    """Public pages: the open calls, logging in, registering, an invitation link."""
    return True


def can_use_account(user: Any, obj: Any = None) -> bool:
    """A signed-in user's own account pages (changing the password)."""
    return _signed_in(user) and (obj is None or obj.id == user.id)


# --- applicants -----------------------------------------------------------------------


def is_owner(user: Any, application: Application) -> bool:
    """An applicant owns the applications of their organisation."""
    return (_role(user, APPLICANT) and user.organisation_id is not None
            and user.organisation_id == application.organisation_id)


def can_apply(user: Any, obj: Any = None) -> bool:
    """The applicant's pages: their company, their applications, new applications."""
    return _role(user, APPLICANT)


def can_edit_application(user: Any, application: Application) -> bool:
    """The owner may change the content while the application is a draft or returned."""
    return is_owner(user, application) and application.state in EDITABLE_STATES


def can_change_attachments(user: Any, application: Application,
                           purpose: str = "application") -> bool:
    """Quotes and CVs while the application is editable; evidence while reporting."""
    if purpose not in ATTACHMENT_PURPOSES or not is_owner(user, application):
        return False
    if purpose == "application":
        return application.state in EDITABLE_STATES
    return application.state == lifecycle.REPORTING


def can_write_report(user: Any, application: Application) -> bool:
    return is_owner(user, application) and application.state == lifecycle.REPORTING


# --- evaluators -----------------------------------------------------------------------


def standing_assignment(user: Any, application: Application) -> Assignment | None:
    """The evaluator's assignment to ``application`` if it stands (no conflict declared)."""
    if not _role(user, EVALUATOR):
        return None
    return db.session.scalar(
        select(Assignment).where(Assignment.application_id == application.id,
                                 Assignment.evaluator_id == user.id,
                                 Assignment.conflict_declared_at.is_(None))
    )


def can_evaluate(user: Any, obj: Any = None) -> bool:
    """The evaluator's pages: their assignments."""
    return _role(user, EVALUATOR)


def can_review(user: Any, application: Application) -> bool:
    """Assigned without a conflict, confirmed so, while the application is under review."""
    return (application.state == lifecycle.UNDER_REVIEW
            and confirmed_assignment(user, application) is not None)


def may_be_assigned(evaluator: User, application: Application) -> str | None:
    """Why ``evaluator`` may not be assigned to ``application``, or None.

    The one rule of who is eligible to evaluate an application: an enabled evaluator who
    does not work for the applicant's organisation. (Conflicts and existing assignments
    are facts of the assignment, checked by the assignment service.)
    """
    if evaluator.role != EVALUATOR or not evaluator.enabled:
        return f"{evaluator.name} is not an active evaluator."
    if evaluator.organisation_id is not None and (
        evaluator.organisation_id == application.organisation_id
    ):
        return f"{evaluator.name} works for the applicant's organisation."
    if (evaluator.partner_id is not None and evaluator.partner_id == application.partner_id
            and application.call.evaluators_from_other_partners):
        partner = db.session.get(Partner, evaluator.partner_id)
        return (f"{evaluator.name} works for the partner of the applicant's region "
                f"({partner.name}); this call asks for evaluators of other partners.")
    return None


# --- managers -------------------------------------------------------------------------


def can_manage(user: Any, obj: Any = None) -> bool:
    """The manager's pages, and ``obj`` if given within the manager's partner scope
    (vouchers/policy_partners.py: a partner manager reaches the SMEs of its regions)."""
    return _role(user, MANAGER) and reaches(user, obj)


# Evaluators are asked while an application awaits its review or is under it.
REVIEWABLE_STATES = frozenset({lifecycle.SUBMITTED, lifecycle.UNDER_REVIEW})


def can_assign_evaluator(user: Any, application: Application) -> bool:
    return can_manage(user, application) and application.state in REVIEWABLE_STATES


def can_record_payment(user: Any, application: Application) -> bool:
    """Payments are recorded once the report is approved, until paid in full; an advance
    between the award and the approval, where the call pays advances. (How much is due
    is the service's to say: services/settlement.py.)"""
    if not can_manage(user, application):
        return False
    if application.state in lifecycle.ADVANCE_STATES:
        return bool(application.call.advance_share)
    return lifecycle.may_fire("pay", application.state, user.role, False)


# --- applications, whoever asks -------------------------------------------------------


def can_view_application(user: Any, application: Application) -> bool:
    if can_manage(user, application):
        return True
    if _role(user, APPLICANT):
        return is_owner(user, application)
    # An evaluator sees the content once they confirmed they have no conflict.
    return confirmed_assignment(user, application) is not None


def can_fire(user: Any, application: Application, trigger: str) -> bool:
    """Whether the lifecycle lets ``user`` fire ``trigger`` now (its guards decide the rest)."""
    if not _signed_in(user) or not reaches(user, application):
        return False
    return lifecycle.may_fire(trigger, application.state, user.role,
                              is_owner(user, application))


# Records of the decision's inner workings (who evaluates, a consensus, an exception to a
# rule) name evaluators and are for the programme; the applicant sees its lifecycle.
INTERNAL_TRIGGERS = frozenset({"assign", "unassign", "consensus", "accept_exception"})


def can_see_record(user: Any, record: Any) -> bool:
    """Whether a user who may view the application sees this line of its history."""
    return can_manage(user, record.application) or record.trigger not in INTERNAL_TRIGGERS


def can_download(user: Any, attachment: Attachment) -> bool:
    """Evaluators judge the application: its quotes and CVs, not the final report's
    evidence, which is for the applicant and the managers; and only once they confirmed
    they have no conflict of interest (can_view_application)."""
    if not can_view_application(user, attachment.application):
        return False
    return not _role(user, EVALUATOR) or attachment.purpose == "application"


# --- deciding (issue 8): each part's predicates in its own section ----------------------

# eligibility

# A manager may accept an exception to a failing rule while the application awaits a
# decision (or is back with the applicant for changes).
EXCEPTION_STATES = frozenset({lifecycle.SUBMITTED, lifecycle.UNDER_REVIEW, lifecycle.WAITLISTED,
                              lifecycle.RETURNED})


def can_accept_exception(user: Any, application: Application) -> bool:
    return can_manage(user, application) and application.state in EXCEPTION_STATES


# versions, conflict confirmation, unassigning

# Where a manager may still take an evaluator off: while it awaits or is under review.
# Not while returned: the applicant's page reads the latest record into "returned" as the
# manager's request for changes, and an unassignment's record would take its place.
UNASSIGNABLE_STATES = REVIEWABLE_STATES


def confirmed_assignment(user: Any, application: Application) -> Assignment | None:
    """The evaluator's standing assignment once they confirmed they have no conflict."""
    assignment = standing_assignment(user, application)
    if assignment is None or assignment.no_conflict_confirmed_at is None:
        return None
    return assignment


def can_open_assignment(user: Any, application: Application) -> bool:
    """The evaluator's page of an application assigned to them without a conflict. Until
    they confirm they have none it shows only who applied, and asks (nothing else)."""
    return standing_assignment(user, application) is not None


def can_confirm_no_conflict(user: Any, application: Application) -> bool:
    """Assigned without a conflict, and not confirmed yet."""
    assignment = standing_assignment(user, application)
    return assignment is not None and assignment.no_conflict_confirmed_at is None


def can_compare_versions(user: Any, application: Application) -> bool:
    """What changed between two versions: managers, and the evaluators who may read it."""
    return can_manage(user, application) or confirmed_assignment(user, application) is not None


def can_unassign(user: Any, assignment: Assignment) -> bool:
    """A manager takes off an evaluator who stands (a declared conflict stays on record)
    while the application's reviews are open. Whether they already reviewed the current
    version the service checks, so the manager is told why rather than shown a 404."""
    return (can_manage(user, assignment) and not assignment.has_conflict
            and assignment.application.state in UNASSIGNABLE_STATES)

# scoring, consensus

CONSENSUS_STATES = frozenset({lifecycle.UNDER_REVIEW, lifecycle.WAITLISTED})


def is_lead_evaluator(user: Any, application: Application) -> bool:
    """The evaluator the application's call names to record consensus scores."""
    return (_role(user, EVALUATOR) and application.call.lead_evaluator_id is not None
            and application.call.lead_evaluator_id == user.id)


def can_record_consensus(user: Any, application: Application) -> bool:
    """Managers, and the call's lead evaluator (who need not be assigned, but must not
    have declared a conflict on it), while the application is under review or waitlisted.

    Whether there is something to agree on yet (a review of the current version) and the
    lead's own blind review are the consensus service's to say, with a message.
    """
    if application.state not in CONSENSUS_STATES:
        return False
    if can_manage(user, application):
        return True
    if not is_lead_evaluator(user, application):
        return False
    return db.session.scalar(
        select(Assignment.id).where(Assignment.application_id == application.id,
                                    Assignment.evaluator_id == user.id,
                                    Assignment.conflict_declared_at.is_not(None))
    ) is None

# ranking, funding line, reserve list


def can_view_ranking(user: Any, call_voucher_type: Any = None) -> bool:
    """The ranked list of a call's voucher type and its proposed funding line: it ranks
    every region's applications, so the lead partner's."""
    return can_run_programme(user)


def can_decide_funding(user: Any, call_voucher_type: Any = None) -> bool:
    """Propose and confirm a type's funding line (the awards, waitlist and rejections)."""
    return can_run_programme(user)


def can_promote_from_reserve(user: Any, application: Any = None) -> bool:
    """Award a waitlisted application the reserve list offers. Whether it is offered now is
    the service's to say (with a message), not a reason to hide the page."""
    return can_run_programme(user)


# aid declarations (de minimis aid an SME received elsewhere)


def can_declare_aid(user: Any, organisation: Any) -> bool:
    """The company's own applicant, or a manager: the award check counts what is declared."""
    if organisation is None:
        return False
    return can_manage(user, organisation) or (_role(user, APPLICANT)
                                              and user.organisation_id == organisation.id)


def can_withdraw_aid(user: Any, declaration: Any) -> bool:
    """Whoever may declare the company's aid may withdraw a declaration (with a reason,
    kept in the company's history)."""
    return can_declare_aid(user, declaration.organisation)


def can_answer_survey(user: Any, survey: Any) -> bool:
    """A voucher's follow-up survey: its company's (a second answer: services/surveys.py)."""
    return is_owner(user, survey.application)


# --- jobs (issue 12) and mail and messages (issue 10): in vouchers/policy_jobs.py and
# vouchers/policy_mail.py (add new ones there), re-exported here so routes, templates and
# services ask this module as for the rest.
# accounts: invitations, disabling, tokens, the second factor; in vouchers/policy_accounts.py.
from .policy_accounts import (  # noqa: E402, F401
    can_disable_account,
    can_enable_account,
    can_invite,
    can_reset_second_factor,
    can_revoke_invitation,
    can_revoke_token,
    can_turn_off_second_factor,
    can_unlock_account,
    must_use_second_factor,
)
from .policy_jobs import can_list_jobs, can_retry_job, can_see_job  # noqa: E402, F401
from .policy_mail import (  # noqa: E402, F401
    can_download_message_file,
    can_download_note_file,
    can_post_internal_note,
    can_post_message,
    can_read_internal_notes,
    can_read_messages,
    can_retry_mail,
    can_view_mailbox,
)

# money (issue 9): in vouchers/policy_money.py, re-exported the same way.
from .policy_money import (  # noqa: E402, F401
    can_decide_bank_change,
    can_edit_bank_details,
    can_export_register,
    can_manage_payments,
    can_record_recovery,
    can_reverse_payment,
)

# --- for services ---------------------------------------------------------------------


def ensure(allowed: bool, message: str) -> None:
    """Raise NotAllowed(message) unless ``allowed``: services check for themselves."""
    if not allowed:
        raise NotAllowed(message)


TEMPLATE_GLOBALS: dict[str, Predicate] = {
    name: value for name, value in globals().items()
    if name.startswith("can_") and callable(value)
} | {"is_owner": is_owner}


def init_app(app) -> None:
    app.jinja_env.globals.update(TEMPLATE_GLOBALS)
