"""Domain errors: every refused action raises one, with a message a person understands."""


class DomainError(Exception):
    """An action was refused and nothing changed."""

    @property
    def message(self) -> str:
        return str(self)


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


class PaymentRefused(DomainError):
    pass


class ConcurrentChange(DomainError):
    pass


class NotAllowed(DomainError):
    """The user may not act on this object (views answer 404, not 403)."""
