"""Messages on an application: the thread between the applicant and the managers, with
files, each message mailed once to the other side; internal notes only managers see."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from tests.helpers import PDF, login, logout
from vouchers.extensions import db
from vouchers.models import ApplicationMessage, AuditRecord, MessageAttachment, OutboxMessage
from vouchers.services import messages, reviews
from vouchers.services.errors import InvalidInput, NotAllowed

NEW_MESSAGE = "New message about"


@pytest.fixture
def case(make):
    """A submitted application, its applicant, two managers (and a disabled one), an
    evaluator assigned without a conflict, and another company's applicant."""
    application = make.application("submitted")
    managers = [make.manager(), make.manager()]
    gone = make.manager()
    gone.enabled = False
    evaluator = make.evaluator()
    reviews.assign(application, evaluator, managers[0])
    reviews.confirm_no_conflict(application, evaluator)
    db.session.commit()

    class Case:
        pass

    c = Case()
    c.application, c.applicant, c.managers, c.disabled = (application, application.applicant,
                                                          managers, gone)
    c.evaluator, c.other = evaluator, make.applicant()
    return c


def _post(client, user, url_path: str, body: str, files=(), prefix: str = "message"):
    logout(client)
    login(client, user)
    data = {f"{prefix}-body": body,
            f"{prefix}-files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post(url_path, data=data, content_type="multipart/form-data")


def _applicant_url(application) -> str:
    return f"/apply/applications/{application.id}/messages"


def _manager_url(application, what: str = "messages") -> str:
    return f"/manage/applications/{application.id}/{what}"


def _mails(kind: str) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)))


def _rows() -> tuple[int, int, int]:
    db.session.expire_all()
    return (len(db.session.scalars(select(ApplicationMessage)).all()),
            len(db.session.scalars(select(MessageAttachment)).all()),
            len(db.session.scalars(select(OutboxMessage)).all()))


def _stored_files(app) -> set[Path]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


# --- both directions, mailed once to the other side ------------------------------------


def test_the_applicants_message_reaches_every_enabled_manager_once(client, case, deliver):
    deliver()  # what the submission sent
    history = len(db.session.scalars(select(AuditRecord)).all())
    response = _post(client, case.applicant, _applicant_url(case.application),
                     "We changed provider.\nThe new quote is attached.",
                     files=[("quote-v2.pdf", PDF)])
    assert response.status_code == 303
    assert response.headers["Location"].endswith("#messages")

    received = [m for m in deliver() if m["Subject"].startswith(NEW_MESSAGE)]
    assert sorted(m["To"] for m in received) == sorted(u.email for u in case.managers)
    for mail in received:
        assert mail["Subject"] == f"New message about {case.application.reference}"
        text = mail.get_body(("plain",)).get_content()
        assert "We changed provider.\nThe new quote is attached." in text
        assert case.applicant.name in text and "quote-v2.pdf" in text
        assert f"/manage/applications/{case.application.id}#messages" in text
    assert deliver() == []  # nothing twice
    assert _mails("message_to_applicant") == []
    # A message changes no state: the thread is its own record, not the history.
    assert len(db.session.scalars(select(AuditRecord)).all()) == history


def test_a_managers_message_reaches_the_applicant_once(client, case, deliver):
    deliver()
    response = _post(client, case.managers[0], _manager_url(case.application),
                     "Please send the signed quote.")
    assert response.status_code == 303

    [mail] = [m for m in deliver() if m["Subject"].startswith(NEW_MESSAGE)]
    assert mail["To"] == case.applicant.email
    text = mail.get_body(("plain",)).get_content()
    assert "Please send the signed quote." in text
    assert case.managers[0].name in text
    assert f"/apply/applications/{case.application.id}#messages" in text
    assert _mails("message_to_managers") == []
    assert deliver() == []


def test_the_applicants_mail_shows_the_beginning_of_a_long_message(app, case):
    body = ("The evaluators asked about the market size. " * 40).strip()
    messages.post_message(case.application, case.managers[0], body)
    db.session.commit()
    [mail] = _mails("message_to_applicant")
    assert body not in mail.body_text
    assert body[:200] in mail.body_text
    assert "The message goes on" in mail.body_text
    assert "The message goes on" in mail.body_html


def test_the_thread_shows_both_sides_in_order_with_their_files(client, case):
    _post(client, case.applicant, _applicant_url(case.application), "Question one",
          files=[("plan.pdf", PDF)])
    _post(client, case.managers[0], _manager_url(case.application), "Answer one")
    logout(client)
    login(client, case.applicant)
    page = client.get(f"/apply/applications/{case.application.id}").get_data(as_text=True)
    assert page.index("Question one") < page.index("Answer one")
    assert "Programme manager" in page and case.managers[0].name in page
    [attachment] = db.session.scalars(select(MessageAttachment)).all()
    assert f'href="/files/messages/{attachment.id}"' in page

    download = client.get(f"/files/messages/{attachment.id}")
    assert download.status_code == 200
    assert download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "plan.pdf" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    download.close()


