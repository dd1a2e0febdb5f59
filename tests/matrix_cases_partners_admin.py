"""Authorization-matrix cases of the consortium's set-up (see tests/matrix_cases.py): the
lead partner's managers add and edit partners and say whom a user works for. The world's
``partner_id`` (for the GET pages) comes from tests/matrix_cases_partners.py."""

from __future__ import annotations

from tests.matrix_cases import Post, case, count, url
from vouchers.extensions import db
from vouchers.models import Partner, User


@case("manager.new_partner")
def _(make):
    programme = make.call().programme
    data = {"name": "Brabant Agency", "country": "NL", "currency": "EUR",
            "regions": "NL | North Brabant | NL41"}
    return Post("manager", make.manager(),
                url("manager.new_partner", programme_id=programme.id), data=data,
                done=lambda: count(Partner, Partner.programme_id == programme.id,
                                   Partner.name == "Brabant Agency") == 1)


@case("manager.edit_partner")
def _(make):
    programme = make.call().programme
    partner = make.partner(programme, "Brabant Agency")
    data = {"name": "Brabant Agency", "country": "NL", "currency": "PLN",
            "regions": "NL | North Brabant | NL41"}
    return Post("manager", make.manager(), url("manager.edit_partner", partner_id=partner.id),
                data=data, done=lambda: db.session.get(Partner, partner.id).currency == "PLN")


@case("manager.change_user_partner")
def _(make):
    partner = make.partner(make.call().programme, "Brabant Agency")
    evaluator = make.evaluator()
    return Post("manager", make.manager(),
                url("manager.change_user_partner", user_id=evaluator.id),
                data={"partner_id": str(partner.id)},
                done=lambda: db.session.get(User, evaluator.id).partner_id == partner.id)
