"""Authorization-matrix cases of issue 9 (bank details); see tests/matrix_cases.py."""

from __future__ import annotations

from tests.matrix_cases import Post, case, url
from vouchers.extensions import db
from vouchers.models import BankDetailsChange
from vouchers.services import bank_details

IBAN, BIC, HOLDER = "NL95 RABO 3998 6987 97", "RABONL2U", "Matrix Biotech B.V."
NEW_IBAN = "NL14 INGB 1707 5364 55"


def _pending(make) -> BankDetailsChange:
    """A change asked for after an award, awaiting a manager."""
    owner = make.applicant()
    make.application("awarded", applicant=owner)
    org = owner.organisation
    org.iban, org.account_holder = IBAN.replace(" ", ""), HOLDER
    bank_details.set_bank_details(org, owner, NEW_IBAN, "", HOLDER)
    db.session.commit()
    return bank_details.pending_change(org)


@case("applicant.bank_details")
def _(make):
    owner = make.applicant()
    org = owner.organisation
    return Post("applicant", owner, url("applicant.bank_details"),
                data={"iban": IBAN, "bic": BIC, "account_holder": HOLDER},
                done=lambda: org.iban == IBAN.replace(" ", ""))


@case("manager.bank_details")
def _(make):
    org = make.applicant().organisation
    return Post("manager", make.manager(), url("manager.bank_details", organisation_id=org.id),
                data={"iban": IBAN, "bic": "", "account_holder": HOLDER,
                      "reason": "The company's signed letter of 3 March."},
                done=lambda: org.iban == IBAN.replace(" ", ""))


@case("manager.confirm_bank_change")
def _(make):
    change = _pending(make)
    return Post("manager", make.manager(),
                url("manager.confirm_bank_change", change_id=change.id),
                done=lambda: change.outcome == bank_details.CONFIRMED)


@case("manager.refuse_bank_change")
def _(make):
    change = _pending(make)
    return Post("manager", make.manager(),
                url("manager.refuse_bank_change", change_id=change.id),
                data={"reason": "The director says the company did not ask for it."},
                done=lambda: change.outcome == bank_details.REFUSED)
