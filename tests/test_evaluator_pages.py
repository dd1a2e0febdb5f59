"""The evaluator's pages: assignments, conflicts of interest and blind reviews."""

import re
from decimal import Decimal

import pytest
from flask import url_for
from sqlalchemy import func, select

from tests.helpers import login
from vouchers.extensions import db
from vouchers.models import Assignment, Attachment, Review
from vouchers.services import reviews


@pytest.fixture
def manager(make):
    return make.manager()


@pytest.fixture
def assigned(make, manager):
    """An application under review, assigned to a fresh evaluator who has not reviewed it
    (and has confirmed having no conflict of interest, unless ``confirm=False``)."""

    def build(evaluator=None, application=None, confirm=True):
        evaluator = evaluator or make.evaluator()
        application = application or make.application("submitted")
        reviews.assign(application, evaluator, manager)
        if confirm:
            reviews.confirm_no_conflict(application, evaluator)
        db.session.commit()
        return application, evaluator

    return build


def page(response) -> str:
    return response.get_data(as_text=True)


def review_data(application, score="4", **overrides):
    data = {f"score_{c.id}": score for c in application.call_voucher_type.criteria}
    data.update(recommendation="award", comment="Solid plan and a credible provider.")
    data.update(overrides)
    return data


def review_count() -> int:
    return db.session.scalar(select(func.count(Review.id)))


def test_my_assignments_lists_what_is_assigned_to_me_with_state_and_review_status(
        client, make, manager, assigned):
    todo, evaluator = assigned()
    done, _ = assigned(evaluator)
    reviews.submit_review(done, evaluator,
                          scores={c.id: 3 for c in done.call_voucher_type.criteria},
                          recommendation="waitlist", comment="Fine.")
    db.session.commit()
    someone_elses, _ = assigned()
    login(client, evaluator)

    html = page(client.get("/evaluate/"))

    assert todo.reference in html and done.reference in html
    assert someone_elses.reference not in html
    assert "To review" in html and "Reviewed" in html
    # Still to review first.
    assert html.index(todo.reference) < html.index(done.reference)
    assert 'href="/evaluate/"' in html and "My assignments" in html  # the role's menu


def test_my_list_shows_my_review_not_the_outcome_of_what_i_never_reviewed(
        client, make, manager, assigned):
    from vouchers.services import transitions

    evaluator = make.evaluator()
    reviewed, _ = assigned(evaluator)
    missed, _ = assigned(evaluator)
    reviews.submit_review(reviewed, evaluator,
                          scores={c.id: 4 for c in reviewed.call_voucher_type.criteria},
                          recommendation="award", comment="Good.")
    transitions.reject(missed, manager, "Not selected.")
    db.session.commit()
    login(client, evaluator)

    html = page(client.get("/evaluate/"))
    row = re.search(rf"<tr>\s*<td><a[^>]*>{missed.reference}</a>.*?</tr>", html, re.S).group(0)
    assert "Closed without your review" in row
    assert "Rejected" not in html and "Reviewed" in html
    detail = page(client.get(f"/evaluate/applications/{missed.id}"))
    assert "Closed without your review" in detail and "Rejected" not in detail


def test_the_application_page_shows_details_criteria_weights_and_scale(client, assigned):
    application, evaluator = assigned()
    login(client, evaluator)

    html = page(client.get(f"/evaluate/applications/{application.id}"))

    assert application.title in html and application.organisation.legal_name in html
    criteria = application.call_voucher_type.criteria
    for c in criteria:
        assert f"{c.name} (weight {c.weight.normalize():f})" in html
    offered = re.findall(rf'name="score_{criteria[0].id}"[^>]*type="radio" value="(\w+)"', html)
    assert offered == ["0", "1", "2", "3", "4", "5", "na"]
    assert "Not applicable" in html
    assert "Declare a conflict of interest" in html


def test_submitting_a_review_stores_scores_and_not_applicable_is_left_out(client, assigned):
    application, evaluator = assigned()
    first, second = application.call_voucher_type.criteria  # weights 1 and 2
    login(client, evaluator)

    response = client.post(f"/evaluate/applications/{application.id}/review",
                           data=review_data(application, **{f"score_{first.id}": "2",
                                                            f"score_{second.id}": "na"}))

    assert response.status_code == 303
    review = reviews.review_of(application, evaluator)
    assert review.recommendation == "award"
    assert {s.criterion_id: s.score for s in review.scores} == {first.id: 2, second.id: None}
    assert review.weighted_score == Decimal("2.00")
    html = page(client.get(response.headers["Location"]))
    assert "Your review is submitted" in html
    assert "Submit review" not in html and "Declare a conflict" not in html


def test_an_incomplete_review_is_explained_next_to_the_field_and_nothing_is_stored(
        client, assigned):
    application, evaluator = assigned()
    first = application.call_voucher_type.criteria[0]
    login(client, evaluator)
    data = review_data(application, comment="")
    del data[f"score_{first.id}"]

    response = client.post(f"/evaluate/applications/{application.id}/review", data=data)

    assert response.status_code == 400
    html = page(response)
    assert "Give a score or choose “not applicable”." in html
    assert "Write a comment." in html
    assert review_count() == 0


def test_a_score_above_the_scale_is_refused(client, assigned):
    application, evaluator = assigned()
    login(client, evaluator)

    response = client.post(f"/evaluate/applications/{application.id}/review",
                           data=review_data(application, score="9"))

    assert response.status_code == 400
    assert review_count() == 0


