"""Personal data: the consents people give, and erasing a company's or a person's data
while keeping every figure the funder's workbook and the audit trail need.

What anonymising clears, table by table (vouchers/models/*.py), and why the rest stays:

- organisations: legal_name -> "Anonymised company #<id>", registry_number ->
  "ANON-<id>" (unique, as its constraint wants), vat_number, iban, bic, account_holder
  cleared. Country, region, size and sector stay: the partner, the region's figures and
  the eligibility of past awards are read from them; none names a person.
- users: name -> "Anonymised user #<id>", email -> "anonymised-<id>@invalid" (unique for
  uq_users_email_lower; .invalid never delivers), password hash and TOTP secret removed,
  disabled, sessions ended; their API tokens revoked, recovery codes, known addresses,
  failed logins and unused account links removed. Role, dates and ids stay: reviews,
  payments and audit records point at them.
- applications: title -> "Anonymised application <reference>", summary, decision reason
  and the type's text answers cleared (dates kept); reference, amounts, states, dates,
  scores stay (the workbook). cost_lines: descriptions replaced, amounts kept.
  application_versions: the same in each frozen snapshot.
- attachments, message_attachments: files deleted from disk after the commit; rows kept
  (kind, size, dates: what was provided) with the name replaced.
- application_messages (the thread and internal notes), final_reports (summary, decision
  comment), reviews, consensus and its scores (comments), assignments (conflict reason),
  eligibility_overrides (reason), follow_up_surveys (comment): free text cleared; scores,
  figures and dates kept.
- bank_details_changes, batch_items: IBAN, BIC and holder cleared (amounts, remittance
  text, which names only the voucher and the programme, kept); de_minimis_grants:
  undertaking, VAT and registry number replaced like the company's, amount and date kept.
- invitations (of the user), outbox_messages (to the user or about the company): addresses
  and bodies replaced; a message not yet sent is given up.
- Append-only records keep every state, amount, actor and date, and lose only their free
  text: audit_records.comment, ledger_entries.reason, change_records (reason, and the old
  and new values of personal fields), expenditure_lines.description (the title and reasons
  quoted in it). Their mapper events refuse ORM updates on purpose; this module alone
  writes them, with Core UPDATEs of those columns only.
- consent_records stay whole: they hold no text, and prove what was agreed.
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, delete, or_, select, update

from workflows.lifecycle import APPLICANT

from .. import policy, voucher_types
from ..extensions import db
from ..models import (
    AccountToken,
    ApiToken,
    Application,
    ApplicationMessage,
    ApplicationVersion,
    Assignment,
    Attachment,
    AuditRecord,
    BankDetailsChange,
    BatchItem,
    ChangeRecord,
    Consensus,
    ConsensusScore,
    ConsentRecord,
    DeMinimisGrant,
    EligibilityOverride,
    ExpenditureLine,
    FailedLogin,
    FinalReport,
    FollowUpSurvey,
    Invitation,
    KnownAddress,
    LedgerEntry,
    MessageAttachment,
    Organisation,
    OutboxMessage,
    RecoveryCode,
    Review,
    User,
)
from ..models.base import utcnow
from . import attachments as files
from .errors import InvalidInput
from .retention import retention_of
from .transaction import atomic
from .wording import iso_day

# The privacy notice's version (templates/public/privacy.html shows it): a consent records
# which text it agreed to.
NOTICE_VERSION = "2026-12-01"
PRIVACY_NOTICE, SUBMISSION, PUBLICATION = "privacy_notice", "submission", "publication"
ANONYMISED = "anonymised"
ERASED = "(anonymised)"
# Fields of change records whose old and new values are personal data.
PERSONAL_FIELDS = frozenset({"legal_name", "registry_number", "vat_number", "iban", "bic",
                             "account_holder", "email", "name"})


def record_consent(user: User, kind: str, given: bool = True,
                   application: Application | None = None) -> ConsentRecord:
    """Add one consent (or refusal); call inside the action's atomic() block."""
    record = ConsentRecord(user_id=user.id, kind=kind, given=bool(given),
                           application_id=application.id if application else None,
                           version=NOTICE_VERSION)
    db.session.add(record)
    return record


def record_submission_consents(application: Application, actor: User,
                               publication: bool) -> None:
    """The declarations a submission makes, and the answer on publication."""
    record_consent(actor, SUBMISSION, True, application)
    record_consent(actor, PUBLICATION, publication, application)


def company_name(organisation_id: int) -> str:
    return f"Anonymised company #{organisation_id}"


def user_placeholder(user_id: int) -> tuple[str, str]:
    return f"Anonymised user #{user_id}", f"anonymised-{user_id}@invalid"


# --- a person -----------------------------------------------------------------------------


