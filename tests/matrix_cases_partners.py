"""The consortium in the authorization matrix (issue 11): two partner managers.

``world_args`` gives the world of tests/test_authorization_matrix.py its partners: the
lead partner (the world's manager is one of its managers), the partner of the world SME's
region (North Brabant), whose manager is the persona ``partner_manager``, and a partner
of another region (Capital Region, DK), whose manager is ``other_partner_manager``. The
world's application is placed under its region's partner, and so is the paid voucher
whose payment the world names (``payment_id``), so that every object the world's URLs
name about its SME is within the first partner's reach and outside the second's.
"""

from __future__ import annotations

from vouchers.extensions import db
from vouchers.models import Application, Call, Payment
from vouchers.services import partners

# The URL arguments that name the world SME's objects (its application and what hangs
# from it, its company and what hangs from that): a route with one of them is refused to
# the other partner's manager (404), and open to its own partner's where a manager is.
# (A part whose world argument names another of them adds it here.)
WORLD_SME_ARGS = {
    "application_id", "attachment_id", "organisation_id", "declaration_id", "change_id",
    "payment_id", "assignment_id", "message_file_id", "note_file_id",
    # The world's partner (``partner_id``, given here) and its reports.
    "partner_id", "partner_report_id",
}


def world_args(make, users: dict, args: dict) -> dict:
    application = db.session.get(Application, args["application_id"])
    programme = db.session.get(Call, application.call_id).programme
    lead = make.partner(programme, "Lead Agency", "DE", "EUR", is_lead=True,
                        regions=[("DE", "Bavaria", "DE2"), ("ES", "Catalonia", "ES51")])
    own = make.partner(programme, "Brabant Agency", "NL", "EUR",
                       regions=[("NL", "North Brabant", "NL41")])
    other = make.partner(programme, "Capital Agency", "DK", "DKK",
                         regions=[("DK", "Capital Region", "DK01")])
    users["manager"].partner_id = lead.id
    partners.place(application)
    # The paid voucher is of a call of its own (another programme): put it with the
    # world's SME all the same, so the payment is the partner's too.
    if "payment_id" in args:
        db.session.get(Payment, args["payment_id"]).application.partner_id = own.id
    db.session.commit()
    assert application.partner_id == own.id
    users["partner_manager"] = make.manager(partner=own)
    users["other_partner_manager"] = make.manager(partner=other)
    return {"partner_id": own.id}

