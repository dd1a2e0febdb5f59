"""The evaluator's API: the pages' permissions, forms and services, answered as JSON."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.api_support import bearer, is_problem
from tests.helpers import login, snapshot
from vouchers.extensions import db
from vouchers.models import Review
from vouchers.services import reviews

API = "/api/v1/evaluate/assignments"


@pytest.fixture
def manager(make):
    return make.manager()


@pytest.fixture
def assigned(make, manager):
    """An application under review assigned to an evaluator (confirmed unless told)."""

    def build(evaluator=None, application=None, confirm=True):
        evaluator = evaluator or make.evaluator()
        application = application or make.application("submitted")
        reviews.assign(application, evaluator, manager)
        if confirm:
            reviews.confirm_no_conflict(application, evaluator)
        db.session.commit()
        return application, evaluator

    return build


def review_body(application, score=4, **overrides) -> dict:
    body = {"scores": {str(c.id): score for c in application.call_voucher_type.criteria},
            "recommendation": "award", "comment": "Solid plan and a credible provider."}
    body.update(overrides)
    return body


def stored(review: Review) -> tuple:
    """What a review holds, apart from its ids and time."""
    return (review.version, review.recommendation, review.comment, review.weighted_score,
            sorted((s.criterion.name, s.score) for s in review.scores))


def test_my_assignments_are_mine_only_with_where_my_review_stands(client, make, assigned):
    todo, evaluator = assigned(confirm=False)
    done, _ = assigned(evaluator)
    reviews.submit_review(done, evaluator, recommendation="waitlist", comment="Fine.",
                          scores={c.id: 3 for c in done.call_voucher_type.criteria})
    conflicted, _ = assigned(evaluator)
    reviews.declare_conflict(conflicted, evaluator, "I advise them.")
    assigned()  # someone else's
    db.session.commit()
    response = client.get(API, headers=bearer(evaluator, "read"))
    assert response.status_code == 200
    body = response.json
    assert body["total"] == 2 and body["page"] == 1 and body["per_page"] == 50
    assert [(r["reference"], r["review_status"]) for r in body["items"]] == [
        (todo.reference, "to_confirm"), (done.reference, "reviewed")]
    assert body["items"][0]["company"] == todo.organisation.legal_name
    assert body["items"][0]["review_status_label"].startswith("To confirm")
    assert body["links"] == {"self": f"{API}?page=1", "next": None, "prev": None}


def test_before_confirming_an_assignment_shows_only_who_applied(client, make, assigned):
    application, evaluator = assigned(confirm=False)
    response = client.get(f"{API}/{application.id}", headers=bearer(evaluator, "read"))
    assert response.status_code == 200
    body = response.json
    assert body["confirmed"] is False and body["content"] is None
    assert body["may_confirm_no_conflict"] is True and body["may_declare_conflict"] is True
    assert (body["reference"], body["title"], body["company"]) == (
        application.reference, application.title, application.organisation.legal_name)
    text = response.get_data(as_text=True)
    assert application.summary not in text and "requested_amount" not in text


def test_confirming_no_conflict_opens_the_application_once(client, make, assigned):
    application, evaluator = assigned(confirm=False)
    headers = bearer(evaluator)
    response = client.post(f"{API}/{application.id}/no-conflict", headers=headers)
    assert response.status_code == 200, response.json
    content = response.json["content"]
    assert response.json["confirmed"] is True
    assert content["summary"] == application.summary
    assert content["requested_amount"] == f"{application.requested_amount:.2f}"
    assert [c["id"] for c in content["criteria"]] == [
        c.id for c in application.call_voucher_type.criteria]
    assert content["may_review"] is True and content["reviews"] == []
    # The page's permission: confirmed already, there is nothing to confirm (404).
    assert is_problem(client.post(f"{API}/{application.id}/no-conflict", headers=headers), 404)


def test_a_review_through_the_api_is_stored_as_one_through_the_page(
        client, make, assigned):
    by_page, page_evaluator = assigned()
    by_api, api_evaluator = assigned(application=make.application(
        "submitted", by_page.call_voucher_type))
    criteria = by_page.call_voucher_type.criteria
    login(client, page_evaluator)
    form = {f"score_{criteria[0].id}": "5", f"score_{criteria[1].id}": "na",
            "recommendation": "waitlist", "comment": "  Good, if budget allows.  "}
    assert client.post(f"/evaluate/applications/{by_page.id}/review",
                       data=form).status_code == 303
    body = {"scores": {str(criteria[0].id): 5, str(criteria[1].id): None},
            "recommendation": "waitlist", "comment": "  Good, if budget allows.  "}
    response = client.post(f"{API}/{by_api.id}/review", json=body,
                           headers=bearer(api_evaluator))
    assert response.status_code == 201, response.json
    assert response.json["reviewer"] == "You" and response.json["weighted_score"] == "5.00"
    assert response.json["scores"] == {str(criteria[0].id): 5, str(criteria[1].id): None}
    db.session.expire_all()
    page_review, api_review = (db.session.scalars(select(Review).where(
        Review.application_id == a.id)).one() for a in (by_page, by_api))
    assert stored(page_review) == stored(api_review)
    assert api_review.evaluator_id == api_evaluator.id
    assert (by_api.review_count, by_api.weighted_score) == (
        by_page.review_count, by_page.weighted_score)


def test_reviews_stay_blind_and_the_others_are_numbered_not_named(client, make, assigned):
    application, first = assigned()
    _, second = assigned(application=application)
    reviews.submit_review(application, first, recommendation="reject", comment="Weak.",
                          scores={c.id: 1 for c in application.call_voucher_type.criteria})
    db.session.commit()
    headers = bearer(second)
    before = client.get(f"{API}/{application.id}", headers=headers).json["content"]
    assert before["reviews"] == [] and "Weak." not in str(before)
    assert client.post(f"{API}/{application.id}/review", json=review_body(application),
                       headers=headers).status_code == 201
    after = client.get(f"{API}/{application.id}", headers=headers)
    shown = after.json["content"]["reviews"]
    assert [(r["reviewer"], r["recommendation"]) for r in shown] == [
        ("You", "award"), ("Evaluator 2", "reject")]
    # (The factory names users "Evaluator <n>" too: their e-mail and id tell them apart.)
    text = after.get_data(as_text=True)
    assert first.email not in text and "evaluator_id" not in text
    assert after.json["content"]["may_review"] is False


def test_the_review_form_and_the_service_refuse_with_the_pages_words(client, make, assigned):
    application, evaluator = assigned()
    headers = bearer(evaluator)
    criterion = application.call_voucher_type.criteria[0]
    body = review_body(application, comment="")
    del body["scores"][str(criterion.id)]
    response = client.post(f"{API}/{application.id}/review", json=body, headers=headers)
    assert is_problem(response, 422)
    assert response.json["errors"][f"scores.{criterion.id}"] == [
        "Give a score or choose “not applicable”."]
    assert response.json["errors"]["comment"] == ["Write a comment."]
    unconfirmed, other = assigned(confirm=False)
    response = client.post(f"{API}/{unconfirmed.id}/review", json=review_body(unconfirmed),
                           headers=bearer(other))
    assert is_problem(response, 422)
    assert response.json["detail"] == reviews.CONFIRM_FIRST
    assert client.post(f"{API}/{application.id}/review", json=review_body(application),
                       headers=headers).status_code == 201
    again = client.post(f"{API}/{application.id}/review", json=review_body(application),
                        headers=headers)
    assert is_problem(again, 422) and again.json["detail"] == reviews.ALREADY_REVIEWED


def test_text_no_page_could_send_is_refused_before_it_reaches_the_database(
        client, make, assigned):
    application, evaluator = assigned()
    response = client.post(f"{API}/{application.id}/review", headers=bearer(evaluator),
                           json=review_body(application, comment="Fine\x00 plan."))
    assert is_problem(response, 422)
    assert response.json["errors"]["comment"] == ["contains a control character (U+0000)"]
    assert db.session.scalars(select(Review)).all() == []


def test_declaring_a_conflict_takes_the_application_off_my_list(client, make, assigned):
    application, evaluator = assigned(confirm=False)
    headers = bearer(evaluator)
    empty = client.post(f"{API}/{application.id}/conflict", json={"reason": "  "},
                        headers=headers)
    assert is_problem(empty, 422)
    assert empty.json["errors"]["reason"] == [
        "Say briefly why you have a conflict of interest."]
    response = client.post(f"{API}/{application.id}/conflict",
                           json={"reason": " I advise this company. "}, headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["reason"] == "I advise this company."
    assert client.get(API, headers=headers).json["items"] == []
    # A conflicted evaluator reads nothing of it any more, and cannot review it.
    assert is_problem(client.get(f"{API}/{application.id}", headers=headers), 404)
    assert is_problem(client.post(f"{API}/{application.id}/review",
                                  json=review_body(application), headers=headers), 404)


def test_nobody_else_reads_or_acts_on_an_assignment(client, make, assigned, manager):
    application, _ = assigned()
    url = f"{API}/{application.id}"
    for user in (make.evaluator(), application.applicant, manager):
        headers = bearer(user)
        assert is_problem(client.get(url, headers=headers), 404), user.role
        assert is_problem(client.post(f"{url}/review", json=review_body(application),
                                      headers=headers), 404), user.role
        assert is_problem(client.post(f"{url}/conflict", json={"reason": "x"},
                                      headers=headers), 404), user.role
    for user in (application.applicant, manager):
        assert is_problem(client.get(API, headers=bearer(user)), 404)
    assert is_problem(client.get(API), 401)
    assert is_problem(client.get(url), 401)
    assert is_problem(client.post(f"{url}/review", json=review_body(application)), 401)
    assert db.session.scalars(select(Review)).all() == []


def test_a_read_only_token_cannot_review_and_nothing_changes(client, make, assigned):
    application, evaluator = assigned()
    headers = bearer(evaluator, "read")
    assert client.get(f"{API}/{application.id}", headers=headers).status_code == 200
    before = snapshot()
    response = client.post(f"{API}/{application.id}/review", json=review_body(application),
                           headers=headers)
    assert is_problem(response, 403)
    assert "only read" in response.json["detail"]
    assert snapshot() == before


def test_an_assignment_has_an_etag_and_answers_304_until_it_changes(client, make, assigned):
    application, evaluator = assigned()
    headers = bearer(evaluator)
    url = f"{API}/{application.id}"
    first = client.get(url, headers=headers)
    etag = first.headers["ETag"]
    again = client.get(url, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert client.post(f"{url}/review", json=review_body(application),
                       headers=headers).status_code == 201
    changed = client.get(url, headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