def _erase_user(user: User, now) -> None:
    name, email = user_placeholder(user.id)
    old_email = user.email.lower()
    user.name, user.email = name, email
    user.password_hash = None
    user.totp_secret, user.totp_enabled_at = None, None
    user.enabled, user.mail_digest = False, False
    user.anonymised_at = now
    user.session_generation = User.session_generation + 1
    uid = user.id
    run = db.session.execute
    run(update(ApiToken).where(ApiToken.user_id == uid, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now).execution_options(synchronize_session=False))
    run(delete(RecoveryCode).where(RecoveryCode.user_id == uid))
    run(delete(KnownAddress).where(KnownAddress.user_id == uid))
    run(delete(FailedLogin).where(FailedLogin.email == old_email))
    run(delete(AccountToken).where(AccountToken.user_id == uid))
    run(update(Invitation).where(Invitation.user_id == uid)
        .values(email=email, name=name).execution_options(synchronize_session=False))
    _erase_mail(OutboxMessage.user_id == uid, email)
    _erase_change_records(ChangeRecord.subject_type == "user", ChangeRecord.subject_id == uid)


def _erase_mail(where, address: str) -> None:
    db.session.flush()
    m = OutboxMessage
    db.session.execute(update(m).where(where, m.status.in_(("pending", "sending")))
                       .values(status="failed", last_error="Not sent: the recipient's "
                               "data was anonymised.", claimed_until=None)
                       .execution_options(synchronize_session=False))
    db.session.execute(update(m).where(where).values(
        to_address=address, subject=ERASED, body_text=ERASED, body_html=ERASED)
        .execution_options(synchronize_session=False))


def _erase_change_records(*where) -> None:
    # Append-only: the ORM refuses updates; the values of personal fields and the free
    # text go, the action, the actor and the time stay.
    db.session.flush()
    rows = db.session.execute(select(ChangeRecord.id, ChangeRecord.changes).where(*where))
    table = ChangeRecord.__table__
    for row_id, changes in rows.all():
        kept = {field: ([ERASED, ERASED] if field in PERSONAL_FIELDS else pair)
                for field, pair in (changes or {}).items()}
        db.session.execute(update(table).where(table.c.id == row_id)
                           .values(changes=kept, reason=""))


def anonymise_user(user: User, by: User | None, reason: str) -> None:
    """Erase one account's personal data (an unused account, or a company's member)."""
    if user.anonymised_at is not None:
        raise InvalidInput(_("Account #%(id)s is already anonymised.", id=user.id))
    with atomic():
        _erase_user(user, utcnow())
        _change_record("user", user.id, by, reason)
    current_app.logger.info("anonymised: user %s (%s)", user.id, reason)


def _change_record(subject_type: str, subject_id: int, by: User | None, reason: str) -> None:
    db.session.add(ChangeRecord(subject_type=subject_type, subject_id=subject_id,
                                action=ANONYMISED, actor_id=by.id if by else None,
                                reason=reason, changes={}))


# --- a company ------------------------------------------------------------------------------


def anonymise_company(organisation: Organisation, by: User, reason: str = "") -> int:
    """A manager erases a company that never received aid (the rule: retention.py)."""
    policy.ensure(policy.can_run_programme(by),
                  "Only the lead partner's managers may anonymise a company.")
    standing = retention_of(organisation)
    if organisation.anonymised_at is not None:
        raise InvalidInput(_("This company is already anonymised."))
    if standing.received_aid:
        if standing.keep_until is None:
            raise InvalidInput(_("This company received aid: its records are kept until its "
                                 "applications end, then the purge erases them."))
        raise InvalidInput(_("This company received aid: its records are kept until "
                             "%(day)s, then the purge erases them.",
                             day=iso_day(standing.keep_until)))
    if standing.running:
        raise InvalidInput(_("An application of this company is still running: it must end "
                             "(withdrawn, rejected or cancelled) before the company is "
                             "erased."))
    text = reason.strip()[:500] or "a manager's decision"
    return erase_company(organisation, by, f"Anonymised by a manager: {text}")


def erase_company(organisation: Organisation, by: User | None, reason: str) -> int:
    """Erase the company, its applications' text and files, and its applicants' accounts.
    Returns how many files go; they are deleted once the transaction commits."""
    now = utcnow()
    with atomic():
        paths = _erase_company_rows(organisation, now)
        _change_record("organisation", organisation.id, by, reason)
    for path in paths:
        files.remove_on_commit(path)
    current_app.logger.info("anonymised: organisation %s, %d file(s) (%s)", organisation.id,
                            len(paths), reason)
    return len(paths)


