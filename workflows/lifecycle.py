"""The application lifecycle, defined once.

Pure Python on top of `transitions`: no Flask, no database. The app hands in a
*subject* (anything with a ``state`` attribute and the facts the guards read) and
fires a trigger through :func:`fire`. One module-level machine serves every
subject: a subject is added for the duration of one trigger and removed again,
so no Machine is built per row and no row stays referenced after the request.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from transitions import Machine, MachineError

DRAFT = "draft"
SUBMITTED = "submitted"
UNDER_REVIEW = "under_review"
AWARDED = "awarded"
REPORTING = "reporting"
REPORT_SUBMITTED = "report_submitted"
COMPLETED = "completed"
PAID = "paid"
WITHDRAWN = "withdrawn"
REJECTED = "rejected"
WAITLISTED = "waitlisted"
RETURNED = "returned"
CANCELLED = "cancelled"

STATES: tuple[str, ...] = (
    DRAFT, SUBMITTED, UNDER_REVIEW, AWARDED, REPORTING, REPORT_SUBMITTED, COMPLETED, PAID,
    WITHDRAWN, REJECTED, WAITLISTED, RETURNED, CANCELLED,
)
# Paid is final for everything but a payment's reversal, which reopens it (completed).
FINAL_STATES = frozenset({PAID, WITHDRAWN, REJECTED, CANCELLED})
# States in which the application holds an awarded amount that counts as committed.
VOUCHER_STATES = frozenset({AWARDED, REPORTING, REPORT_SUBMITTED, COMPLETED, PAID})
# Money (services/settlement.py): before the final report only an advance can be paid;
# once it is approved the voucher is closed out.
ADVANCE_STATES = frozenset({AWARDED, REPORTING, REPORT_SUBMITTED})
CLOSED_STATES = frozenset({COMPLETED, PAID})
# States an applicant may still edit.
EDITABLE_STATES = frozenset({DRAFT, RETURNED})

def N_(text: str) -> str:
    """Marks a label for the app's catalogues (babel.cfg reads workflows/ too); the app
    translates it where it shows it. A no-op: this module knows nothing of Flask."""
    return text


STATE_LABELS = {
    DRAFT: N_("Draft"), SUBMITTED: N_("Submitted"), UNDER_REVIEW: N_("Under review"),
    AWARDED: N_("Awarded"), REPORTING: N_("Reporting"),
    REPORT_SUBMITTED: N_("Report submitted"), COMPLETED: N_("Completed"), PAID: N_("Paid"),
    WITHDRAWN: N_("Withdrawn"), REJECTED: N_("Rejected"), WAITLISTED: N_("Waitlisted"),
    RETURNED: N_("Returned for changes"), CANCELLED: N_("Cancelled"),
}

APPLICANT = "applicant"
EVALUATOR = "evaluator"
MANAGER = "manager"
ROLES = (APPLICANT, EVALUATOR, MANAGER)
# Not a user's role: what the app fires on its own (actor None), say the review of a
# resubmitted version by the evaluators already assigned. No account ever has it.
SYSTEM = "system"


class Subject(Protocol):
    """What the guards read. The app adapts its Application row to this."""

    state: str
    actor_role: str
    actor_is_owner: bool
    call_is_open: bool
    completeness_problems: list[str]
    submitted_review_count: int
    comment: str
    amount: Any
    report_is_complete: bool
    fully_paid: bool


class TransitionRefused(Exception):
    """A trigger was refused; ``str(exc)`` is a sentence a person understands."""


# A guard returns None when the transition may go ahead, or the reason it may not.
Guard = Callable[[Subject], str | None]


def who_may(roles: tuple[str, ...], owner: bool) -> str:
    """"a manager or the applicant who owns it": the roles of a transition, in words."""
    return " or ".join(
        "the applicant who owns it" if r == APPLICANT and owner else f"a {r}" for r in roles
        if r != SYSTEM
    )


def _call_open(s: Subject) -> str | None:
    return None if s.call_is_open else "The call is not open for submissions."


def _complete(s: Subject) -> str | None:
    if s.completeness_problems:
        return "The application is incomplete: " + "; ".join(s.completeness_problems) + "."
    return None


def _has_review(s: Subject) -> str | None:
    if s.submitted_review_count < 1:
        return "At least one evaluator must have submitted a review before a decision."
    return None


def _comment(what: str) -> Guard:
    def check(s: Subject) -> str | None:
        return None if (s.comment or "").strip() else f"Give {what}."

    check.__name__ = "comment_required"
    return check


def _positive_amount(s: Subject) -> str | None:
    try:
        ok = s.amount is not None and s.amount > 0
    except TypeError:
        ok = False
    return None if ok else "Give an amount greater than zero."


def _fully_paid(s: Subject) -> str | None:
    return None if s.fully_paid else "The voucher is paid once payments reach the payable amount."


def _report_complete(s: Subject) -> str | None:
    if s.report_is_complete:
        return None
    return "The final report needs a description of the work and the actual costs."


@dataclass(frozen=True)
class Transition:
    """One transition, with who may fire it declared here and nowhere else.

    ``roles`` are the roles that may fire it; with ``owner`` an applicant must own the
    application. The guards then say what else must hold.
    """

    trigger: str
    sources: tuple[str, ...]
    dest: str
    label: str
    roles: tuple[str, ...]
    guards: tuple[Guard, ...] = field(default=())
    owner: bool = True

    def allows(self, role: str | None, is_owner: bool) -> bool:
        """Whether an actor of ``role`` (owning the application or not) may fire it."""
        if role not in self.roles:
            return False
        return not (self.owner and role == APPLICANT and not is_owner)


TRANSITIONS: tuple[Transition, ...] = (
    Transition("submit", (DRAFT, RETURNED), SUBMITTED, N_("Submit"), (APPLICANT,),
               (_call_open, _complete)),
    Transition("withdraw", (DRAFT, SUBMITTED, UNDER_REVIEW, RETURNED), WITHDRAWN, N_("Withdraw"),
               (APPLICANT,)),
    Transition("return_for_changes", (SUBMITTED, UNDER_REVIEW), RETURNED, N_("Return for changes"),
               (MANAGER,), (_comment("the changes you ask for"),)),
    # The system too: a resubmission with evaluators assigned goes straight back to them.
    Transition("start_review", (SUBMITTED,), UNDER_REVIEW, N_("Start review"), (MANAGER, SYSTEM)),
    Transition("award", (UNDER_REVIEW, WAITLISTED), AWARDED, N_("Award"), (MANAGER,),
               (_has_review, _positive_amount)),
    # From returned too: an application returned near the close may never come back.
    Transition("reject", (SUBMITTED, UNDER_REVIEW, WAITLISTED, RETURNED), REJECTED, N_("Reject"),
               (MANAGER,), (_comment("the reason for the rejection"),)),
    Transition("waitlist", (UNDER_REVIEW,), WAITLISTED, N_("Waitlist"), (MANAGER,), (_has_review,)),
    Transition("cancel", (AWARDED, REPORTING), CANCELLED, N_("Cancel voucher"),
               (MANAGER, APPLICANT),
               (_comment("the reason for cancelling"),)),
    Transition("start_reporting", (AWARDED,), REPORTING, N_("Start final report"),
               (MANAGER, APPLICANT)),
    Transition("submit_report", (REPORTING,), REPORT_SUBMITTED, N_("Submit final report"),
               (APPLICANT,), (_report_complete,)),
    Transition("return_report", (REPORT_SUBMITTED,), REPORTING, N_("Return final report"),
               (MANAGER,), (_comment("what must change in the report"),)),
    Transition("approve_report", (REPORT_SUBMITTED,), COMPLETED, N_("Approve final report"),
               (MANAGER,)),
    # Fired by recording the payment that reaches the payable amount (or by approving a
    # report that leaves nothing to pay), not by a button.
    Transition("pay", (COMPLETED,), PAID, N_("Mark as paid"), (MANAGER,), (_fully_paid,)),
    # Fired by reversing a payment of a paid voucher: money is due again.
    Transition("reverse_payment", (PAID,), COMPLETED, N_("Reverse payment"), (MANAGER,),
               (_comment("the reason for the reversal"),)),
)
TRANSITIONS_BY_TRIGGER = {t.trigger: t for t in TRANSITIONS}
TRIGGERS = tuple(TRANSITIONS_BY_TRIGGER)


def _check_guards(event_data) -> bool:
    subject = event_data.model
    transition = TRANSITIONS_BY_TRIGGER[event_data.event.name]
    if not transition.allows(subject.actor_role, subject.actor_is_owner):
        subject._refusal = f"Only {who_may(transition.roles, transition.owner)} may do this."
        return False
    for guard in transition.guards:
        problem = guard(subject)
        if problem:
            subject._refusal = problem
            return False
    return True


def _machine_definition() -> dict[str, Any]:
    return {
        "states": list(STATES),
        "transitions": [
            {"trigger": t.trigger, "source": list(t.sources), "dest": t.dest,
             "conditions": [_check_guards]}
            for t in TRANSITIONS
        ],
        "initial": DRAFT,
        "auto_transitions": False,
        "send_event": True,
        # Callbacks that raise after a state change would leave the new state behind;
        # there are none: everything that can fail is a condition.
    }


# transitions logs every state change at INFO; the audit trail is the record that matters.
logging.getLogger("transitions").setLevel(logging.WARNING)
_machine = Machine(model=None, **_machine_definition())
# add_model/remove_model mutate the machine's model list; keep them atomic across threads.
_machine_lock = threading.Lock()


def fire(subject: Subject, trigger: str) -> tuple[str, str]:
    """Fire ``trigger`` on ``subject``; return (from_state, to_state).

    Raises TransitionRefused with a readable message and leaves ``subject.state``
    unchanged when the trigger does not exist, is not allowed from the current state,
    or a guard refuses.
    """
    transition = TRANSITIONS_BY_TRIGGER.get(trigger)
    if transition is None:
        raise TransitionRefused(f"Unknown action {trigger!r}.")
    source = subject.state
    if source not in transition.sources:
        allowed = " or ".join(STATE_LABELS[s].lower() for s in transition.sources)
        raise TransitionRefused(
            f"Not possible now: the application is {STATE_LABELS.get(source, source).lower()}, "
            f"and \u201c{transition.label}\u201d applies only to applications that are "
            f"{allowed}."
        )
    subject._refusal = None
    with _machine_lock:
        _machine.add_model(subject, initial=source)
    try:
        ok = subject.trigger(trigger)
    except MachineError as exc:  # pragma: no cover - sources are checked above
        raise TransitionRefused(str(exc)) from exc
    finally:
        with _machine_lock:
            _machine.remove_model(subject)
    if not ok:
        subject.state = source
        raise TransitionRefused(subject._refusal or "This action is not allowed now.")
    return source, subject.state


def triggers_from(state: str, role: str | None = None) -> list[Transition]:
    """The transitions leaving ``state`` (for buttons), without binding any row."""
    names = _machine.get_triggers(state)
    return [
        TRANSITIONS_BY_TRIGGER[n] for n in names
        if n in TRANSITIONS_BY_TRIGGER and (role is None or role in TRANSITIONS_BY_TRIGGER[n].roles)
    ]


def may_fire(trigger: str, state: str, role: str | None, is_owner: bool) -> bool:
    """Whether an actor may fire ``trigger`` from ``state`` (the guards decide the rest)."""
    transition = TRANSITIONS_BY_TRIGGER.get(trigger)
    return (transition is not None and state in transition.sources
            and transition.allows(role, is_owner))


def mermaid() -> str:
    """The lifecycle as a Mermaid stateDiagram-v2, drawn from the same definition."""
    from transitions.extensions import GraphMachine

    class _Diagram:
        state = DRAFT

    definition = _machine_definition()
    for t in definition["transitions"]:
        t.pop("conditions")
    graph = GraphMachine(model=_Diagram(), graph_engine="mermaid", title="Application lifecycle",
                         show_conditions=False, **definition)
    text = graph.get_graph().draw(None)
    # Drop the styling that marks the diagram model's own "current" state: a lifecycle
    # diagram has no current state.
    lines = [ln for ln in text.splitlines() if not ln.strip().startswith(("classDef", "Class "))]
    return "\n".join(ln.rstrip() for ln in lines) + "\n"
