"""Partner shares of the envelopes (issue 11) where money is decided and paid: the funding
line and the reserve list never offer what a partner's share cannot pay, a SEPA batch
(in euros) leaves out the vouchers its partners pay in their own currency, and a call's
envelope cannot go below the shares of it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.helpers import login, snapshot
from tests.test_call_setup_service import one_type, spec_of
from tests.test_payment_batches import due_voucher, give_debtor
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import Application, PartnerShare
from vouchers.services import call_setup, funding_line, reserve
from vouchers.services import payment_batches as pb
from vouchers.services.errors import PaymentRefused
from vouchers.services.funding_line import AWARD, WAITLIST
from vouchers.services.setup_checks import SetupRefused

FULL = Decimal("60000.00")  # the factories' market validation request (its maximum)


@pytest.fixture
def setting(make):
    """A call whose market validation type gives the Brabant partner (the factories' SMEs'
    region) a share of 60,000, already held by one awarded voucher."""
    call = make.call()
    call.max_applications_per_type = None
    db.session.commit()
    cvt = call.voucher_type("market_validation")
    brabant = make.partner(call.programme, "Brabant Agency", "NL", "EUR",
                           regions=[("NL", "North Brabant", "NL41")], is_lead=True)
    db.session.add(PartnerShare(partner_id=brabant.id, call_voucher_type_id=cvt.id,
                                envelope=FULL))
    db.session.commit()
    manager, evaluator = make.manager(), make.evaluator()
    holder = make.application("awarded", cvt, manager=manager, evaluator=evaluator)
    share = db.session.get(PartnerShare, brabant.shares[0].id)
    db.session.refresh(share)
    assert holder.partner_id == brabant.id and share.committed == FULL
    return make, cvt, brabant, manager, evaluator


def _ranked(make, cvt, manager, evaluator, organisation=None) -> Application:
    """An application under review with one review of its current version."""
    applicant = make.applicant(organisation) if organisation else make.applicant()
    return make.application("under_review", cvt, applicant=applicant, manager=manager,
                            evaluator=evaluator)


def test_the_funding_line_waitlists_an_sme_whose_partner_share_is_used_up(setting):
    make, cvt, brabant, manager, evaluator = setting
    # The Brabant SME ranks first; the Catalan one has no partner share: the envelope rules.
    in_brabant = _ranked(make, cvt, manager, evaluator)
    catalan = make.organisation(country="ES", region="Catalonia")
    in_catalonia = _ranked(make, cvt, manager, evaluator, organisation=catalan)
    assert in_brabant.partner_id == brabant.id and in_catalonia.partner_id is None

    proposal = funding_line.propose(cvt)
    lines = {line.application.id: line for line in proposal.lines}
    assert lines[in_brabant.id].action == WAITLIST
    assert "The partner's share is used up: Brabant Agency has €0.00" in \
        lines[in_brabant.id].reason
    assert lines[in_catalonia.id].action == AWARD

    # Confirming applies the whole line (before the fix the share refused it all).
    funding_line.confirm(cvt, manager, proposal.fingerprint, basis=proposal.basis)
    db.session.commit()
    assert db.session.get(Application, in_brabant.id).state == "waitlisted"
    assert db.session.get(Application, in_catalonia.id).state == "awarded"

    # Nothing returned to the share: the reserve list does not offer the Brabant SME.
    offer = next(o for o in reserve.offers(cvt.call) if o.cvt.id == cvt.id)
    assert [line.application.id for line in offer.reserve] == [in_brabant.id]
    assert offer.first is None


def test_a_share_with_room_awards_within_it_and_waitlists_beyond(setting):
    make, cvt, brabant, manager, evaluator = setting
    share = db.session.get(PartnerShare, brabant.shares[0].id)
    share.envelope = FULL * 2  # room for exactly one more voucher of the partner
    db.session.commit()
    first = _ranked(make, cvt, manager, evaluator)
    second = _ranked(make, cvt, manager, evaluator)

    lines = {line.application.id: line for line in funding_line.propose(cvt).lines}
    actions = sorted(lines[a.id].action for a in (first, second))
    assert actions == [AWARD, WAITLIST]
    waiting = next(lines[a.id] for a in (first, second) if lines[a.id].action == WAITLIST)
    assert "share is used up" in waiting.reason


def test_a_sepa_batch_leaves_out_a_voucher_paid_in_gbp(make, client):
    call = make.call()
    give_debtor(call.programme)
    manager = make.manager()
    travel = call.voucher_type("travel")
    in_euros = due_voucher(make, travel, manager, 0)
    in_pounds = due_voucher(make, travel, manager, 1)
    # Its partner pays it in its own currency (set directly: the GBP reporting is
    # another part's; here only the batch's choice matters).
    in_pounds.currency = "GBP"
    db.session.commit()

    assert [d.application.id for d in pb.due_payments(call)] == [in_euros.id]
    assert pb.partner_paid_currencies(call) == ["GBP"]
    before = snapshot()
    with pytest.raises(PaymentRefused) as exc:
        pb.prepare_batch(call, manager, [in_euros.id, in_pounds.id], today() + timedelta(days=2))
    db.session.commit()
    assert snapshot() == before
    assert f"{in_pounds.reference}: paid in GBP by its partner, not SEPA." in str(exc.value)

    login(client, manager)
    page = client.get(f"/manage/calls/{call.id}/payments").get_data(as_text=True)
    assert in_euros.reference in page and in_pounds.reference not in page
    assert "Vouchers in GBP are paid by their partner" in page


def test_lowering_the_envelope_below_the_partner_shares_is_refused(make):
    call = make.call()
    cvt = call.voucher_type("market_validation")
    manager = make.manager()
    north = make.partner(call.programme, "North Agency", "NL", "EUR",
                         regions=[("NL", "North Brabant", "NL41")], is_lead=True)
    south = make.partner(call.programme, "South Agency", "ES", "EUR",
                         regions=[("ES", "Catalonia", "ES51")])
    for partner, amount in ((north, "200000"), (south, "100000")):
        db.session.add(PartnerShare(partner_id=partner.id, call_voucher_type_id=cvt.id,
                                    envelope=Decimal(amount)))
    db.session.commit()

    before = snapshot()
    with pytest.raises(SetupRefused) as exc:
        call_setup.update_call(call, one_type(spec_of(call), "market_validation",
                                              envelope=Decimal("299999.99")), manager)
    db.session.commit()
    assert snapshot() == before
    message = str(exc.value)
    assert "the partners' shares of the envelope total €300,000.00" in message
    assert "North Agency €200,000.00, South Agency €100,000.00" in message

    call_setup.update_call(call, one_type(spec_of(call), "market_validation",
                                          envelope=Decimal("300000")), manager)
    db.session.commit()
    assert call.voucher_type("market_validation").envelope == Decimal("300000.00")
