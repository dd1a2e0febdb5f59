"""The data model. Import from here: `from vouchers.models import Application`."""

from .accounts import INVITED_ROLES, ChangeRecord, FailedLogin, Invitation, KnownAddress
from .applications import Application, Attachment, AuditRecord, CostLine
from .people import COMPANY_SIZES, SECTORS, Organisation, User
from .programmes import (
    PROVIDER_TYPES,
    VOUCHER_TYPE_LABELS,
    VOUCHER_TYPES,
    Call,
    CallVoucherType,
    Criterion,
    Programme,
    ServiceProvider,
)
from .reporting import REPORT_STATUSES, FinalReport, Payment
from .reviews import RECOMMENDATIONS, Assignment, Review, ReviewScore

__all__ = [
    "COMPANY_SIZES", "INVITED_ROLES", "PROVIDER_TYPES", "RECOMMENDATIONS", "REPORT_STATUSES",
    "SECTORS",
    "VOUCHER_TYPES", "VOUCHER_TYPE_LABELS",
    "Application", "Assignment", "Attachment", "AuditRecord", "Call", "CallVoucherType",
    "ChangeRecord", "KnownAddress",
    "CostLine", "Criterion", "FailedLogin", "FinalReport", "Invitation", "Organisation", "Payment",
    "Programme", "Review",
    "ReviewScore", "ServiceProvider", "User",
]
