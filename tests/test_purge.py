"""purge-expired anonymises exactly the companies past their retention date, keeps every
figure, and the workbook of an old call still adds up after it; unused accounts are
disabled, then anonymised; a manager may erase a company that never received aid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, func, select

from tests.api_support import token_of
from tests.helpers import login
from tests.privacy_support import populated_company
from tests.test_workbook_libreoffice import recalculate, soffice  # noqa: F401  (fixture)
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import (
    ApiToken,
    ApplicationMessage,
    AuditRecord,
    ChangeRecord,
    DeMinimisGrant,
    LedgerEntry,
    Organisation,
    User,
)
from vouchers.search import search_key
from vouchers.services import api_tokens, attachments
from vouchers.services.purge import purge_expired
from vouchers.services.workbook import COMMAND_LINE, budget_export


@pytest.fixture
def no_account_purge(app):
    """Keep the accounts' own periods out of the company tests."""
    app.config.update(ACCOUNT_DISABLE_AFTER_DAYS=100_000, ACCOUNT_ANONYMISE_AFTER_DAYS=100_000)
    yield
    app.config.update(ACCOUNT_DISABLE_AFTER_DAYS=3 * 365, ACCOUNT_ANONYMISE_AFTER_DAYS=5 * 365)


def _no_grant(application) -> None:
    db.session.execute(delete(DeMinimisGrant).where(
        DeMinimisGrant.application_id == application.id))
    db.session.commit()


def _figures(application) -> tuple:
    ledger = [(e.kind, e.committed, e.paid, e.quota, e.booked_on) for e in db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.application_id == application.id)
        .order_by(LedgerEntry.id))]
    audit = [(r.from_state, r.to_state, r.trigger, r.amount, r.actor_id) for r in
             db.session.scalars(select(AuditRecord).where(
                 AuditRecord.application_id == application.id).order_by(AuditRecord.id))]
    return (application.state, application.requested_amount, application.awarded_amount,
            application.paid_amount, application.reference, ledger, audit,
            [line.amount for line in application.cost_lines])


def test_purge_anonymises_exactly_the_companies_past_their_date(app, make, no_account_purge):
    call = make.call()
    cvt, manager = call.voucher_type("market_validation"), make.manager()
    five = populated_company(make, "five", cvt=cvt, manager=manager)        # 5 years
    ten = populated_company(make, "ten", cvt=cvt, manager=manager)          # de minimis
    unfunded = populated_company(make, "unfunded", cvt=cvt, manager=manager,
                                 state="rejected")                          # no aid
    running = populated_company(make, "running", cvt=cvt, manager=manager,
                                state="submitted")                          # never due
    _no_grant(five[1])
    figures = {a.id: _figures(a) for _, a in (five, ten, unfunded, running)}
    paths = {a.id: attachments.path_of(a.attachments[0]) for _, a in (five, ten, unfunded)}

    # Not due on the last day: nothing happens.
    last_day = datetime(today().year + 5, 12, 31, 12, tzinfo=UTC)
    assert purge_expired(last_day).companies == []
    report = purge_expired(datetime(today().year + 6, 1, 2, 12, tzinfo=UTC))
    db.session.commit()
    db.session.expire_all()
    assert sorted(oid for oid, _, _ in report.companies) == sorted(
        [five[0].organisation_id, unfunded[0].organisation_id])

    for owner, application in (five, unfunded):
        org = owner.organisation
        assert org.anonymised_at is not None
        assert org.legal_name == f"Anonymised company #{org.id}"
        assert org.search_name == search_key(org.legal_name)
        assert (org.registry_number, org.iban, org.account_holder) == (f"ANON-{org.id}",
                                                                       None, None)
        assert owner.email == f"anonymised-{owner.id}@invalid" and owner.name.startswith(
            "Anonymised user")
        assert owner.password_hash is None and not owner.enabled
        assert application.title == f"Anonymised application {application.reference}"
        assert application.search_text == search_key(application.reference, application.title)
        assert application.summary == ""
        assert "Consultant" not in application.cost_lines[0].description
        assert not paths[application.id].exists()
        assert application.attachments[0].original_name.startswith("anonymised")
        assert all(m.body == "(anonymised)" for m in db.session.scalars(select(
            ApplicationMessage).where(ApplicationMessage.application_id == application.id)))
        assert all(r.comment == "" for r in application.audit_records)
        # Every figure stays.
        assert _figures(application) == figures[application.id]
        assert db.session.scalar(select(func.count(ChangeRecord.id)).where(
            ChangeRecord.subject_type == "organisation", ChangeRecord.subject_id == org.id,
            ChangeRecord.action == "anonymised")) == 1
    # The others are untouched.
    for owner, application in (ten, running):
        assert owner.organisation.anonymised_at is None
        assert owner.organisation.legal_name.startswith("Firm ")
        assert application.summary.startswith("Summary ")
        assert _figures(application) == figures[application.id]
    assert paths[ten[1].id].exists()
    # Nothing is left to find by the old names.
    for tag in ("five", "unfunded"):
        assert db.session.scalar(select(func.count(Organisation.id)).where(
            Organisation.legal_name.contains(tag))) == 0
        assert db.session.scalar(select(func.count(User.id)).where(
            User.email.contains(tag))) == 0
    # Running it again finds nothing more.
    assert purge_expired(datetime(today().year + 6, 1, 3, tzinfo=UTC)).companies == []


