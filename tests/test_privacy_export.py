"""Download my data: everything about one applicant and their company, nothing of another."""

from __future__ import annotations

import io
import json
import zipfile

from tests.helpers import login
from tests.privacy_support import file_content, populated_company
from vouchers.extensions import db
from vouchers.services import data_export


def _zip_of(client, user) -> zipfile.ZipFile:
    login(client, user)
    response = client.get("/apply/my-data.zip")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    response.close()
    return zipfile.ZipFile(io.BytesIO(body))


def _everything(archive: zipfile.ZipFile) -> bytes:
    return b"\n".join(archive.read(name) for name in archive.namelist())


def test_the_export_holds_everything_of_one_applicant_and_nothing_of_another(
        app, client, make):
    call = make.call()
    cvt, manager = call.voucher_type("market_validation"), make.manager()
    a_owner, a_app = populated_company(make, "alpha", cvt=cvt, manager=manager)
    b_owner, b_app = populated_company(make, "bravo", cvt=cvt, manager=manager)
    b_org = b_owner.organisation
    b_values = [b_owner.name, b_owner.email, b_org.legal_name, b_org.registry_number,
                b_app.title, b_app.summary, b_app.reference, "Holder bravo", "Consultant bravo",
                "Question bravo", "Answer to bravo", "quote-bravo"]

    archive = _zip_of(client, a_owner)
    data = json.loads(archive.read("data.json"))
    # Everything of A: account, consents, company, application with its parts and files.
    assert data["account"]["email"] == a_owner.email and data["account"]["name"] == "Person alpha"
    assert {c["kind"] for c in data["account"]["consents"]} == {"submission", "publication"}
    assert data["company"]["legal_name"] == "Firm alpha GmbH"
    assert data["company"]["account_holder"] == "Holder alpha"
    assert data["company"]["de_minimis_grants"][0]["undertaking"] == "Firm alpha GmbH"
    [exported] = data["applications"]
    assert exported["reference"] == a_app.reference and exported["state"] == "paid"
    assert exported["summary"] == "Summary alpha with secrets"
    assert exported["cost_lines"][0]["description"] == "Consultant alpha"
    assert [m["body"] for m in exported["messages"]] == ["Question alpha?", "Answer to alpha."]
    assert [m["from"] for m in exported["messages"]] == ["you", "the programme"]
    assert exported["payments"] and exported["payments"][0]["amount"] == str(a_app.paid_amount)
    assert exported["final_report"]["summary"] == "Done."
    assert {h["to_state"] for h in exported["history"]} >= {"submitted", "awarded", "paid"}
    [attached] = exported["files"]
    assert archive.read(attached["in_zip"]) == file_content("alpha")
    assert any(e["kind"] == "submitted" for e in data["account"]["emails"])
    everything = _everything(archive)
    # Evaluators stay anonymous: no review, nobody's name but in the e-mails as sent.
    records = json.dumps({**data, "account": {**data["account"], "emails": []}})
    assert manager.name not in records and "Good." not in records

    # Nothing of B: none of its values, none of its file's bytes.
    for value in b_values:
        assert value.encode() not in everything, value
    assert file_content("bravo") not in everything
    assert b"content-of-bravo" not in everything


def test_the_page_lists_consents_and_the_retention_date(app, client, make):
    call = make.call()
    owner, _ = populated_company(make, "alpha", cvt=call.voucher_type("travel"),
                                 manager=make.manager())
    login(client, owner)
    page = client.get("/apply/my-data").get_data(as_text=True)
    assert "Download my data" in page and "/apply/my-data.zip" in page
    assert "Publication in the list of operations" in page
    standing = data_export.page_of(owner)["retention"]
    assert standing.keep_until.isoformat() in page


def test_a_missing_file_is_named_not_fatal(app, client, make):
    call = make.call()
    owner, application = populated_company(make, "alpha", cvt=call.voucher_type("travel"),
                                           manager=make.manager(), state="submitted")
    from vouchers.services.attachments import path_of

    path_of(application.attachments[0]).unlink()
    db.session.commit()
    archive = _zip_of(client, owner)
    assert "missing-files.txt" in archive.namelist()


def test_only_applicants_download(app, client, make):
    login(client, make.manager())
    response = client.get("/apply/my-data.zip")
    assert response.status_code == 404
    response.close()
