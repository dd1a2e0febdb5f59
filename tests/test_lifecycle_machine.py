"""The lifecycle definition itself: every transition allowed and forbidden, pure Python."""

from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from workflows import lifecycle as lc


@dataclass
class Facts:
    """A subject for which every guard passes unless a test says otherwise."""

    state: str
    actor_role: str = "manager"
    actor_is_owner: bool = True
    call_is_open: bool = True
    completeness_problems: list = field(default_factory=list)
    submitted_review_count: int = 1
    comment: str = "Because."
    amount: Decimal | None = Decimal("100.00")
    report_is_complete: bool = True
    fully_paid: bool = True


def role_for(t: lc.Transition) -> str:
    return t.roles[0] if t.roles else "manager"


ALLOWED = [(t, s) for t in lc.TRANSITIONS for s in t.sources]
FORBIDDEN = [(t, s) for t in lc.TRANSITIONS for s in lc.STATES if s not in t.sources]


@pytest.mark.parametrize(("transition", "source"), ALLOWED,
                         ids=[f"{s}-{t.trigger}" for t, s in ALLOWED])
def test_each_allowed_transition_reaches_its_destination(transition, source):
    subject = Facts(source, actor_role=role_for(transition))
    assert lc.fire(subject, transition.trigger) == (source, transition.dest)
    assert subject.state == transition.dest


@pytest.mark.parametrize(("transition", "source"), FORBIDDEN,
                         ids=[f"{s}-{t.trigger}" for t, s in FORBIDDEN])
def test_each_forbidden_transition_is_refused_with_the_reason(transition, source):
    subject = Facts(source, actor_role=role_for(transition))
    with pytest.raises(lc.TransitionRefused) as exc:
        lc.fire(subject, transition.trigger)
    label = lc.STATE_LABELS[source].lower()
    assert str(exc.value).startswith(f"Not possible now: the application is {label}, and "
                                     f"\u201c{transition.label}\u201d applies only to")
    assert subject.state == source


@pytest.mark.parametrize("transition", lc.TRANSITIONS, ids=lambda t: t.trigger)
def test_each_transition_refuses_the_wrong_roles(transition):
    for role in ("applicant", "evaluator", "manager"):
        owner_ok = role == "applicant"
        allowed = role in transition.roles
        subject = Facts(transition.sources[0], actor_role=role, actor_is_owner=owner_ok)
        if allowed:
            lc.fire(subject, transition.trigger)
            continue
        with pytest.raises(lc.TransitionRefused, match=r"^Only .+ may do this\.$"):
            lc.fire(subject, transition.trigger)
        assert subject.state == transition.sources[0]


@pytest.mark.parametrize("trigger", ["submit", "withdraw", "submit_report", "cancel",
                                     "start_reporting"])
def test_an_applicant_who_does_not_own_the_application_is_refused(trigger):
    transition = lc.TRANSITIONS_BY_TRIGGER[trigger]
    subject = Facts(transition.sources[0], actor_role="applicant", actor_is_owner=False)
    with pytest.raises(lc.TransitionRefused, match="the applicant who owns it"):
        lc.fire(subject, trigger)


@pytest.mark.parametrize(("trigger", "state", "facts", "message"), [
    ("submit", "draft", {"actor_role": "applicant", "call_is_open": False},
     "The call is not open for submissions."),
    ("submit", "draft", {"actor_role": "applicant",
                         "completeness_problems": ["give a title", "add a cost line"]},
     "The application is incomplete: give a title; add a cost line."),
    ("award", "under_review", {"submitted_review_count": 0},
     "At least one evaluator must have submitted a review before a decision."),
    ("award", "under_review", {"amount": Decimal("0")}, "Give an amount greater than zero."),
    ("award", "under_review", {"amount": None}, "Give an amount greater than zero."),
    ("reject", "submitted", {"comment": "  "}, "Give the reason for the rejection."),
    ("return_for_changes", "submitted", {"comment": ""}, "Give the changes you ask for."),
    ("return_report", "report_submitted", {"comment": ""},
     "Give what must change in the report."),
    ("submit_report", "reporting", {"actor_role": "applicant", "report_is_complete": False},
     "The final report needs a description of the work and the actual costs."),
    ("pay", "completed", {"fully_paid": False},
     "The voucher is paid once payments reach the payable amount."),
])
def test_guards_explain_refusals(trigger, state, facts, message):
    subject = Facts(state, **facts)
    with pytest.raises(lc.TransitionRefused) as exc:
        lc.fire(subject, trigger)
    assert str(exc.value) == message
    assert subject.state == state


def test_unknown_trigger_is_refused():
    with pytest.raises(lc.TransitionRefused, match="Unknown action 'explode'"):
        lc.fire(Facts("draft"), "explode")


def test_the_shared_machine_keeps_no_subject_after_firing():
    subject = Facts("under_review", submitted_review_count=0)
    with pytest.raises(lc.TransitionRefused):
        lc.fire(subject, "award")
    lc.fire(Facts("draft", actor_role="applicant"), "submit")
    assert lc._machine.models == []


def test_buttons_per_role_come_from_the_definition():
    assert [t.trigger for t in lc.triggers_from("under_review", "manager")] == [
        "return_for_changes", "award", "reject", "waitlist"]
    assert [t.trigger for t in lc.triggers_from("under_review", "applicant")] == ["withdraw"]
    # A paid voucher is closed; only reversing one of its payments reopens it.
    assert [t.trigger for t in lc.triggers_from("paid")] == ["reverse_payment"]


def test_every_state_is_reachable_and_every_non_final_state_has_a_way_out():
    reachable, frontier = {lc.DRAFT}, [lc.DRAFT]
    while frontier:
        state = frontier.pop()
        for t in lc.TRANSITIONS:
            if state in t.sources and t.dest not in reachable:
                reachable.add(t.dest)
                frontier.append(t.dest)
    assert reachable == set(lc.STATES)
    for state in set(lc.STATES) - lc.FINAL_STATES:
        assert lc.triggers_from(state), state


def test_mermaid_diagram_is_drawn_from_the_definition():
    text = lc.mermaid()
    assert "stateDiagram-v2" in text
    for t in lc.TRANSITIONS:
        for source in t.sources:
            assert f"{source} --> {t.dest}: {t.trigger}" in text
