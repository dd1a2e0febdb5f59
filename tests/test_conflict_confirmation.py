"""An evaluator confirms having no conflict of interest (or declares one) before reading."""

from __future__ import annotations

import io

import pytest
from werkzeug.datastructures import FileStorage

from tests.helpers import PDF, login
from vouchers.extensions import db
from vouchers.services import attachments, reviews
from vouchers.services.errors import InvalidInput


@pytest.fixture
def assigned(make):
    """A submitted application with a quote, assigned to an evaluator who has not confirmed."""
    manager = make.manager()
    cvt = make.call().voucher_type("market_validation")
    application = make.draft(cvt)
    application.summary = "Our secret pricing model for hospital buyers."
    upload = FileStorage(io.BytesIO(PDF), "quote-confidential.pdf",
                         content_type="application/pdf")
    attachment = attachments.add_attachment(application, application.applicant, upload,
                                            "application", kind="quote")
    db.session.commit()
    make.step(application, "submit", applicant=application.applicant, manager=manager)
    evaluator = make.evaluator()
    reviews.assign(application, evaluator, manager)
    db.session.commit()
    return application, evaluator, attachment


def page(response) -> str:
    return response.get_data(as_text=True)


def review_data(application):
    data = {f"score_{c.id}": "4" for c in application.call_voucher_type.criteria}
    return data | {"recommendation": "award", "comment": "Fine."}


def test_until_confirmed_the_page_shows_only_who_applied_and_the_two_choices(
        client, assigned):
    application, evaluator, attachment = assigned
    login(client, evaluator)

    response = client.get(f"/evaluate/applications/{application.id}")

    assert response.status_code == 200
    html = page(response)
    org = application.organisation
    for shown in (application.reference, application.title, org.legal_name, org.region,
                  "I have no conflict of interest", "Declare a conflict of interest"):
        assert shown in html
    content = [application.summary, "quote-confidential.pdf", application.provider.name,
               application.details["service"], application.cost_lines[0].description,
               "Submit review", "Criterion 1", "€"]
    for hidden in content:
        assert hidden not in html, hidden
    assert f"/files/{attachment.id}" not in html


def test_downloads_and_reviews_are_refused_before_confirming(client, app, assigned):
    application, evaluator, attachment = assigned
    login(client, evaluator)

    with app.test_request_context():
        from flask import url_for

        download = url_for("files.download", attachment_id=attachment.id)
    assert client.get(download).status_code == 404
    refused = client.post(f"/evaluate/applications/{application.id}/review",
                          data=review_data(application))
    assert refused.status_code == 422
    assert "Confirm that you have no conflict of interest" in page(refused)
    assert "Criterion 1" not in page(refused)  # the refusal shows no more than the gate
    assert client.get(f"/evaluate/applications/{application.id}/versions/1/1"
                      ).status_code == 404
    with pytest.raises(InvalidInput, match="Confirm that you have no conflict"):
        reviews.submit_review(application, evaluator,
                              scores={c.id: 4 for c in application.call_voucher_type.criteria},
                              recommendation="award", comment="Fine.")
    db.session.rollback()
    assert reviews.review_of(application, evaluator) is None


def test_confirming_records_it_and_opens_the_application(client, app, assigned):
    application, evaluator, attachment = assigned
    login(client, evaluator)
    home = page(client.get("/evaluate/"))
    assert "To confirm: no conflict of interest" in home

    response = client.post(f"/evaluate/applications/{application.id}/no-conflict")

    assert response.status_code == 303
    assignment = reviews.assignment_of(application, evaluator)
    assert assignment.no_conflict_confirmed_at is not None
    html = page(client.get(response.headers["Location"]))
    assert "You confirmed that you have no conflict of interest." in html
    assert application.summary in html and "quote-confidential.pdf" in html
    assert "Submit review" in html and "I have no conflict of interest" not in html
    with app.test_request_context():
        from flask import url_for

        download = url_for("files.download", attachment_id=attachment.id)
    got = client.get(download)
    assert got.status_code == 200
    got.close()
    assert client.post(f"/evaluate/applications/{application.id}/review",
                       data=review_data(application)).status_code == 303
    assert "To review" not in page(client.get("/evaluate/"))


def test_confirming_twice_keeps_the_first_confirmation(client, assigned):
    application, evaluator, _ = assigned
    first = reviews.confirm_no_conflict(application, evaluator).no_conflict_confirmed_at
    db.session.commit()
    again = reviews.confirm_no_conflict(application, evaluator).no_conflict_confirmed_at
    db.session.commit()
    assert again == first
    login(client, evaluator)
    # The page no longer offers it; a late second click answers 404 and changes nothing.
    assert client.post(f"/evaluate/applications/{application.id}/no-conflict"
                       ).status_code == 404


def test_a_conflict_can_be_declared_instead_of_confirming(client, assigned):
    application, evaluator, _ = assigned
    login(client, evaluator)

    response = client.post(f"/evaluate/applications/{application.id}/conflict",
                           data={"reason": "I advise this company."})

    assert response.status_code == 303
    assignment = reviews.assignment_of(application, evaluator)
    assert assignment.has_conflict and assignment.no_conflict_confirmed_at is None
    assert client.get(f"/evaluate/applications/{application.id}").status_code == 404
    assert client.post(f"/evaluate/applications/{application.id}/no-conflict"
                       ).status_code == 404


def test_only_the_assigned_evaluator_may_confirm(client, make, assigned):
    application, _, _ = assigned
    for user in (make.evaluator(), make.manager(), application.applicant):
        login(client, user)
        assert client.post(f"/evaluate/applications/{application.id}/no-conflict"
                           ).status_code == 404
    assert reviews.assignment_of(application, assigned[1]).no_conflict_confirmed_at is None


def test_the_manager_sees_who_has_not_confirmed(client, make, assigned):
    application, evaluator, _ = assigned
    login(client, make.manager())

    html = page(client.get(f"/manage/applications/{application.id}"))
    assert "has not yet confirmed having no conflict of interest" in html

    reviews.confirm_no_conflict(application, evaluator)
    db.session.commit()
    html = page(client.get(f"/manage/applications/{application.id}"))
    assert "no conflict of interest confirmed" in html
