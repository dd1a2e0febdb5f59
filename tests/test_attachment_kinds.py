"""What each attachment is: chosen on upload, stored, shown to the applicant and managers."""

from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from tests.helpers import PDF, login, snapshot, upload
from vouchers.extensions import db
from vouchers.models import Attachment
from vouchers.services import attachments as files
from vouchers.services.errors import InvalidInput


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def options(page: str, select_id: str) -> list[tuple[str, bool]]:
    """(value, selected) of each option of the select with ``select_id``."""
    block = page.split(f'id="{select_id}"', 1)[1].split("</select>", 1)[0]
    return [(re.search(r'value="([^"]*)"', tag).group(1), " selected" in tag)
            for tag in re.findall(r"<option[^>]*>", block)]


@pytest.fixture
def owner(make):
    return make.applicant()


def test_the_kinds_the_call_requires_come_first_and_the_first_is_chosen(client, make, owner):
    cvt = make.call().voucher_type("market_validation")
    cvt.required_attachments = ["quote", "cv"]
    db.session.commit()
    draft = make.application("draft", cvt, applicant=owner)
    login(client, owner)
    page = text(client.get(f"/apply/applications/{draft.id}"))
    found = options(page, "attachments-kind")
    assert [value for value, _ in found] == ["quote", "cv", "registration", "other"]
    assert [value for value, selected in found if selected] == ["quote"]
    assert "What is this document?" in page and "(required by the call)" in page


def test_report_evidence_defaults_to_other(client, make, owner):
    reporting = make.application("reporting", applicant=owner)
    login(client, owner)
    page = text(client.get(f"/apply/applications/{reporting.id}/report"))
    select_id = re.search(r'<select[^>]*id="([^"]*-kind)"', page).group(1)
    assert [value for value, selected in options(page, select_id) if selected] == ["other"]


def test_the_kind_is_stored_and_shown_to_the_applicant_and_the_managers(client, make, owner):
    draft = make.application("draft", applicant=owner)
    login(client, owner)
    response = upload(client, draft, PDF, "offer.pdf", kind="quote")
    assert response.status_code == 303
    attachment = db.session.scalars(select(Attachment)).one()
    assert attachment.kind == "quote"
    row = text(client.get(f"/apply/applications/{draft.id}")).split("offer.pdf</a>", 1)[1]
    assert row.split("</tr>", 1)[0].count("The provider's quote") == 1
    make.step(draft, "submit", applicant=owner, manager=None)
    login(client, make.manager())
    page = text(client.get(f"/manage/applications/{draft.id}"))
    line = page.split("offer.pdf", 1)[1].split("</li>", 1)[0]
    assert "The provider's quote" in line and "application," not in line


@pytest.mark.parametrize("kind, says", [
    ("invoice", "Choose what the document is from the list."),
    (None, "Say what the document is."),
])
def test_a_bad_or_missing_kind_is_a_400_with_a_message_and_stores_nothing(client, make, owner,
                                                                          kind, says):
    draft = make.application("draft", applicant=owner)
    login(client, owner)
    data = {"purpose": "application", "file": (io.BytesIO(PDF), "offer.pdf")}
    if kind is not None:
        data["kind"] = kind
    before = snapshot()
    response = client.post(f"/apply/applications/{draft.id}/attachments", data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert says in text(response)
    assert snapshot() == before


def test_the_service_refuses_a_kind_it_does_not_know(make, owner):
    draft = make.application("draft", applicant=owner)
    with pytest.raises(InvalidInput, match="Say what the document is"):
        files.add_attachment(draft, owner, FileStorage(io.BytesIO(PDF), "q.pdf"),
                             "application", "invoice")
    stored = files.add_attachment(draft, owner, FileStorage(io.BytesIO(PDF), "q.pdf"),
                                  "application")
    assert stored.kind == "other"