# --- internal notes --------------------------------------------------------------------


def test_internal_notes_are_shown_to_managers_only_and_mailed_to_nobody(client, case):
    before = len(_mails("message_to_applicant")) + len(_mails("message_to_managers"))
    response = _post(client, case.managers[0], _manager_url(case.application, "notes"),
                     "Their provider is a subsidiary: check the independence rule.",
                     files=[("register-extract.pdf", PDF)], prefix="note")
    assert response.status_code == 303
    db.session.expire_all()
    outbox = db.session.scalars(select(OutboxMessage)).all()
    assert len(_mails("message_to_applicant")) + len(_mails("message_to_managers")) == before
    assert not [m for m in outbox if "subsidiary" in (m.body_text or "")]
    [note_file] = db.session.scalars(select(MessageAttachment)).all()

    logout(client)
    login(client, case.managers[1])
    page = client.get(f"/manage/applications/{case.application.id}").get_data(as_text=True)
    assert "Only programme managers see these notes" in page
    assert "subsidiary" in page and f"/files/notes/{note_file.id}" in page
    download = client.get(f"/files/notes/{note_file.id}")
    assert download.status_code == 200 and download.data == PDF
    download.close()

    logout(client)
    login(client, case.applicant)
    page = client.get(f"/apply/applications/{case.application.id}").get_data(as_text=True)
    assert "subsidiary" not in page and "register-extract" not in page
    for persona in (case.applicant, case.evaluator, case.other):
        logout(client)
        login(client, persona)
        for url_path in (f"/files/notes/{note_file.id}", f"/files/messages/{note_file.id}"):
            assert client.get(url_path).status_code == 404, (persona.role, url_path)


def test_the_applicant_cannot_write_an_internal_note(client, case):
    before = _rows()
    response = _post(client, case.applicant, _manager_url(case.application, "notes"),
                     "Let me in.", prefix="note")
    assert response.status_code == 404
    with pytest.raises(NotAllowed):
        messages.post_internal_note(case.application, case.applicant, "Let me in.")
    db.session.rollback()
    assert _rows() == before


def test_thread_of_never_gives_notes_to_anyone_but_managers(app, case):
    messages.post_message(case.application, case.applicant, "Visible")
    messages.post_internal_note(case.application, case.managers[0], "Hidden")
    db.session.commit()
    assert [m.body for m in messages.thread_of(case.application, case.applicant)] == ["Visible"]
    assert [m.body for m in messages.thread_of(case.application, case.managers[1],
                                               internal=True)] == ["Hidden"]
    for viewer in (case.applicant, case.evaluator, case.other):
        with pytest.raises(NotAllowed):
            messages.thread_of(case.application, viewer, internal=True)
    for viewer in (case.evaluator, case.other):
        with pytest.raises(NotAllowed):
            messages.thread_of(case.application, viewer)


# --- who may read and write ------------------------------------------------------------


def test_evaluators_and_other_companies_see_nothing_of_the_thread(client, case):
    _post(client, case.applicant, _applicant_url(case.application), "Our secret plan",
          files=[("plan.pdf", PDF)])
    [attachment] = db.session.scalars(select(MessageAttachment)).all()
    logout(client)
    login(client, case.evaluator)
    page = client.get(f"/evaluate/applications/{case.application.id}")
    assert page.status_code == 200
    assert "Our secret plan" not in page.get_data(as_text=True)
    for persona in (case.evaluator, case.other):
        logout(client)
        login(client, persona)
        assert client.get(f"/files/messages/{attachment.id}").status_code == 404


def test_another_applicant_can_neither_read_nor_post(client, case):
    before = _rows()
    response = _post(client, case.other, _applicant_url(case.application), "Hello?")
    assert response.status_code == 404
    assert client.get(f"/apply/applications/{case.application.id}").status_code == 404
    assert _rows() == before


def test_a_draft_has_no_thread(client, make):
    draft = make.application("draft")
    assert not messages.policy.can_post_message(draft.applicant, draft)
    login(client, draft.applicant)
    page = client.get(f"/apply/applications/{draft.id}").get_data(as_text=True)
    assert 'id="messages-heading"' not in page
    before = _rows()
    assert _post(client, draft.applicant, _applicant_url(draft), "Hi").status_code == 404
    assert _rows() == before