def test_reviews_are_blind_until_mine_is_submitted(client, make, manager, assigned):
    application, me = assigned()
    other = make.evaluator()
    reviews.assign(application, other, manager)
    reviews.confirm_no_conflict(application, other)
    reviews.submit_review(application, other,
                          scores={c.id: 1 for c in application.call_voucher_type.criteria},
                          recommendation="reject", comment="Weak market analysis here.")
    db.session.commit()
    login(client, me)

    before = page(client.get(f"/evaluate/applications/{application.id}"))
    assert "Weak market analysis here." not in before
    assert "Reject" not in before.split('id="score-heading"')[0]
    assert "Reviews are blind" in before

    client.post(f"/evaluate/applications/{application.id}/review",
                data=review_data(application, comment="Convincing validation plan."))
    after = page(client.get(f"/evaluate/applications/{application.id}"))
    assert "Weak market analysis here." in after and "Convincing validation plan." in after
    assert "Evaluator 2" in after and other.name not in after
    assert "1.00" in after and "4.00" in after  # both weighted scores


def test_declaring_a_conflict_takes_the_application_off_my_list_and_out_of_my_reach(
        client, assigned):
    application, evaluator = assigned()
    login(client, evaluator)

    response = client.post(f"/evaluate/applications/{application.id}/conflict",
                           data={"reason": "I advise this company on regulatory matters."})

    assert response.status_code == 303
    assignment = db.session.scalar(select(Assignment).where(
        Assignment.application_id == application.id))
    assert assignment.conflict_declared_at is not None
    assert assignment.conflict_reason == "I advise this company on regulatory matters."
    home = page(client.get(response.headers["Location"]))
    assert "You declared a conflict of interest" in home
    assert f">{application.reference}<" not in home
    assert client.get(f"/evaluate/applications/{application.id}").status_code == 404
    assert client.post(f"/evaluate/applications/{application.id}/review",
                       data=review_data(application)).status_code == 404
    assert client.post(f"/evaluate/applications/{application.id}/conflict",
                       data={"reason": "again"}).status_code == 404
    assert review_count() == 0


def test_a_conflict_needs_a_reason(client, assigned):
    application, evaluator = assigned()
    login(client, evaluator)

    response = client.post(f"/evaluate/applications/{application.id}/conflict",
                           data={"reason": "  "})

    assert response.status_code == 400
    assert "Say briefly why you have a conflict of interest." in page(response)
    assert reviews.active_assignment(application, evaluator) is not None


def test_an_evaluator_reaches_only_applications_assigned_to_them(client, make, assigned):
    mine, evaluator = assigned()
    not_assigned = make.application("submitted")
    someone_elses, _ = assigned()
    login(client, evaluator)

    assert client.get(f"/evaluate/applications/{mine.id}").status_code == 200
    for application in (not_assigned, someone_elses):
        assert client.get(f"/evaluate/applications/{application.id}").status_code == 404
        assert client.post(f"/evaluate/applications/{application.id}/conflict",
                           data={"reason": "x"}).status_code == 404
        assert client.post(f"/evaluate/applications/{application.id}/review",
                           data=review_data(application)).status_code == 404
    assert client.get("/evaluate/applications/999999").status_code == 404
    assert review_count() == 0
    assert db.session.scalar(select(func.count(Assignment.id)).where(
        Assignment.conflict_declared_at.is_not(None))) == 0


@pytest.mark.parametrize("role", ["applicant", "manager"])
def test_other_roles_do_not_reach_the_evaluator_pages(client, make, assigned, role):
    application, _ = assigned()
    login(client, make.applicant() if role == "applicant" else make.manager())

    assert client.get("/evaluate/").status_code == 404
    assert client.get(f"/evaluate/applications/{application.id}").status_code == 404
    assert client.post(f"/evaluate/applications/{application.id}/conflict",
                       data={"reason": "x"}).status_code == 404


def test_anonymous_visitors_do_not_reach_the_evaluator_pages(client, assigned):
    application, _ = assigned()
    for url in ("/evaluate/", f"/evaluate/applications/{application.id}"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/account/login" in response.headers["Location"]
        assert application.reference not in page(response)


def test_once_decided_the_application_takes_no_more_reviews(client, make, manager, assigned):
    from vouchers.services import transitions

    application, evaluator = assigned()
    make.review(application, manager=manager)
    transitions.reject(application, manager, "Not selected.")
    db.session.commit()
    login(client, evaluator)

    html = page(client.get(f"/evaluate/applications/{application.id}"))
    assert "Reviews are no longer accepted on this application: its review is closed." in html
    assert "Submit review" not in html

    response = client.post(f"/evaluate/applications/{application.id}/review",
                           data=review_data(application))
    assert response.status_code == 422
    assert "Reviews are accepted while the application is under review." in page(response)
    assert reviews.review_of(application, evaluator) is None


def test_attachments_link_to_the_permission_checked_download(app, client, assigned):
    application, evaluator = assigned()
    db.session.add(Attachment(application_id=application.id, original_name="quote.pdf",
                              stored_name="a" * 32, content_type="application/pdf",
                              size=2048, uploaded_by_id=application.applicant_id))
    db.session.commit()
    login(client, evaluator)

    html = page(client.get(f"/evaluate/applications/{application.id}"))

    if "files.download" not in app.view_functions:
        pytest.skip("the files blueprint has no download route yet")
    with app.test_request_context():
        href = url_for("files.download", attachment_id=application.attachments[0].id)
    assert f'<a href="{href}">quote.pdf</a>' in html


def test_posts_without_a_csrf_token_are_refused(app, client, assigned, monkeypatch):
    application, evaluator = assigned()
    login(client, evaluator)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)

    conflict = client.post(f"/evaluate/applications/{application.id}/conflict",
                           data={"reason": "I advise them."})
    review = client.post(f"/evaluate/applications/{application.id}/review",
                         data=review_data(application))

    assert conflict.status_code == 400 and review.status_code == 400
    assert reviews.active_assignment(application, evaluator) is not None
    assert review_count() == 0
