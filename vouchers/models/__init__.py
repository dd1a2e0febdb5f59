"""The data model. Import from here: `from vouchers.models import Application`."""

from .accounts import INVITED_ROLES, ChangeRecord, FailedLogin, Invitation, KnownAddress
from .applications import (
    Application,
    ApplicationVersion,
    Attachment,
    AuditRecord,
    CostLine,
    EligibilityOverride,
)
from .jobs import JOB_STATES, Job
from .ledger import (
    BankDetailsChange,
    BatchItem,
    DeMinimisGrant,
    LedgerEntry,
    PaymentBatch,
)
from .mail import OUTBOX_STATUSES, TOKEN_PURPOSES, AccountToken, OutboxMessage
from .messages import ApplicationMessage, MessageAttachment
from .partners import (
    PARTNER_REPORT_STATUSES,
    RATE_RULES,
    ExchangeRate,
    ExpenditureLine,
    Partner,
    PartnerRegion,
    PartnerReport,
    PartnerShare,
)
from .people import COMPANY_SIZES, SECTORS, AidDeclaration, Organisation, User
from .privacy import CONSENT_KINDS, ConsentRecord
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
from .reviews import RECOMMENDATIONS, Assignment, Consensus, ConsensusScore, Review, ReviewScore
from .second_factor import TOKEN_SCOPES, ApiToken, RecoveryCode
from .surveys import FollowUpSurvey

__all__ = [
    "COMPANY_SIZES", "INVITED_ROLES", "JOB_STATES", "Job", "OUTBOX_STATUSES", "PROVIDER_TYPES",
    "RECOMMENDATIONS",
    "REPORT_STATUSES", "SECTORS", "TOKEN_PURPOSES", "VOUCHER_TYPES", "VOUCHER_TYPE_LABELS",
    "PARTNER_REPORT_STATUSES", "RATE_RULES", "ExchangeRate", "ExpenditureLine", "Partner",
    "PartnerRegion", "PartnerReport", "PartnerShare",
    "TOKEN_SCOPES", "ApiToken", "RecoveryCode", "CONSENT_KINDS", "ConsentRecord",
    "FollowUpSurvey",
    "AccountToken", "AidDeclaration", "Application", "ApplicationMessage", "ApplicationVersion",
    "Assignment", "Attachment", "AuditRecord", "BankDetailsChange", "BatchItem", "Call",
    "CallVoucherType", "ChangeRecord", "Consensus", "ConsensusScore", "CostLine", "Criterion",
    "DeMinimisGrant", "EligibilityOverride", "FailedLogin", "FinalReport", "Invitation",
    "KnownAddress", "LedgerEntry", "MessageAttachment", "Organisation", "OutboxMessage", "Payment",
    "PaymentBatch", "Programme", "Review", "ReviewScore", "ServiceProvider", "User",
]
