"""Authorization-matrix cases of the de minimis declarations (see tests/matrix_cases.py)."""

from __future__ import annotations

from datetime import timedelta

from tests.matrix_cases import Post, case, count, url
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import AidDeclaration
from vouchers.services import aid

DECLARATION = {"granting_body": "Catalan innovation agency", "amount": "12000.00"}


def _declared(org) -> AidDeclaration:
    return aid.declare(org, org.members[0], "Regional agency", today() - timedelta(days=30),
                       "5000")


@case("applicant.declare_aid")
def _(make):
    owner = make.applicant()
    org_id = owner.organisation_id
    return Post("applicant", owner, url("applicant.declare_aid"),
                data={**DECLARATION, "granted_on": (today() - timedelta(days=90)).isoformat()},
                done=lambda: count(AidDeclaration,
                                   AidDeclaration.organisation_id == org_id) == 1)


@case("applicant.withdraw_aid")
def _(make):
    owner = make.applicant()
    declaration_id = _declared(owner.organisation).id
    db.session.commit()
    return Post("applicant", owner, url("applicant.withdraw_aid", declaration_id=declaration_id),
                data={"reason": "Entered twice."},
                done=lambda: db.session.get(AidDeclaration, declaration_id) is None)


@case("manager.declare_aid")
def _(make):
    org = make.applicant().organisation
    org_id = org.id
    return Post("manager", make.manager(), url("manager.declare_aid", organisation_id=org_id),
                data={**DECLARATION, "granted_on": (today() - timedelta(days=90)).isoformat()},
                done=lambda: count(AidDeclaration,
                                   AidDeclaration.organisation_id == org_id) == 1)


@case("manager.withdraw_aid")
def _(make):
    org = make.applicant().organisation
    declaration_id = _declared(org).id
    db.session.commit()
    return Post("manager", make.manager(),
                url("manager.withdraw_aid", organisation_id=org.id,
                    declaration_id=declaration_id),
                data={"reason": "The register shows it was a loan, not aid."},
                done=lambda: db.session.get(AidDeclaration, declaration_id) is None)
