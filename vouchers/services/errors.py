"""Domain errors: every refused action raises one, with a message a person understands.

The request boundary (vouchers/boundary.py) turns one into the page re-rendered with the
message next to the action, answered with ``status``; the CLI prints the message.
"""


class DomainError(Exception):
    """An action was refused and nothing changed."""

    status = 422
    # A refusal that is itself a fact to keep (a failed login counts towards throttling):
    # the boundary commits instead of rolling back.
    keeps_changes = False

    @property
    def message(self) -> str:
        return str(self)

    @property
    def headers(self) -> dict[str, str]:
        return {}


class TransitionNotAllowed(DomainError):
    pass


class InvalidInput(DomainError):
    pass


class BudgetExceeded(DomainError):
    pass


class QuotaExceeded(DomainError):
    pass


class DeMinimisExceeded(DomainError):
    pass


class SupportCapExceeded(DomainError):
    """The support to one SME over the programme would pass the call's cap."""


class VoucherLimitReached(DomainError):
    """The SME holds as many vouchers of the programme as a call allows."""


class PaymentRefused(DomainError):
    pass


class BelowThreshold(DomainError):
    """The application's score is below the call's threshold or a criterion's minimum."""


class IneligibleApplication(DomainError):
    """An eligibility rule fails and no manager accepted an exception to it."""


class ConcurrentChange(DomainError):
    """Someone changed the same rows at the same moment; trying again may work."""

    status = 409


class ConstraintClash(DomainError):
    """A database constraint refused the change; ``constraint`` names it."""

    def __init__(self, message: str, constraint: str | None = None):
        super().__init__(message)
        self.constraint = constraint


class NotAllowed(DomainError):
    """The user may not act on this object (views answer 404, not 403)."""

    status = 404
