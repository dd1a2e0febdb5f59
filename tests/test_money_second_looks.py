"""What a reviewer and a first-time user found when they tried the money: each stays fixed.

A second click records nothing twice; a recovery keeps the ledger in date order; a
cancelled voucher gives its cancellation's reason; a batch's file keeps the account it
was prepared with; new bank details wait for the batch that pays the old ones.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.ledger_checks import assert_books_balance
from tests.test_money_services import refused
from tests.test_payment_batches import due_voucher, give_debtor
from tests.test_programme_debtor import BASICS
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import BankDetailsChange
from vouchers.models.ledger import ADVANCE
from vouchers.services import (
    bank_details,
    batch_files,
    payment_batches,
    payments,
    programme_setup,
    settlement,
    transitions,
)
from vouchers.services.errors import DomainError


@pytest.fixture
def manager(make):
    return make.manager()


def advanced(make, manager):
    voucher = make.application("awarded", manager=manager)
    voucher.call.advance_share = Decimal("0.50")
    db.session.commit()
    return voucher


def test_a_second_click_on_a_partial_advance_records_nothing(make, manager):
    voucher = advanced(make, manager)
    payments.record_payment(voucher, manager, "400", paid_on=today(), reference="TRX-77",
                            kind=ADVANCE)
    db.session.commit()
    refused(lambda: payments.record_payment(voucher, manager, "400", paid_on=today(),
                                            reference="TRX-77", kind=ADVANCE),
            "already recorded on this voucher")
    assert voucher.paid_amount == Decimal("400.00")


def test_a_reference_longer_than_its_column_gets_a_message_not_a_database_error(make,
                                                                                manager):
    voucher = advanced(make, manager)
    refused(lambda: payments.record_payment(voucher, manager, "400", paid_on=today(),
                                            reference="R" * 61, kind=ADVANCE),
            "at most 60")


def test_a_recovery_is_not_dated_before_the_movement_that_made_it_due(make, manager):
    voucher = advanced(make, manager)
    payments.record_payment(voucher, manager, settlement.advance_due(voucher), paid_on=today(),
                            reference="ADV-1", kind=ADVANCE)
    transitions.cancel(voucher, manager, "The SME gave up the trip.")
    db.session.commit()
    due = settlement.recovery_due(voucher)
    assert due > 0
    refused(lambda: payments.record_recovery(voucher, manager, due,
                                             received_on=today() - timedelta(days=30),
                                             reference="IN-1"),
            "before the voucher's last movement")
    payments.record_recovery(voucher, manager, due, received_on=today(), reference="IN-1")
    db.session.commit()
    refused(lambda: payments.record_recovery(voucher, manager, "1", received_on=today(),
                                             reference="IN-1"),
            "already recorded on this voucher (a second click?)")
    assert voucher.committed_amount == 0
    assert_books_balance()


def test_a_cancelled_voucher_gives_its_cancellation_as_its_reason(make, manager):
    voucher = make.application("awarded", manager=manager)
    transitions.cancel(voucher, manager, "The event was called off.")
    db.session.commit()
    assert voucher.decision_reason == "The event was called off."


def test_a_batch_file_keeps_the_programme_account_it_was_prepared_with(make, manager):
    call = make.call()
    give_debtor(call.programme)
    voucher = due_voucher(make, call.voucher_type("travel"), manager)
    batch = payment_batches.prepare_batch(call, manager, [voucher.id], today())
    db.session.commit()
    first = batch_files.sepa_xml(batch)
    call.programme.debtor_iban, call.programme.debtor_bic = "NL14INGB1707536455", "INGBNL2A"
    db.session.commit()
    assert batch_files.sepa_xml(batch) == first
    assert b"INGBNL2A" not in first


def test_new_bank_details_wait_for_the_batch_that_pays_the_old_account(make, manager):
    call = make.call()
    give_debtor(call.programme)
    voucher = due_voucher(make, call.voucher_type("travel"), manager)
    payment_batches.prepare_batch(call, manager, [voucher.id], today())
    org = voucher.organisation
    bank_details.set_bank_details(org, voucher.applicant, "DE89370400440532013000",
                                  "COBADEFFXXX", org.legal_name)
    db.session.commit()
    change = db.session.query(BankDetailsChange).filter_by(organisation_id=org.id).one()
    refused(lambda: bank_details.confirm_change(change, manager), "awaits execution")
    assert change.outcome is None


def test_the_programme_bic_must_be_of_its_account_country(manager):
    programme = programme_setup.create_programme(manager, **BASICS)
    db.session.commit()
    with pytest.raises(DomainError) as caught:
        programme_setup.update_programme(
            programme, manager, **BASICS, debtor_name="Biocat",
            debtor_iban="ES91 2100 0418 4502 0005 1332", debtor_bic="COBADEFFXXX")
    db.session.rollback()
    assert "BIC of the account's bank" in str(caught.value)
    assert db.session.get(type(programme), programme.id).debtor_iban == ""