def test_the_command_lists_with_dry_run_and_then_anonymises(app, make, runner,
                                                          no_account_purge):
    call = make.call()
    owner, _ = populated_company(make, "old", cvt=call.voucher_type("travel"),
                                 manager=make.manager())
    # Periods of -1 year make today's payments a year past their date.
    app.config.update(RETENTION_YEARS=-1, DE_MINIMIS_RETENTION_YEARS=-1)
    try:
        dry = runner.invoke(args=["purge-expired", "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert f"Would do: Company #{owner.organisation_id}" in dry.output
        db.session.expire_all()
        assert owner.organisation.anonymised_at is None
        done = runner.invoke(args=["purge-expired"])
        assert done.exit_code == 0, done.output
        assert "1 company and 0 account(s) anonymised, 1 file(s) deleted" in done.output
    finally:
        app.config.update(RETENTION_YEARS=5, DE_MINIMIS_RETENTION_YEARS=10)
    db.session.expire_all()
    assert owner.organisation.anonymised_at is not None


def test_unused_accounts_are_disabled_then_anonymised(app, make):
    now = datetime.now(UTC)
    idle_manager, colleague = make.manager(), make.manager()
    idle, long_gone, busy = make.evaluator(), make.evaluator(), make.applicant()
    make.application("submitted", applicant=busy)
    active = make.applicant()
    for user, days in ((idle_manager, 2000), (colleague, 0), (idle, 1200), (long_gone, 2000),
                       (busy, 2000), (active, 10)):
        user.last_login_at = now - timedelta(days=days)
    db.session.commit()
    secret = token_of(idle, "read")

    report = purge_expired(now)
    db.session.commit()
    db.session.expire_all()
    assert set(report.disabled) == {idle_manager.id, idle.id, long_gone.id, busy.id}
    assert set(report.anonymised_accounts) == {idle_manager.id, long_gone.id}
    assert not idle.enabled and idle.anonymised_at is None and idle.name.startswith("Evaluator")
    assert long_gone.anonymised_at is not None and long_gone.email.endswith("@invalid")
    assert idle_manager.anonymised_at is not None and colleague.enabled
    # Someone whose company's application still runs keeps their name.
    assert not busy.enabled and busy.anonymised_at is None
    assert active.enabled
    assert db.session.scalar(select(func.count(ChangeRecord.id)).where(
        ChangeRecord.subject_id == idle.id, ChangeRecord.action == "disabled")) == 1
    # Its API token is revoked with it, not merely refused while it stays disabled.
    assert api_tokens.authenticate(secret) is None
    assert db.session.scalar(select(func.count(ApiToken.id)).where(
        ApiToken.user_id == idle.id, ApiToken.revoked_at.is_(None))) == 0


def test_the_last_manager_is_never_disabled_nor_anonymised(app, make):
    only = make.manager()
    only.last_login_at = datetime.now(UTC) - timedelta(days=4000)
    db.session.commit()
    report = purge_expired()
    db.session.commit()
    assert only.id not in report.disabled and only.id not in report.anonymised_accounts
    assert only.enabled and only.anonymised_at is None


def test_a_manager_erases_a_company_that_never_received_aid(app, client, make):
    call = make.call()
    manager = make.manager()
    owner, application = populated_company(make, "gone", cvt=call.voucher_type("travel"),
                                           manager=manager, state="withdrawn")
    path = attachments.path_of(application.attachments[0])
    login(client, make.manager())
    url = f"/manage/organisations/{owner.organisation_id}/anonymise"
    assert "never received aid" in client.get(url).get_data(as_text=True)
    assert client.post(url, data={"reason": "Asked by the SME"}).status_code == 400
    response = client.post(url, data={"reason": "Asked by the SME", "understood": "y"})
    assert response.status_code == 303
    db.session.expire_all()
    assert owner.organisation.anonymised_at is not None and not path.exists()
    record = db.session.scalar(select(ChangeRecord).where(
        ChangeRecord.subject_type == "organisation", ChangeRecord.action == "anonymised"))
    assert record.reason == "Anonymised by a manager: Asked by the SME"


def test_a_company_that_received_aid_waits_for_its_date(app, client, make):
    application = make.application("paid")
    login(client, make.manager())
    url = f"/manage/organisations/{application.organisation_id}/anonymise"
    response = client.post(url, data={"understood": "y"})
    assert response.status_code == 422
    assert "received aid" in response.get_data(as_text=True)
    db.session.expire_all()
    assert application.organisation.anonymised_at is None


def _cells(path) -> list:
    book = load_workbook(path, data_only=True)
    return [cell for ws in book.worksheets for row in ws.iter_rows(values_only=True)
            for cell in row if cell is not None]


def _summary_totals(path, call) -> dict:
    ws = load_workbook(path, data_only=True)["Summary"]
    total_row = len(call.voucher_types) + 2
    assert ws[f"A{total_row}"].value == "Total"
    return {ws.cell(1, col).value: Decimal(str(ws.cell(total_row, col).value))
            for col in range(2, 11)}


@pytest.mark.libreoffice
def test_the_workbook_of_an_old_call_adds_up_after_the_purge(app, make, soffice, tmp_path,  # noqa: F811
                                                             no_account_purge):
    call = make.call()
    manager = make.manager()
    mv, tr = call.voucher_type("market_validation"), call.voucher_type("travel")
    paid = [populated_company(make, f"old{n}", cvt=cvt, manager=manager)
            for n, cvt in enumerate((mv, mv, tr))]
    populated_company(make, "oldrejected", cvt=tr, manager=manager, state="rejected")

    def book(name: str):
        source = tmp_path / name
        with budget_export(call) as export:
            export.write(str(source), generated_by=COMMAND_LINE)
        (tmp_path / name.replace(".xlsx", "")).mkdir()
        return recalculate(soffice, source, tmp_path / name.replace(".xlsx", ""))

    before = book("before.xlsx")
    report = purge_expired(datetime(today().year + 11, 1, 2, tzinfo=UTC))
    db.session.commit()
    assert len(report.companies) == 4
    after = book("after.xlsx")

    totals = _summary_totals(before, call)
    assert totals["Paid"] == sum(a.paid_amount for _, a in paid) > 0
    assert _summary_totals(after, call) == totals
    text_before = " ".join(str(c) for c in _cells(before))
    text_after = " ".join(str(c) for c in _cells(after))
    for n in range(3):
        assert f"Firm old{n} GmbH" in text_before and f"Project old{n}" in text_before
        assert f"Firm old{n}" not in text_after and f"Project old{n}" not in text_after
    assert "Anonymised company #" in text_after