def test_messages_are_never_changed_or_removed(app):
    """Append-only: the only routes of messages and notes post new ones or download files."""
    rules = {(r.rule, tuple(sorted(r.methods - {"HEAD", "OPTIONS"})))
             for r in app.url_map.iter_rules()
             if "/applications/<int:application_id>/messages" in r.rule
             or "/applications/<int:application_id>/notes" in r.rule
             or r.rule.startswith(("/files/messages", "/files/notes"))}
    assert rules == {
        ("/apply/applications/<int:application_id>/messages", ("POST",)),
        ("/manage/applications/<int:application_id>/messages", ("POST",)),
        ("/manage/applications/<int:application_id>/notes", ("POST",)),
        ("/files/messages/<int:message_file_id>", ("GET",)),
        ("/files/notes/<int:note_file_id>", ("GET",)),
    }


# --- bad input: a clear message, nothing kept ------------------------------------------


BAD = {
    "empty": ("   \r\n ", [], "empty"),
    "too long": ("x" * (messages.MAX_BODY + 1), [], "at most 5,000 characters"),
    "an .exe": ("See attached.", [("setup.exe", b"MZ\x90\x00")], ".exe files are not accepted"),
    "a fake PDF": ("See attached.", [("quote.pdf", b"<html>not a pdf</html>")],
                   "quote.pdf is not a genuine .pdf file"),
    "too many files": ("See attached.", [(f"q{i}.pdf", PDF) for i in range(6)],
                       "at most 5 files"),
    "too big": ("See attached.", [("ok.pdf", PDF), ("big.pdf", PDF + b"0" * 4096)],
                "big.pdf: the file is larger than the limit"),
    "empty file": ("See attached.", [("empty.pdf", b"")], "empty.pdf: the file is empty"),
}


@pytest.mark.parametrize("side", ["applicant", "manager"])
@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_is_refused_with_a_clear_message_and_nothing_kept(
        app, client, case, monkeypatch, side, name):
    body, files, expected = BAD[name]
    monkeypatch.setitem(app.config, "MAX_ATTACHMENT_BYTES", 1024)
    user, url_path = ((case.applicant, _applicant_url(case.application)) if side == "applicant"
                      else (case.managers[0], _manager_url(case.application)))
    before, stored = _rows(), _stored_files(app)
    response = _post(client, user, url_path, body, files)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert expected in page.replace("&#39;", "'")
    assert _rows() == before
    assert _stored_files(app) == stored
    if body.strip() and len(body) < 100:
        assert body in page  # the text typed is still in the form


def test_a_file_is_removed_if_the_transaction_rolls_back_after_all(app, case):
    stored = _stored_files(app)
    upload = FileStorage(io.BytesIO(PDF), "quote.pdf")
    messages.post_message(case.application, case.applicant, "With a file", [upload])
    assert len(_stored_files(app)) == len(stored) + 1
    db.session.rollback()
    assert _stored_files(app) == stored
    assert _rows()[0] == 0


def test_a_refusal_of_the_service_itself_is_a_domain_error(app, case):
    with pytest.raises(InvalidInput, match="empty"):
        messages.post_message(case.application, case.applicant, "")


# --- escaping --------------------------------------------------------------------------


def test_html_in_a_message_is_text_on_the_page_and_in_the_html_mail(client, case):
    body = '<script>alert("x")</script> & <b>bold</b>'
    assert _post(client, case.applicant, _applicant_url(case.application),
                 body).status_code == 303
    page = client.get(f"/apply/applications/{case.application.id}").get_data(as_text=True)
    assert "<script>alert" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;" in page and "&lt;b&gt;bold&lt;/b&gt;" in page

    for mail in _mails("message_to_managers"):
        assert "<script>alert" not in mail.body_html and "<b>bold</b>" not in mail.body_html
        assert "&lt;script&gt;" in mail.body_html
        assert body in mail.body_text  # plain text is not escaped

    _post(client, case.managers[0], _manager_url(case.application), body)
    [to_applicant] = _mails("message_to_applicant")
    assert "<script>alert" not in to_applicant.body_html
    assert "&lt;b&gt;bold&lt;/b&gt;" in to_applicant.body_html


def test_a_message_waiting_for_an_answer_is_something_to_act_on(app, client, case):
    """The applicant wrote last: the dashboard and the table list it until a manager
    answers (an internal note is not an answer)."""
    from vouchers.models.base import utcnow
    from vouchers.services.needs import call_actions

    def waiting() -> int:
        db.session.expire_all()
        items = call_actions(case.application.call, utcnow()).items
        return next((i.count for i in items if i.key == "messages"), 0)

    assert waiting() == 0
    messages.post_message(case.application, case.applicant, "Is the quote enough?")
    db.session.commit()
    assert waiting() == 1
    login(client, case.managers[0])
    table = client.get(f"/manage/applications?call={case.application.call_id}"
                       "&needs=messages").get_data(as_text=True)
    assert case.application.reference in table
    messages.post_internal_note(case.application, case.managers[0], "Ask Jeroen.")
    db.session.commit()
    assert waiting() == 1
    messages.post_message(case.application, case.managers[1], "Yes, it is.")
    db.session.commit()
    assert waiting() == 0
