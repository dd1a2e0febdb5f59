"""An applicant's "Download my data": everything the system holds about them and their
company, as one zip (data.json and the files they and the programme exchanged).

What goes in is what the applicant may see on their own pages, read through the same
permissions (policy.can_view_application, can_download, can_read_messages, can_see_record):
their account, consents, sign-in records, the e-mails sent to them, the company and its
de minimis and bank records, and per application its answers, cost lines, files, final
report, messages of the thread, history, payments and follow-up surveys. Not in it:
internal notes, reviews and who wrote them (the applicant never sees evaluators), other
people's accounts; the managers who acted appear as "the programme".
"""

from __future__ import annotations

import json
import zipfile
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from sqlalchemy import select

from .. import policy
from ..extensions import db
from ..models import (
    ApiToken,
    Application,
    AuditRecord,
    BankDetailsChange,
    ChangeRecord,
    ConsentRecord,
    DeMinimisGrant,
    FinalReport,
    FollowUpSurvey,
    KnownAddress,
    LedgerEntry,
    OutboxMessage,
    Payment,
    User,
)
from ..models.ledger import REVERSAL
from ..policy_mail import can_read_messages
from . import attachments as files
from .messages import thread_of
from .privacy import export_name_of
from .retention import retention_of


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(obj: Any, *names: str) -> dict[str, Any]:
    return {name: _plain(getattr(obj, name)) for name in names}


def _who(actor_id: int | None, user: User) -> str:
    if actor_id is None:
        return "system"
    return "you" if actor_id == user.id else "the programme"


def _account(user: User) -> dict[str, Any]:
    data = _row(user, "id", "name", "email", "role", "created_at", "last_login_at",
                "email_verified_at", "mail_digest", "totp_enabled_at")
    data["consents"] = [_row(c, "kind", "given", "version", "at", "application_id")
                        for c in db.session.scalars(select(ConsentRecord).where(
                            ConsentRecord.user_id == user.id).order_by(ConsentRecord.id))]
    data["known_addresses"] = [_row(k, "address", "last_seen") for k in db.session.scalars(
        select(KnownAddress).where(KnownAddress.user_id == user.id))]
    data["api_tokens"] = [_row(t, "name", "prefix", "scope", "created_at", "expires_at",
                               "last_used_at", "revoked_at")
                          for t in db.session.scalars(select(ApiToken).where(
                              ApiToken.user_id == user.id))]
    data["history"] = _changes("user", user.id, user)
    data["emails"] = [
        {**_row(m, "kind", "to_address", "subject", "status", "created_at", "sent_at"),
         # A single-use link stays out, even one still valid.
         "body": "" if m.sensitive else m.body_text}
        for m in db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.user_id == user.id).order_by(OutboxMessage.id))]
    return data


def _changes(subject_type: str, subject_id: int, user: User) -> list[dict[str, Any]]:
    return [{**_row(r, "action", "at", "reason", "changes"), "by": _who(r.actor_id, user)}
            for r in db.session.scalars(select(ChangeRecord).where(
                ChangeRecord.subject_type == subject_type,
                ChangeRecord.subject_id == subject_id).order_by(ChangeRecord.id))]


def _company(user: User) -> dict[str, Any] | None:
    org = user.organisation
    if org is None:
        return None
    data = _row(org, "id", "legal_name", "registry_number", "country", "region", "size",
                "sector", "vat_number", "iban", "bic", "account_holder", "created_at")
    data["aid_declared"] = [_row(d, "granting_body", "granted_on", "amount", "declared_at")
                            for d in org.aid_declarations]
    data["de_minimis_grants"] = [
        _row(g, "undertaking", "country", "vat_number", "registry_number",
             "granting_authority", "granted_on", "amount", "regulation")
        for g in db.session.scalars(select(DeMinimisGrant).where(
            DeMinimisGrant.organisation_id == org.id))]
    data["bank_changes"] = [
        _row(c, "iban", "bic", "account_holder", "requested_at", "outcome", "decided_at",
             "reason")
        for c in db.session.scalars(select(BankDetailsChange).where(
            BankDetailsChange.organisation_id == org.id))]
    data["history"] = _changes("organisation", org.id, user)
    return data