def _erase_company_rows(organisation: Organisation, now) -> list[Path]:
    oid = organisation.id
    placeholder = company_name(oid)
    organisation.legal_name = placeholder
    organisation.registry_number = f"ANON-{oid}"
    organisation.vat_number = organisation.iban = organisation.bic = None
    organisation.account_holder = None
    organisation.anonymised_at = now
    applications = db.session.scalars(
        select(Application).where(Application.organisation_id == oid)).all()
    paths: list[Path] = []
    for application in applications:
        paths += _erase_application(application)
    ids = [a.id for a in applications]
    run = db.session.execute
    run(update(DeMinimisGrant).where(DeMinimisGrant.organisation_id == oid).values(
        undertaking=placeholder, vat_number="", registry_number=f"ANON-{oid}")
        .execution_options(synchronize_session=False))
    run(update(BankDetailsChange).where(BankDetailsChange.organisation_id == oid).values(
        iban="", bic="", account_holder=placeholder, reason="")
        .execution_options(synchronize_session=False))
    if ids:
        run(update(BatchItem).where(BatchItem.application_id.in_(ids)).values(
            iban="", bic="", account_holder=placeholder)
            .execution_options(synchronize_session=False))
        _erase_mail(OutboxMessage.application_id.in_(ids), "anonymised@invalid")
    _erase_change_records(ChangeRecord.subject_type == "organisation",
                          ChangeRecord.subject_id == oid)
    people = db.session.scalars(select(User).where(or_(
        and_(User.organisation_id == oid, User.role == APPLICANT),
        User.id.in_(select(Application.applicant_id).where(Application.organisation_id == oid)),
    ))).all()
    for person in people:
        if person.anonymised_at is None:
            _erase_user(person, now)
            _change_record("user", person.id, None, f"Member of {placeholder}")
    db.session.flush()
    return paths


def _erase_application(application: Application) -> list[Path]:
    aid = application.id
    old_title = application.title
    application.title = f"Anonymised application {application.reference}"
    application.summary = ""
    application.decision_reason = ""
    dates = voucher_types.get(application.voucher_type).date_keys
    application.details = {k: (v if k in dates else "")
                           for k, v in (application.details or {}).items()}
    for position, line in enumerate(application.cost_lines, start=1):
        line.description = f"Cost line {position}"
    paths = []
    for attachment in application.attachments:
        paths.append(files.path_of(attachment))
        attachment.original_name = f"anonymised-{attachment.id}"
    messages = db.session.scalars(select(ApplicationMessage).where(
        ApplicationMessage.application_id == aid)).all()
    for message in messages:
        message.body = ERASED
        for attachment in message.attachments:
            paths.append(files.path_of(attachment))
            attachment.original_name = f"anonymised-{attachment.id}"
    for version in db.session.scalars(select(ApplicationVersion).where(
            ApplicationVersion.application_id == aid)):
        version.snapshot = _erased_snapshot(version.snapshot or {}, application.title, dates)
    _clear(aid, FinalReport, summary="", decision_comment="")
    _clear(aid, Review, comment="")
    _clear(aid, Consensus, comment="")
    _clear(aid, Assignment, conflict_reason="")
    _clear(aid, EligibilityOverride, reason=ERASED)
    _clear(aid, FollowUpSurvey, comment="")
    db.session.execute(update(ConsensusScore).where(ConsensusScore.consensus_id.in_(
        select(Consensus.id).where(Consensus.application_id == aid))).values(comment="")
        .execution_options(synchronize_session=False))
    _erase_append_only(application, old_title)
    return paths


def _clear(application_id: int, model, **values) -> None:
    db.session.execute(update(model).where(model.application_id == application_id)
                       .values(**values).execution_options(synchronize_session=False))


def _erased_snapshot(snapshot: dict, title: str, dates) -> dict:
    erased = dict(snapshot, title=title, summary="")
    erased["details"] = {k: (v if k in dates else "")
                         for k, v in (snapshot.get("details") or {}).items()}
    erased["cost_lines"] = [{"description": f"Cost line {n}", "amount": line.get("amount")}
                            for n, line in enumerate(snapshot.get("cost_lines") or [], 1)]
    erased["attachments"] = [{"name": "anonymised", "kind": a.get("kind")}
                             for a in snapshot.get("attachments") or []]
    return erased


def _erase_append_only(application: Application, old_title: str) -> None:
    """The free text of the application's append-only records (see the docstring)."""
    db.session.flush()  # the ORM's changes first: the statements below read the rows
    run, aid = db.session.execute, application.id
    audit, ledger, lines = (AuditRecord.__table__, LedgerEntry.__table__,
                            ExpenditureLine.__table__)
    run(update(audit).where(audit.c.application_id == aid).values(comment=""))
    reasons = [r for r in db.session.scalars(
        select(LedgerEntry.reason).where(LedgerEntry.application_id == aid)) if r]
    run(update(ledger).where(ledger.c.application_id == aid).values(reason=""))
    found = db.session.execute(select(lines.c.id, lines.c.description).where(
        lines.c.ledger_entry_id.in_(select(ledger.c.id).where(
            ledger.c.application_id == aid)))).all()
    for line_id, description in found:
        text = description.replace(old_title, application.title)
        for reason in reasons:
            text = text.replace(reason, ERASED)
        run(update(lines).where(lines.c.id == line_id).values(description=text))


def export_name_of(attachment: Attachment | MessageAttachment) -> str:
    """The name a file goes by in a data export: its id keeps two of one name apart."""
    return f"{attachment.id}-{attachment.original_name}"

