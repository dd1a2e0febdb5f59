"""The lifecycle's refusals in the reader's language.

workflows/lifecycle.py knows no Flask and refuses in English, in a few known sentences;
services/transitions.py hands each refusal here to be said again through the catalogue.
"""

from __future__ import annotations

from flask_babel import gettext as _

from workflows import lifecycle

from ..models import Application
from .wording import either, in_sentence

_INCOMPLETE = "The application is incomplete: "


def refusal(message: str, application: Application, trigger: str) -> str:
    """The lifecycle's refusal (English: workflows/ knows no Flask) in the reader's language.

    The lifecycle says why in a few known sentences; each is said again here through the
    catalogue. One not known here (a programming error) stays as it is.
    """
    transition = lifecycle.TRANSITIONS_BY_TRIGGER.get(trigger)
    if transition is None:
        return message
    if application.state not in transition.sources:
        def state(s: str) -> str:
            return in_sentence(lifecycle.STATE_LABELS.get(s, s))

        return _("Not possible now: the application is %(state)s, and “%(action)s” applies "
                 "only to applications that are %(allowed)s.", state=state(application.state),
                 action=_(transition.label),
                 allowed=either([state(s) for s in transition.sources]))
    if message == f"Only {lifecycle.who_may(transition.roles, transition.owner)} may do this.":
        who = {lifecycle.MANAGER: _("a manager"), lifecycle.EVALUATOR: _("an evaluator"),
               lifecycle.APPLICANT: _("the applicant who owns it") if transition.owner
               else _("an applicant")}
        return _("Only %(who)s may do this.", who=either(
            [who[r] for r in transition.roles if r != lifecycle.SYSTEM]))
    if message.startswith(_INCOMPLETE) and message.endswith("."):
        return _("The application is incomplete: %(problems)s.",
                 problems=message[len(_INCOMPLETE):-1])
    known = {
        "The call is not open for submissions.": _("The call is not open for submissions."),
        "At least one evaluator must have submitted a review before a decision.":
            _("At least one evaluator must have submitted a review before a decision."),
        "Give the changes you ask for.": _("Give the changes you ask for."),
        "Give the reason for the rejection.": _("Give the reason for the rejection."),
        "Give the reason for cancelling.": _("Give the reason for cancelling."),
        "Give what must change in the report.": _("Give what must change in the report."),
        "Give the reason for the reversal.": _("Give the reason for the reversal."),
        "Give an amount greater than zero.": _("Give an amount greater than zero."),
        "The voucher is paid once payments reach the payable amount.":
            _("The voucher is paid once payments reach the payable amount."),
        "The final report needs a description of the work and the actual costs.":
            _("The final report needs a description of the work and the actual costs."),
        "This action is not allowed now.": _("This action is not allowed now."),
    }
    return known.get(message, message)
