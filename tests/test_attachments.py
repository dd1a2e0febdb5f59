"""Attachments: what may be uploaded, where it is kept, and who may download it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from tests.helpers import JPEG, OLE, PDF, PNG, login, logout, office_zip, upload
from vouchers.extensions import db
from vouchers.models import Attachment
from vouchers.services import attachments as files
from vouchers.services import reviews
from vouchers.services.errors import InvalidInput, NotAllowed, TransitionNotAllowed


@pytest.fixture
def owner(make):
    return make.applicant()


@pytest.fixture
def draft(make, owner):
    return make.application("draft", applicant=owner)


def only_attachment() -> Attachment:
    return db.session.scalars(select(Attachment)).one()


def uploaded_files(app) -> set[Path]:
    """Every stored file (the folder is shared by the whole test session)."""
    root = Path(app.config["UPLOAD_FOLDER"])
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def test_an_upload_is_kept_outside_the_web_root_under_a_random_name(app, client, owner,
                                                                    draft):
    login(client, owner)
    response = upload(client, draft, PDF, "../../Offerte Überprüfung.pdf")
    assert response.status_code == 303
    attachment = only_attachment()
    assert attachment.original_name == "Offerte Überprüfung.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.size == len(PDF)
    assert attachment.purpose == "application"
    path = files.path_of(attachment)
    assert path.read_bytes() == PDF
    assert path.is_relative_to(Path(app.config["UPLOAD_FOLDER"]))
    assert not path.is_relative_to(Path(app.static_folder))
    assert "Offerte" not in str(path) and len(attachment.stored_name) == 48
    page = client.get(f"/apply/applications/{draft.id}").get_data(as_text=True)
    assert f'href="/files/{attachment.id}"' in page and "Offerte Überprüfung.pdf" in page


def test_the_download_is_an_attachment_with_its_type_and_nosniff(client, owner, draft):
    login(client, owner)
    upload(client, draft, PNG, "diagram.png")
    response = client.get(f"/files/{only_attachment().id}")
    assert response.status_code == 200
    assert response.data == PNG
    assert response.mimetype == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "diagram.png" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    response.close()


@pytest.mark.parametrize(("name", "content", "content_type"), [
    ("quote.pdf", PDF, "application/pdf"),
    ("photo.JPG", JPEG, "image/jpeg"),
    ("photo.jpeg", JPEG, "image/jpeg"),
    ("plan.png", PNG, "image/png"),
    ("cv.docx", office_zip(),
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("budget.xlsx", office_zip(),
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("cv.odt", office_zip("mimetype"), "application/vnd.oasis.opendocument.text"),
    ("budget.ods", office_zip("mimetype"), "application/vnd.oasis.opendocument.spreadsheet"),
    ("old-cv.doc", OLE, "application/msword"),
    ("old-budget.xls", OLE, "application/vnd.ms-excel"),
])
def test_allowed_types_are_accepted(client, owner, draft, name, content, content_type):
    login(client, owner)
    assert upload(client, draft, content, name).status_code == 303
    assert only_attachment().content_type == content_type


@pytest.mark.parametrize(("name", "content", "message"), [
    ("quote.pdf", b"<html><script>alert(1)</script></html>", "not a genuine .pdf file"),
    ("photo.png", JPEG, "not a genuine .png file"),
    ("cv.docx", b"PK\x03\x04 not really a zip", "not a genuine .docx file"),
    ("cv.docx", office_zip("word/document.xml"), "not a genuine .docx file"),
    ("tool.exe", b"MZ\x90\x00", ".exe files are not accepted"),
    ("logo.svg", b"<svg onload=alert(1)>", ".svg files are not accepted"),
    ("page.html", b"<html></html>", ".html files are not accepted"),
    ("noextension", PDF, ".? files are not accepted"),
    ("empty.pdf", b"", "The file is empty."),
])
def test_disallowed_or_disguised_files_are_refused(app, client, owner, draft, name, content,
                                                   message):
    login(client, owner)
    before = uploaded_files(app)
    response = upload(client, draft, content, name)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalars(select(Attachment)).all() == []
    assert uploaded_files(app) == before


def test_a_file_over_the_per_file_cap_is_refused_and_leaves_nothing(app, client, owner,
                                                                     draft, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_ATTACHMENT_BYTES", 1024)
    login(client, owner)
    before = uploaded_files(app)
    response = upload(client, draft, PDF + b"0" * 2048, "big.pdf")
    assert response.status_code == 422
    assert "larger than the limit" in response.get_data(as_text=True)
    assert db.session.scalars(select(Attachment)).all() == []
    assert uploaded_files(app) == before


def test_a_request_over_the_request_cap_is_explained(app, client, owner, draft, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2048)
    login(client, owner)
    response = upload(client, draft, PDF + b"0" * 4096, "huge.pdf")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The file is larger than the limit of" in page
    assert db.session.scalars(select(Attachment)).all() == []


def test_missing_file_field_is_explained(client, owner, draft):
    login(client, owner)
    response = client.post(f"/apply/applications/{draft.id}/attachments",
                           data={"purpose": "application"}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose a file to upload." in response.get_data(as_text=True)


def test_application_files_change_only_while_editable(client, make, owner):
    submitted = make.application("submitted", applicant=owner)
    login(client, owner)
    response = upload(client, submitted, PDF, "late.pdf")
    assert response.status_code == 422
    assert "only while it is a draft or returned" in response.get_data(as_text=True)
    page = client.get(f"/apply/applications/{submitted.id}").get_data(as_text=True)
    # No upload form (the page's message form is multipart too: look for this one's action).
    assert f'action="/apply/applications/{submitted.id}/attachments"' not in page
    returned = make.application("returned", applicant=owner)
    assert upload(client, returned, PDF, "quote.pdf").status_code == 303


def test_report_evidence_only_in_reporting(client, make, owner):
    awarded = make.application("awarded", applicant=owner)
    login(client, owner)
    assert upload(client, awarded, PDF, "invoice.pdf", purpose="report").status_code == 422
    reporting = make.application("reporting", applicant=owner)
    response = upload(client, reporting, PDF, "invoice.pdf", purpose="report")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/apply/applications/{reporting.id}/report")
    assert only_attachment().purpose == "report"
    # Application files are closed by then.
    assert upload(client, reporting, PDF, "quote.pdf").status_code == 422


def test_removing_an_attachment_deletes_its_file(app, client, owner, draft):
    login(client, owner)
    upload(client, draft, PDF, "quote.pdf")
    attachment = only_attachment()
    path = files.path_of(attachment)
    response = client.post(
        f"/apply/applications/{draft.id}/attachments/{attachment.id}/delete")
    assert response.status_code == 303
    assert db.session.scalars(select(Attachment)).all() == []
    assert not path.exists()


def test_removing_is_refused_once_submitted(make, client, owner, draft):
    login(client, owner)
    upload(client, draft, PDF, "quote.pdf")
    attachment = only_attachment()
    make.step(draft, "submit", applicant=owner, manager=None)
    response = client.post(
        f"/apply/applications/{draft.id}/attachments/{attachment.id}/delete",
        follow_redirects=True)
    assert "only while it is a draft or returned" in response.get_data(as_text=True)
    assert files.path_of(attachment).exists()
    assert db.session.get(Attachment, attachment.id) is not None


def test_file_and_row_agree_when_the_transaction_rolls_back(app, make, owner, draft):
    stored = files.add_attachment(draft, owner, FileStorage(_stream(PDF), "q.pdf"),
                                  "application")
    path = files.path_of(stored)
    assert path.exists()
    db.session.rollback()
    assert not path.exists()

    kept = files.add_attachment(draft, owner, FileStorage(_stream(PDF), "q.pdf"),
                                "application")
    db.session.commit()
    path = files.path_of(kept)
    files.delete_attachment(kept, owner)
    db.session.rollback()  # the deletion did not happen, so the file stays
    assert path.exists()
    files.delete_attachment(db.session.get(Attachment, kept.id), owner)
    assert path.exists()  # not before the commit
    db.session.commit()
    assert not path.exists()


def _stream(content: bytes):
    import io

    return io.BytesIO(content)


def test_service_refuses_people_and_states(make, owner, draft):
    other = make.applicant()
    with pytest.raises(NotAllowed):
        files.add_attachment(draft, other, FileStorage(_stream(PDF), "q.pdf"), "application")
    with pytest.raises(TransitionNotAllowed):
        files.add_attachment(draft, owner, FileStorage(_stream(PDF), "q.pdf"), "report")
    with pytest.raises(InvalidInput):
        files.add_attachment(draft, owner, FileStorage(_stream(PDF), "q.pdf"), "secret")


@pytest.mark.parametrize(("given", "kept"), [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("C:\\Users\\ana\\Offerte.pdf", "Offerte.pdf"),
    ("quote\x00\r\n.pdf", "quote___.pdf"),
    ('a<b>"c".pdf', "a_b__c_.pdf"),
    ("   .pdf", "attachment.pdf"),
    ("", "attachment"),
    ("x" * 400 + ".pdf", "x" * 196 + ".pdf"),
])
def test_original_names_are_sanitised(given, kept):
    assert files.sanitise_name(given) == kept


def test_a_stored_name_that_is_not_ours_is_never_turned_into_a_path(app, owner, draft):
    attachment = Attachment(application_id=draft.id, original_name="x.pdf",
                            stored_name="../../secret_key", content_type="application/pdf",
                            size=1, uploaded_by_id=owner.id)
    with pytest.raises(ValueError):
        files.path_of(attachment)


# --- who may download -------------------------------------------------------------------


def test_download_is_served_only_to_those_who_may_see_the_application(client, make, owner):
    application = make.application("draft", applicant=owner)
    login(client, owner)
    upload(client, application, PDF, "quote.pdf")
    make.step(application, "submit", applicant=owner, manager=None)
    url = f"/files/{only_attachment().id}"

    manager = make.manager()
    assigned = make.evaluator()
    conflicted = make.evaluator()
    bystander = make.evaluator()
    unconfirmed = make.evaluator()
    reviews.assign(application, assigned, manager)
    reviews.confirm_no_conflict(application, assigned)
    reviews.assign(application, conflicted, manager)
    reviews.declare_conflict(application, conflicted, "I advise this company.")
    # Assigned, but has not yet confirmed having no conflict of interest.
    reviews.assign(application, unconfirmed, manager)
    db.session.commit()
    colleague = make.applicant(organisation=owner.organisation)
    stranger = make.applicant()

    expected = {owner: 200, colleague: 200, manager: 200, assigned: 200,
                conflicted: 404, unconfirmed: 404, bystander: 404, stranger: 404}
    for user, status in expected.items():
        login(client, user)
        response = client.get(url)
        assert response.status_code == status, (user, response.status_code)
        response.close()
    logout(client)
    assert client.get(url).status_code == 404
    assert client.get("/files/999999").status_code == 404


def test_a_missing_file_answers_404(app, client, owner, draft):
    login(client, owner)
    upload(client, draft, PDF, "quote.pdf")
    attachment = only_attachment()
    os.remove(files.path_of(attachment))
    assert client.get(f"/files/{attachment.id}").status_code == 404


def test_report_evidence_is_for_the_applicant_and_managers_not_the_evaluators(client, make,
                                                                               owner):
    manager, evaluator = make.manager(), make.evaluator()
    reporting = make.application("reporting", applicant=owner, manager=manager,
                                 evaluator=evaluator)
    login(client, owner)
    upload(client, reporting, PDF, "invoice.pdf", purpose="report")
    url = f"/files/{only_attachment().id}"
    for user, status in ((owner, 200), (manager, 200), (evaluator, 404)):
        login(client, user)
        response = client.get(url)
        assert response.status_code == status, user
        response.close()


def test_each_file_is_listed_once_on_the_application_page(client, owner, draft):
    login(client, owner)
    assert upload(client, draft, PDF, "quote.pdf").status_code == 303
    attachment = only_attachment()
    client.get(f"/apply/applications/{draft.id}")  # shows the "uploaded" message once
    page = client.get(f"/apply/applications/{draft.id}").get_data(as_text=True)
    assert page.count(f'href="/files/{attachment.id}"') == 1
    assert page.count("quote.pdf") == 2  # the link, and the Remove button's hidden name


def test_an_oversized_text_form_says_the_form_is_too_large_not_the_file(app, client, owner,
                                                                         draft, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2048)
    login(client, owner)
    title = draft.title
    response = client.post(f"/apply/applications/{draft.id}/edit",
                           data={"title": "x", "summary": "y" * 4096})
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "The form is too large" in page and "the 2 kB this site accepts" in page
    assert "file" not in page.split("<main")[1].lower()
    db.session.expire_all()
    assert draft.title == title


def test_outside_the_applicant_pages_an_oversized_form_or_upload_is_named_so(app, client,
                                                                              monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    form = client.post("/account/login", data={"email": "a@example.org", "password": "p" * 8192})
    assert form.status_code == 413
    assert "The form is too large" in form.get_data(as_text=True)
    upload_ = client.post("/account/login", content_type="multipart/form-data",
                          data={"file": (_stream(PDF + b"0" * 8192), "big.pdf")})
    assert upload_.status_code == 413
    text = upload_.get_data(as_text=True)
    assert "The upload is too large" in text and "The form is too large" not in text
