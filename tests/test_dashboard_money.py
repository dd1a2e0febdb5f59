"""Money due on the dashboards: payments to make and recoveries to collect.

The counts come from SQL conditions (services/money_due.py) that must say, voucher by
voucher, what services/settlement.py says in Python, down to the half cent; the pages
show them with links, at a cost in queries that does not grow with the vouchers.
"""

from __future__ import annotations

import html as html_lib
import re
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from tests.helpers import login
from tests.ledger_checks import assert_books_balance
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import Application, BatchItem, PaymentBatch
from vouchers.services import money_due, payments, reporting, settlement, transitions
from vouchers.services.dashboard import RECOVERIES_LISTED, money_due_of

# A travel voucher of up to 5,000 at a 50% funding rate: costs x rate lands on half cents.
HALVES = {"travel": (40, "5000", "0.50", "200000")}


@pytest.fixture
def manager(make, client):
    user = make.manager()
    login(client, user)
    return user


def text(response) -> str:
    source = response.get_data(as_text=True)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", source)).split())


def advance_call(make, share="0.5", types=HALVES):
    call = make.call(types)
    call.advance_share = Decimal(share)
    db.session.commit()
    return call


def awarded(make, manager, call, amount="5000", advance=None, vt="travel"):
    a = make.application("awarded", call.voucher_type(vt), manager=manager, amount=amount,
                         costs="10000" if vt == "travel" else None)
    if advance:
        payments.record_payment(a, manager, advance, paid_on=today(), reference="ADV",
                                kind="advance")
        db.session.commit()
    return a


def closed(make, manager, call, *, advance=None, costs, amount="5000"):
    """A voucher whose report of ``costs`` is approved (after ``advance``, if any)."""
    a = awarded(make, manager, call, amount=amount, advance=advance)
    reporting.start_reporting(a, a.applicant)
    reporting.save_final_report(a, a.applicant, summary="Done.", actual_costs=costs)
    reporting.submit_final_report(a, a.applicant)
    reporting.approve_report(a, manager)
    db.session.commit()
    return a


def ids_where(condition) -> set[int]:
    return set(db.session.scalars(select(Application.id).where(condition)))


@pytest.fixture
def vouchers(make, manager):
    """Vouchers in every money situation, with the edges of rounding at the half cent."""
    call = advance_call(make)
    plain = make.call(HALVES)
    v = {
        "advance due": awarded(make, manager, call),
        # 4,999.99 x 50% = 2,499.995, rounded up to 2,500.00: one cent still due.
        "a cent of advance due": awarded(make, manager, call, amount="4999.99",
                                         advance="2499.99"),
        "advance paid": awarded(make, manager, call, amount="4999.99", advance="2500.00"),
        "no advance in the call": awarded(make, manager, plain),
        "reporting, advance paid": awarded(make, manager, call, advance="2500"),
        # 4,999.99 x 50% = 2,499.995 -> 2,500.00 payable: the advance is exactly it.
        "half a cent below, rounded up": closed(make, manager, call, advance="2500",
                                                costs="4999.99"),
        # 4,999.98 x 50% = 2,499.99 payable: one cent due back.
        "a cent due back": closed(make, manager, call, advance="2500", costs="4999.98"),
        "zero report after an advance": closed(make, manager, call, advance="2500",
                                               costs="0"),
        "final payment due": closed(make, manager, call, advance="2500", costs="8000"),
        # 5,000.01 x 50% = 2,500.005 -> 2,500.01: a cent still payable after the advance.
        "a cent of final payment due": closed(make, manager, call, advance="2500",
                                              costs="5000.01"),
        "paid in full": make.application("paid", plain.voucher_type("travel"),
                                         manager=manager, costs="10000"),
        "zero report, nothing paid": closed(make, manager, plain, costs="0"),
        "cancelled after an advance": awarded(make, manager, call, advance="2500"),
        "cancelled, nothing paid": awarded(make, manager, call),
        "recovered in full": awarded(make, manager, call, advance="2500"),
    }
    reporting.start_reporting(v["reporting, advance paid"], v["reporting, advance paid"].applicant)
    for key in ("cancelled after an advance", "cancelled, nothing paid", "recovered in full"):
        transitions.cancel(v[key], manager, "Given up.")
    payments.record_recovery(v["recovered in full"], manager, "2500", received_on=today(),
                             reference="BACK")
    db.session.commit()
    return v


def test_the_sql_conditions_say_what_settlement_says_voucher_by_voucher(vouchers):
    assert_books_balance()
    found = {name: ids_where(condition()) for name, condition in (
        ("advance", money_due.advance_due), ("final", money_due.final_due),
        ("payment", money_due.payment_due), ("recovery", money_due.recovery_due))}
    for name, a in vouchers.items():
        db.session.refresh(a)
        python = {"advance": settlement.advance_due(a) > 0,
                  "final": settlement.final_due(a) > 0,
                  "payment": settlement.due(a) is not None,
                  "recovery": settlement.recovery_due(a) > 0}
        sql = {key: a.id in ids for key, ids in found.items()}
        assert sql == python, name


