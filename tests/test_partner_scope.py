"""A partner manager sees and hears of its own regions' SMEs only (issue 11).

Two partners of one programme, A (North Brabant) and B (Capital Region), and the lead
partner: A's manager finds only A's SMEs in the applications table, on the home dashboard
and among the companies, and gets 404 on anything of B's; the lead's manager sees both;
mail about an application goes to the managers who reach it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from tests.helpers import PDF, login, logout, snapshot
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import Application, Attachment, OutboxMessage, Payment, User
from vouchers.models.base import utcnow
from vouchers.services import accounts, attachments, digests, messages, partner_reports


def _pdf(name: str) -> FileStorage:
    return FileStorage(io.BytesIO(PDF), name, content_type="application/pdf")


@dataclass
class Consortium:
    call: object
    a: object  # partner of North Brabant
    b: object  # partner of Capital Region
    lead_manager: User
    a_manager: User
    b_manager: User
    free_manager: User  # of no partner: the whole programme, as the lead's
    a_app: Application
    b_app: Application
    b_paid: Application


@pytest.fixture
def consortium(make) -> Consortium:
    call = make.call()
    programme = call.programme
    lead = make.partner(programme, "Lead Agency", "DE", "EUR", is_lead=True,
                        regions=[("DE", "Bavaria", "DE2")])
    a = make.partner(programme, "Brabant Agency", "NL", "EUR",
                     regions=[("NL", "North Brabant", "NL41")])
    b = make.partner(programme, "Capital Agency", "DK", "EUR",
                     regions=[("DK", "Capital Region", "DK01")])
    lead_manager, a_manager = make.manager(partner=lead), make.manager(partner=a)
    b_manager, free_manager = make.manager(partner=b), make.manager()
    a_app = make.application("submitted", call.voucher_type("travel"),
                             applicant=make.applicant(), manager=lead_manager)
    b_owner = make.applicant(country="DK", region="Capital Region")
    b_app = make.draft(call.voucher_type("market_validation"), b_owner)
    attachments.add_attachment(b_app, b_owner, _pdf("quote.pdf"), "application")
    make.step(b_app, "submit", applicant=b_owner, manager=lead_manager)
    b_paid = make.application("paid", call.voucher_type("product_validation"),
                              applicant=b_owner, manager=lead_manager)
    db.session.commit()
    assert (a_app.partner_id, b_app.partner_id, b_paid.partner_id) == (a.id, b.id, b.id)
    return Consortium(call, a, b, lead_manager, a_manager, b_manager, free_manager,
                      a_app, b_app, b_paid)


def _page(client, user, url: str) -> str:
    logout(client)
    login(client, user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def _status(client, user, url: str, method: str = "get", **kwargs) -> int:
    logout(client)
    login(client, user)
    response = getattr(client, method)(url, **kwargs)
    response.close()  # a file download holds its file open until closed
    return response.status_code


def test_the_applications_table_holds_the_partners_smes_only(client, consortium):
    c = consortium
    url = f"/manage/applications?call={c.call.id}"
    page = _page(client, c.a_manager, url)
    assert c.a_app.reference in page
    assert c.b_app.reference not in page and c.b_app.organisation.legal_name not in page
    assert "Applications 1–1 of 1" in page
    # Nor does the country filter name B's country, nor the page offer auto-assignment.
    assert '<option value="DK"' not in page and "Assign evaluators automatically" not in page
    lead = _page(client, c.lead_manager, url)
    assert all(a.reference in lead for a in (c.a_app, c.b_app, c.b_paid))
    assert "Assign evaluators automatically" in lead


def test_the_home_dashboard_counts_the_partners_smes_only(client, consortium):
    c = consortium
    page = _page(client, c.a_manager, "/manage/")
    # One application received (A's), one short of evaluators; no budget, no call
    # dashboard, no funding line or payments pages: the whole programme's.
    assert f'<a href="/manage/applications?call={c.call.id}">1</a>' in page
    assert 'data-need="short_of_evaluators"><a href="/manage/applications?call=' in page
    assert "<strong>1</strong> Applications short of evaluators" in page
    assert "Envelope" not in page and f"/manage/calls/{c.call.id}/dashboard" not in page
    assert "/ranking/" not in page and "/manage/calls/" not in page
    assert "Funding line to propose" not in page
    lead = _page(client, c.lead_manager, "/manage/")
    assert f'<a href="/manage/applications?call={c.call.id}">3</a>' in lead
    assert "<strong>2</strong> Applications short of evaluators" in lead
    assert "Envelope" in lead and f"/manage/calls/{c.call.id}/dashboard" in lead
    # B's manager: B's paid voucher and application, not A's.
    b_page = _page(client, c.b_manager, "/manage/")
    assert f'<a href="/manage/applications?call={c.call.id}">2</a>' in b_page


def test_the_companies_list_holds_the_partners_smes_only(client, consortium):
    c = consortium
    a_name, b_name = c.a_app.organisation.legal_name, c.b_app.organisation.legal_name
    page = _page(client, c.a_manager, "/manage/organisations")
    assert a_name in page and b_name not in page
    assert "/manage/bank-changes" not in page
    searched = _page(client, c.a_manager, f"/manage/organisations?q={b_name}")
    assert "No company matches this search." in searched
    lead = _page(client, c.lead_manager, "/manage/organisations")
    assert a_name in lead and b_name in lead


def test_the_menu_links_only_pages_the_manager_opens(client, consortium):
    c = consortium
    page = _page(client, c.a_manager, "/manage/")
    menu = page.split('aria-label="Main"')[1].split("</nav>")[0]
    assert "/manage/applications" in menu and "/manage/organisations" in menu
    for programme_wide in ("/manage/users", "/manage/payments", "/manage/mailbox",
                           "/manage/bank-changes", "/manage/partners"):
        assert f'href="{programme_wide}"' not in menu
    lead = _page(client, c.lead_manager, "/manage/")
    lead_menu = lead.split('aria-label="Main"')[1].split("</nav>")[0]
    assert 'href="/manage/users"' in lead_menu and 'href="/manage/payments"' in lead_menu


def test_anything_of_another_partners_sme_answers_404(client, consortium, make):
    c = consortium
    owner = c.b_app.applicant
    quote = db.session.scalars(select(Attachment).where(
        Attachment.application_id == c.b_app.id)).first()
    message = messages.post_message(c.b_app, owner, "Here is the quote.", [_pdf("v2.pdf")])
    report = partner_reports.open_next_period(c.b, c.b_manager, today() + timedelta(days=30))
    payment = db.session.scalars(select(Payment).where(
        Payment.application_id == c.b_paid.id)).one()
    db.session.commit()
    refused = [f"/manage/applications/{c.b_app.id}", f"/files/{quote.id}",
               f"/manage/applications/{c.b_paid.id}",
               f"/files/messages/{message.attachments[0].id}",
               f"/manage/organisations/{c.b_app.organisation_id}",
               f"/manage/partner-reports/{report.id}"]
    for url in refused:
        assert _status(client, c.a_manager, url) == 404, url
        assert _status(client, c.b_manager, url) == 200, url
        assert _status(client, c.lead_manager, url) == 200, url
    before = snapshot()
    posts = [(f"/manage/applications/{c.b_paid.id}/payments/{payment.id}/reverse",
              {f"reverse-{payment.id}-reason": "The bank returned the transfer."}),
             (f"/manage/applications/{c.b_app.id}/messages",
              {"message-body": "Please send the signed quote."}),
             (f"/manage/applications/{c.b_app.id}/notes", {"note-body": "Called them."})]
    for url, data in posts:
        assert _status(client, c.a_manager, url, "post", data=data) == 404, url
    assert snapshot() == before


def _mailed(kind: str) -> set[int]:
    return set(db.session.scalars(select(OutboxMessage.user_id)
                                  .where(OutboxMessage.kind == kind)))


def test_a_message_reaches_the_managers_who_reach_the_application(consortium):
    c = consortium
    assert set(accounts.enabled_managers(c.a_app)) == {c.lead_manager, c.a_manager,
                                                        c.free_manager}
    messages.post_message(c.a_app, c.a_app.applicant, "When will we hear?")
    db.session.commit()
    assert _mailed("message_to_managers") == {c.lead_manager.id, c.a_manager.id,
                                              c.free_manager.id}
    # Without an application: every enabled manager.
    assert len(accounts.enabled_managers()) == 4


def test_the_managers_digest_counts_what_each_reaches(consortium, monkeypatch):
    c = consortium
    now = utcnow()

    def short_of_evaluators(viewer) -> int:
        calls, _ = digests.manager_actions(now, viewer)
        return sum(i.count for call in calls for i in call.items
                   if "short of evaluators" in i.heading)

    assert short_of_evaluators(c.a_manager) == 1
    assert short_of_evaluators(c.b_manager) == 1
    assert short_of_evaluators(c.lead_manager) == 2
    monkeypatch.setattr(digests, "due_today", lambda now: True)
    assert digests.send_manager_digests(now) == 4
    a_digest = db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.kind == "manager_digest", OutboxMessage.user_id == c.a_manager.id))
    lead_digest = db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.kind == "manager_digest", OutboxMessage.user_id == c.lead_manager.id))
    assert "/ranking/" not in a_digest.body_text and "bank-changes" not in a_digest.body_text
    assert a_digest.body_text != lead_digest.body_text
