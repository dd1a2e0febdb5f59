"""Bank details on the company profile, as applicants and managers use them.

Before an award an applicant's bank details apply at once; after it they wait for a
manager, who confirms or refuses them; a manager's own change applies at once with its
reason. Bad IBANs, BICs and VAT numbers get a clear message and change nothing.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from tests.helpers import login, snapshot
from tests.test_identifiers import IBANS
from tests.test_operations import refused
from vouchers.extensions import db
from vouchers.models import BankDetailsChange, ChangeRecord
from vouchers.services import bank_details as banking
from vouchers.services.errors import (
    ConcurrentChange,
    ConstraintClash,
    InvalidInput,
    NotAllowed,
)

IBAN, BIC = IBANS["NL"]
NEW_IBAN, NEW_BIC = "NL14 INGB 1707 5364 55", "INGBNL2A"
HOLDER = "Brabant Cell Dynamics B.V."
LETTER = "The company's signed letter of 3 March, checked by telephone."


def text(response) -> str:
    return response.get_data(as_text=True)


def compact(iban: str) -> str:
    return iban.replace(" ", "")


def bank_form(iban=NEW_IBAN, bic=NEW_BIC, holder=HOLDER, **extra) -> dict:
    return {"iban": iban, "bic": bic, "account_holder": holder, **extra}


def records(org, action=None) -> list[ChangeRecord]:
    query = select(ChangeRecord).where(ChangeRecord.subject_id == org.id,
                                       ChangeRecord.action.in_(banking.BANK_ACTIONS))
    if action:
        query = query.where(ChangeRecord.action == action)
    return list(db.session.scalars(query.order_by(ChangeRecord.id)))


@pytest.fixture
def awarded(make):
    """An applicant whose company holds a voucher and has confirmed bank details."""
    owner = make.applicant()
    make.application("awarded", applicant=owner)
    org = owner.organisation
    org.iban, org.bic, org.account_holder = compact(IBAN), BIC, HOLDER
    db.session.commit()
    return owner


# --- before an award: applied at once ------------------------------------------------------


def test_before_an_award_the_applicants_details_apply_at_once(client, make):
    owner = make.applicant()
    org = owner.organisation
    login(client, owner)
    page = text(client.get("/apply/profile"))
    assert 'id="bank-heading">Bank account' in page and "No bank account is given yet" in page
    response = client.post("/apply/profile/bank", data=bank_form(
        iban=NEW_IBAN.lower(), bic=" ingbnl2a ", holder=f"  {HOLDER} "))
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/apply/profile#bank-heading")
    db.session.expire_all()
    assert (org.iban, org.bic, org.account_holder) == (compact(NEW_IBAN), NEW_BIC, HOLDER)
    [record] = records(org)
    assert (record.action, record.actor_id) == (banking.SET, owner.id)
    assert record.changes["iban"] == ["", compact(NEW_IBAN)]
    page = text(client.get("/apply/profile"))
    assert "The bank details are saved." in page
    confirmed = page.split("Confirmed account", 1)[1].split("</dl>", 1)[0]
    assert NEW_IBAN in confirmed and NEW_BIC in confirmed  # in groups of four
    assert "awaiting confirmation" not in page


def test_the_bic_is_optional_inside_the_eea(make):
    owner = make.applicant()
    assert banking.set_bank_details(owner.organisation, owner, NEW_IBAN, "", HOLDER) == (
        banking.APPLIED)
    db.session.commit()
    assert owner.organisation.bic is None


@pytest.mark.parametrize("change, message", [
    ({"iban": "NL14 INGB 1707 5364 56"}, "NL14 INGB 1707 5364 56 is not a valid IBAN: its "
     "check digits do not match."),
    ({"iban": "NL14 INGB 1707 5364"}, "an IBAN of the Netherlands has 18 characters, this "
     "one 16"),
    ({"bic": "INGBNL2"}, "INGBNL2 is not a valid BIC: a BIC has 8 or 11 letters and digits."),
    ({"bic": "COBADEFFXXX"}, "COBADEFFXXX is the BIC of a bank in Germany, but the IBAN is of "
     "an account in the Netherlands"),
    ({"iban": "GB82 WEST 1234 5698 7654 32", "bic": ""}, "Give the BIC of the account&#39;s "
     "bank: a SEPA transfer to an account outside the European Economic Area needs it."),
    ({"holder": "x" * 71}, "Field cannot be longer than 70 characters."),
    ({"holder": "Brabant\u202e Cell"}, "The account holder&#39;s name contains an invisible"),
    ({"holder": "   "}, "Give the account holder&#39;s name."),
])
def test_bad_bank_details_get_a_clear_message_and_change_nothing(client, make, change,
                                                                 message):
    owner = make.applicant()
    login(client, owner)
    data = bank_form(**{k: v for k, v in change.items() if k != "holder"})
    if "holder" in change:
        data["account_holder"] = change["holder"]
    before = snapshot()
    response = client.post("/apply/profile/bank", data=data)
    assert response.status_code in (400, 422)
    page = text(response)
    assert message in page
    assert message in page.split('id="bank-heading"', 1)[1]  # next to the bank form
    assert snapshot() == before


def test_the_same_details_again_change_nothing(make, awarded):
    refused(lambda: banking.set_bank_details(awarded.organisation, awarded, IBAN, BIC, HOLDER),
            InvalidInput, "These are the company's bank details already")


def test_bank_details_need_a_profile_first(client, make):
    user = make.user("applicant")
    login(client, user)
    response = client.post("/apply/profile/bank", data=bank_form())
    assert response.status_code == 303
    assert "Save the company profile first" in text(client.get("/apply/profile"))


# --- after an award: a manager confirms ----------------------------------------------------


def test_after_an_award_a_change_waits_for_a_manager_who_confirms_it(client, make, awarded):
    org = awarded.organisation
    login(client, awarded)
    response = client.post("/apply/profile/bank", data=bank_form())
    assert response.status_code == 303
    db.session.expire_all()
    assert org.iban == compact(IBAN)  # the confirmed account stays in use
    change = banking.pending_change(org)
    assert (change.iban, change.bic, change.requested_by_id) == (
        compact(NEW_IBAN), NEW_BIC, awarded.id)
    page = text(client.get("/apply/profile"))
    assert "await confirmation by the programme managers" in page  # the flash
    pending = page.split('id="bank-pending"', 1)[1].split("</div>", 1)[0]
    assert "awaiting confirmation by the programme managers" in pending
    assert NEW_IBAN in pending
    assert IBAN in page.split("Confirmed account", 1)[1].split("</dl>", 1)[0]
    assert "manager.confirm" not in page and "/confirm" not in page  # no decision here

    manager = make.manager()
    login(client, manager)
    listing = text(client.get("/manage/bank-changes"))
    assert '<a href="/manage/bank-changes">Bank details to confirm</a>' in listing  # menu
    assert org.legal_name in listing and NEW_IBAN in listing and IBAN in listing
    response = client.post(f"/manage/bank-changes/{change.id}/confirm", data={"back": "list"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/manage/bank-changes")
    db.session.expire_all()
    assert (org.iban, org.bic) == (compact(NEW_IBAN), NEW_BIC)
    assert (change.outcome, change.decided_by_id, change.pending_organisation_id) == (
        banking.CONFIRMED, manager.id, None)
    assert [r.action for r in records(org)] == [banking.REQUEST, banking.CONFIRM]
    confirmation = records(org, banking.CONFIRM)[0]
    assert confirmation.actor_id == manager.id
    assert confirmation.changes["iban"] == [compact(IBAN), compact(NEW_IBAN)]
    assert "No change of bank details awaits confirmation." in text(
        client.get("/manage/bank-changes"))
    history = text(client.get(f"/manage/organisations/{org.id}")).split("newest first", 1)[1]
    assert "Change confirmed" in history and "Change asked for" in history


def test_a_manager_refuses_a_change_with_a_reason_the_applicant_sees(client, make, awarded):
    org = awarded.organisation
    banking.set_bank_details(org, awarded, NEW_IBAN, NEW_BIC, HOLDER)
    db.session.commit()
    change = banking.pending_change(org)
    manager = make.manager()
    login(client, manager)
    url = f"/manage/bank-changes/{change.id}/refuse"
    before = snapshot()
    assert client.post(url, data={"back": "list"}).status_code == 400
    response = client.post(url, data={"back": "company", "reason": "  "})
    assert response.status_code == 422
    assert "Give the reason for refusing the change" in text(response)
    assert f"Correct the details of {org.legal_name}" in text(response)  # the company page
    assert snapshot() == before
    response = client.post(url, data={"back": "company",
                                      "reason": "The director did not ask for it."})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/manage/organisations/{org.id}#bank-heading")
    db.session.expire_all()
    assert org.iban == compact(IBAN) and banking.pending_change(org) is None
    assert change.outcome == banking.REFUSED
    login(client, awarded)
    page = text(client.get("/apply/profile"))
    assert "Change refused" in page and "The director did not ask for it." in page
    assert 'id="bank-pending"' not in page


def test_a_second_request_replaces_the_waiting_one(client, make, awarded):
    org = awarded.organisation
    banking.set_bank_details(org, awarded, NEW_IBAN, NEW_BIC, "Typo B.V.")
    db.session.commit()
    first = banking.pending_change(org)
    refused(lambda: banking.set_bank_details(org, awarded, NEW_IBAN, NEW_BIC, "Typo B.V."),
            InvalidInput, "already await")
    assert banking.set_bank_details(org, awarded, NEW_IBAN, NEW_BIC, HOLDER) == (
        banking.REQUESTED)
    db.session.commit()
    second = banking.pending_change(org)
    assert second.id != first.id and second.account_holder == HOLDER
    assert first.outcome == banking.REFUSED and "Replaced" in first.reason
    assert len(banking.pending_changes()) == 1
    # A manager who still had the first one on screen cannot confirm it.
    manager = make.manager()
    login(client, manager)
    before = snapshot()
    assert client.post(f"/manage/bank-changes/{first.id}/confirm").status_code == 404
    assert snapshot() == before


def test_giving_the_confirmed_details_again_withdraws_the_waiting_change(make, awarded):
    org = awarded.organisation
    banking.set_bank_details(org, awarded, NEW_IBAN, NEW_BIC, HOLDER)
    db.session.commit()
    change = banking.pending_change(org)
    assert banking.set_bank_details(org, awarded, IBAN, BIC, HOLDER) == banking.WITHDRAWN
    db.session.commit()
    assert banking.pending_change(org) is None and change.outcome == banking.REFUSED
    assert org.iban == compact(IBAN)
    assert records(org)[-1].action == banking.WITHDRAW


def test_a_managers_own_change_applies_at_once_with_its_reason(client, make, awarded):
    org = awarded.organisation
    banking.set_bank_details(org, awarded, NEW_IBAN, NEW_BIC, "Someone Else Ltd")
    db.session.commit()
    waiting = banking.pending_change(org)
    manager = make.manager()
    login(client, manager)
    page = text(client.get(f"/manage/organisations/{org.id}"))
    assert 'name="vat_number"' in page
    pending = page.split('id="bank-pending"', 1)[1]
    assert "Someone Else Ltd" in pending and "Confirm the new details" in pending
    assert f"/manage/bank-changes/{waiting.id}/refuse" in pending
    # The manager's own form starts from the confirmed account, not the waiting request.
    form = page.split(f'action="/manage/organisations/{org.id}/bank"', 1)[1].split("</form>")[0]
    assert f'name="iban" required spellcheck="false" type="text" value="{IBAN}"' in form
    url = f"/manage/organisations/{org.id}/bank"
    before = snapshot()
    assert client.post(url, data=bank_form()).status_code == 400  # no reason
    assert snapshot() == before
    response = client.post(url, data=bank_form(iban="DE85 3704 0044 2940 5572 16",
                                               bic="", reason=LETTER))
    assert response.status_code == 303
    db.session.expire_all()
    assert (org.iban, org.bic) == ("DE85370400442940557216", None)
    assert waiting.outcome == banking.REFUSED  # replaced by the manager's details
    applied = records(org, banking.SET)[-1]
    assert (applied.actor_id, applied.reason) == (manager.id, LETTER)


def test_applicants_of_another_company_cannot_touch_it(client, make, awarded):
    org = awarded.organisation
    banking.set_bank_details(org, awarded, NEW_IBAN, NEW_BIC, HOLDER)
    db.session.commit()
    change = banking.pending_change(org)
    other = make.applicant()
    login(client, other)
    before = snapshot()
    for url, data in [(f"/manage/organisations/{org.id}/bank", bank_form(reason=LETTER)),
                      (f"/manage/bank-changes/{change.id}/confirm", {}),
                      (f"/manage/bank-changes/{change.id}/refuse", {"reason": "No."})]:
        assert client.post(url, data=data).status_code == 404, url
    assert client.get("/manage/bank-changes").status_code == 404
    assert snapshot() == before
    # Their own profile's form changes their own company only.
    assert client.post("/apply/profile/bank", data=bank_form()).status_code == 303
    db.session.expire_all()
    assert other.organisation.iban == compact(NEW_IBAN) and org.iban == compact(IBAN)
    # And the services refuse whoever is not the company's.
    refused(lambda: banking.set_bank_details(org, other, IBAN, BIC, HOLDER), NotAllowed)
    refused(lambda: banking.confirm_change(change, awarded), NotAllowed)


def test_a_decision_taken_a_moment_earlier_is_not_taken_twice(make, awarded):
    org = awarded.organisation
    banking.set_bank_details(org, awarded, NEW_IBAN, NEW_BIC, HOLDER)
    db.session.commit()
    change_id = banking.pending_change(org).id
    first, second = make.manager(), make.manager()
    banking.refuse_change(banking.pending_change(org), first, "Not asked for by the company.")
    before = snapshot()
    # The second manager's page was drawn before the refusal: it holds the change pending.
    stale = db.session.get(BankDetailsChange, change_id)
    set_committed_value(stale, "outcome", None)
    with pytest.raises(ConcurrentChange, match="decided or replaced a moment ago"):
        banking.confirm_change(stale, second)
    db.session.rollback()
    assert snapshot() == before
    assert org.iban == compact(IBAN)


def test_two_requests_at_the_same_moment_leave_one_waiting(make, awarded, monkeypatch):
    org = awarded.organisation
    banking.set_bank_details(org, awarded, NEW_IBAN, NEW_BIC, HOLDER)
    db.session.commit()
    # As if the other request were made after this one looked for a waiting change.
    monkeypatch.setattr(banking, "pending_change", lambda organisation: None)
    refused(lambda: banking.set_bank_details(org, awarded, NEW_IBAN, "", HOLDER),
            ConstraintClash, "Someone else changed this at the same moment")


def test_the_managers_home_says_how_many_bank_changes_wait(client, make, awarded):
    manager = make.manager()
    login(client, manager)
    assert "of bank details to confirm" not in text(client.get("/manage/"))
    login(client, awarded)
    client.post("/apply/profile/bank", data=bank_form())
    login(client, manager)
    home = text(client.get("/manage/"))
    assert "1 change of bank details to confirm" in home
    assert 'href="/manage/bank-changes"' in home