def test_the_edges_are_where_settlement_puts_them(vouchers):
    """The world above has the cases it claims (else the test above proves little)."""
    due = {name: settlement.due(a) for name, a in vouchers.items()}
    assert due["a cent of advance due"] == ("advance", Decimal("0.01"))
    assert due["advance paid"] is None
    assert due["a cent of final payment due"] == ("payment", Decimal("0.01"))
    assert due["final payment due"] == ("payment", Decimal("1500.00"))
    recovery = {name: settlement.recovery_due(a) for name, a in vouchers.items()}
    assert recovery["half a cent below, rounded up"] == Decimal("0.00")
    assert recovery["a cent due back"] == Decimal("0.01")
    assert recovery["zero report after an advance"] == Decimal("2500.00")
    assert recovery["cancelled after an advance"] == Decimal("2500.00")
    assert recovery["recovered in full"] == Decimal("0.00")


def test_the_counts_per_call_come_from_one_grouped_query(vouchers):
    calls = {a.call_id for a in vouchers.values()}
    seen: list[str] = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        due = money_due_of(sorted(calls))
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(seen) == 1
    [call_id] = [c for c in calls if c == vouchers["advance due"].call_id]
    assert (due[call_id].advances, due[call_id].final_payments, due[call_id].recoveries) == (
        2, 2, 3)


def test_the_call_dashboard_links_the_payments_and_lists_the_recoveries(client, manager,
                                                                       vouchers):
    call_id = vouchers["advance due"].call_id
    response = client.get(f"/manage/calls/{call_id}/dashboard")
    page = text(response)
    assert "4 payments due (2 advances, 2 final payments)" in page
    assert f'href="/manage/calls/{call_id}/payments"' in response.get_data(as_text=True)
    assert "3 recoveries due" in page
    for name, amount in (("a cent due back", "€0.01"), ("zero report after an advance",
                                                        "€2,500.00"),
                         ("cancelled after an advance", "€2,500.00")):
        a = vouchers[name]
        assert f"{a.reference} {a.organisation.legal_name} {a.state.capitalize()} {amount}" in (
            page), name
        assert f'href="/manage/applications/{a.id}#money-heading"' in response.get_data(
            as_text=True)
    assert vouchers["recovered in full"].reference not in page

    home = text(client.get("/manage/"))
    call = vouchers["advance due"].call
    assert f"{call.code} : 4 payments due (2 advances, 2 final payments) · 3 recoveries due" in (
        home)


def test_a_voucher_in_an_open_batch_is_counted_as_such(client, make, manager):
    call = make.call(HALVES)
    a = make.application("completed", call.voucher_type("travel"), manager=manager,
                         costs="10000")
    batch = PaymentBatch(call_id=call.id, message_id="MSG-9", execution_date=today(),
                         created_by_id=manager.id)
    batch.items.append(BatchItem(application_id=a.id, kind="payment", amount=Decimal("5000"),
                                 iban="NL91ABNA0417164300", account_holder="SME",
                                 remittance=a.reference, pending_application_id=a.id))
    db.session.add(batch)
    db.session.commit()
    page = text(client.get(f"/manage/calls/{call.id}/dashboard"))
    assert ("1 payment due (0 advances, 1 final payment; 1 in a payment batch awaiting "
            "execution)") in page


def test_nothing_due_says_so(client, make, manager):
    call = make.call(HALVES)
    make.application("paid", call.voucher_type("travel"), manager=manager, costs="10000")
    assert "No payment or recovery is due in this call." in text(
        client.get(f"/manage/calls/{call.id}/dashboard"))
    assert "No payment or recovery is due." in text(client.get("/manage/"))


def _queries(client, url: str) -> int:
    seen: list[str] = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(seen)


def test_the_dashboards_cost_the_same_queries_for_few_or_many_vouchers_due(client, make,
                                                                          manager):
    call = advance_call(make)
    for _ in range(2):
        awarded(make, manager, call)
        closed(make, manager, call, advance="2500", costs="0")  # a recovery due
    few = (_queries(client, f"/manage/calls/{call.id}/dashboard"), _queries(client, "/manage/"))
    for _ in range(4):
        awarded(make, manager, call)
        closed(make, manager, call, advance="2500", costs="8000")
    many = (_queries(client, f"/manage/calls/{call.id}/dashboard"), _queries(client, "/manage/"))
    assert few == many


def test_the_recoveries_listed_are_bounded(client, make, manager):
    call = advance_call(make)
    for _ in range(RECOVERIES_LISTED + 2):
        closed(make, manager, call, advance="2500", costs="0")
    page = text(client.get(f"/manage/calls/{call.id}/dashboard"))
    assert f"{RECOVERIES_LISTED + 2} recoveries due" in page
    assert f"(the first {RECOVERIES_LISTED} of {RECOVERIES_LISTED + 2})" in page