def _application(a: Application, user: User, out: list) -> dict[str, Any]:
    data = _row(a, "id", "reference", "voucher_type", "title", "summary", "details", "state",
                "requested_amount", "awarded_amount", "paid_amount", "currency",
                "publication_consent", "created_at", "submitted_at", "awarded_at",
                "decided_at", "decision_reason", "report_due_on")
    data["call"] = a.call.code
    data["provider"] = a.provider.name if a.provider else None
    data["cost_lines"] = [_row(line, "description", "amount") for line in a.cost_lines]
    data["files"] = []
    for attachment in a.attachments:
        if policy.can_download(user, attachment):
            data["files"].append({**_row(attachment, "purpose", "kind", "original_name",
                                         "content_type", "size", "uploaded_at"),
                                  "in_zip": _add_file(out, attachment)})
    report = db.session.scalar(select(FinalReport).where(FinalReport.application_id == a.id))
    data["final_report"] = None if report is None else _row(
        report, "summary", "actual_costs", "currency", "costs_in_currency", "submitted_at",
        "decided_at", "decision_comment")
    data["messages"] = []
    if can_read_messages(user, a):
        for m in thread_of(a, user):
            data["messages"].append({
                **_row(m, "body", "created_at"), "from": _who(m.author_id, user),
                "files": [_add_file(out, f) for f in m.attachments]})
    data["history"] = [
        {**_row(r, "from_state", "to_state", "trigger", "at", "comment", "amount"),
         "by": _who(r.actor_id, user)}
        for r in db.session.scalars(select(AuditRecord).where(
            AuditRecord.application_id == a.id).order_by(AuditRecord.id))
        if policy.can_see_record(user, r)]
    reversed_ids = set(db.session.scalars(select(LedgerEntry.payment_id).where(
        LedgerEntry.application_id == a.id, LedgerEntry.kind == REVERSAL)))
    data["payments"] = [
        {**_row(p, "kind", "amount", "paid_on", "reference", "currency",
                "amount_in_currency", "rate"), "reversed": p.id in reversed_ids}
        for p in db.session.scalars(select(Payment).where(
            Payment.application_id == a.id).order_by(Payment.id))]
    data["surveys"] = [
        _row(s, "months", "due_on", "answered_at", "jobs_created", "turnover_change",
             "market_entry", "certification", "follow_on_investment", "comment")
        for s in db.session.scalars(select(FollowUpSurvey).where(
            FollowUpSurvey.application_id == a.id))]
    return data


def _add_file(out: list, attachment) -> str:
    name = f"files/{export_name_of(attachment)}"
    out.append((name, files.path_of(attachment)))
    return name


def export_of(user: User) -> tuple[dict[str, Any], list]:
    """The export's JSON, and the (name in the zip, path on disk) of its files."""
    policy.ensure(policy.can_apply(user), "Only an applicant downloads their data here.")
    out: list = []
    applications = [] if user.organisation_id is None else [
        a for a in db.session.scalars(select(Application).where(
            Application.organisation_id == user.organisation_id).order_by(Application.id))
        if policy.can_view_application(user, a)]
    data = {"exported_at": _plain(datetime.now().astimezone()), "account": _account(user),
            "company": _company(user),
            "applications": [_application(a, user, out) for a in applications]}
    return data, out


def write_zip(user: User, target: IO[bytes]) -> None:
    """Write the zip to ``target``; a file gone from disk is said so in the zip."""
    data, stored = export_of(user)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, indent=2, ensure_ascii=False))
        missing = []
        for name, path in stored:
            if path.is_file():
                archive.write(path, name)
            else:
                missing.append(name)
        if missing:
            archive.writestr("missing-files.txt", "\n".join(missing) + "\n")


def page_of(user: User) -> dict[str, Any]:
    """What the "My data" page shows: the consents given, and how long the company's
    records are kept."""
    policy.ensure(policy.can_apply(user), "Only an applicant sees this page.")
    consents = list(db.session.scalars(select(ConsentRecord).where(
        ConsentRecord.user_id == user.id).order_by(ConsentRecord.id.desc())))
    org = user.organisation
    return {"consents": consents,
            "retention": retention_of(org) if org is not None else None}
