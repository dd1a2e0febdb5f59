"""`flask --app vouchers ledger --call ID`: the ledger's totals per type next to the
counters, exit 0 when they agree, 1 naming each difference when they do not."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.test_workbook_ledger import money_scenario
from vouchers.extensions import db
from vouchers.services import ledger


def run(runner, call_id) -> object:
    return runner.invoke(args=["ledger", "--call", str(call_id)])


def test_prints_the_totals_per_type_and_exits_0_when_they_agree(runner, make):
    books = money_scenario(make)
    call = books.call
    result = run(runner, call.id)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"Ledger of {call.code} – {call.title} (EUR)")
    assert lines[1].split() == ["Voucher", "type", "Committed", "(counter)", "Paid",
                                "(counter)", "Awarded", "(counter)"]
    rows = {line[:24].strip(): line[24:].split() for line in lines[2:-1]}
    assert list(rows) == [t.label for t in call.voucher_types] + ["Total"]
    for t in ledger.totals(call.id):
        committed, paid = f"{t.cvt.committed:,.2f}", f"{t.cvt.paid:,.2f}"
        count = str(t.cvt.awarded_count)
        assert rows[t.cvt.label] == [committed, committed, paid, paid, count, count, "ok"]
    # Travel: 2,890.40 kept by the closed voucher and 3,000.00 paid again after the
    # reversal; market validation: 20,000 awarded, 7,500 kept, the cancelled 5,000.
    assert rows["Travel"][:2] == ["5,890.40", "5,890.40"]
    assert rows["Market validation"][:4] == ["32,500.00", "32,500.00", "22,500.00",
                                             "22,500.00"]
    assert rows["Total"] == ["38,390.40", "38,390.40", "28,390.40", "28,390.40", "4", "4"]
    assert lines[-1] == f"The counters of {call.code} agree with the ledger."


def test_a_counter_that_drifted_from_the_ledger_exits_non_zero_naming_it(runner, make):
    books = money_scenario(make)
    call = books.call
    cvt = call.voucher_type("travel")
    # What a manual correction in the database, or a write past the ledger, would leave.
    db.session.execute(text("UPDATE call_voucher_types SET paid = paid - :cents WHERE id = :id"),
                       {"cents": 1 if db.engine.dialect.name == "sqlite" else 0.01,
                        "id": cvt.id})
    db.session.commit()

    result = run(runner, call.id)
    assert result.exit_code == 1
    assert ("Difference: " f"{call.code} Travel: paid is 5890.39 on the counter but 5890.40 "
            "in the ledger") in result.output
    travel = next(line for line in result.output.splitlines() if line.startswith("Travel"))
    assert travel.endswith("DIFFERS")
    assert f"Error: The counters of {call.code} differ from the ledger (1 difference)." in (
        result.output)
    assert "Traceback" not in result.output


def test_a_voucher_counter_that_drifted_is_named(runner, make):
    books = money_scenario(make)
    voucher = books.vouchers["advance"]
    db.session.execute(text("UPDATE applications SET paid_amount = 0 WHERE id = :id"),
                       {"id": voucher.id})
    db.session.commit()
    result = run(runner, books.call.id)
    assert result.exit_code == 1
    assert (f"Difference: {voucher.reference}: holds 20000.00 and paid 0.00, but the ledger "
            "says 20000.00 and 10000.00") in result.output
    assert "(1 difference)" in result.output


def test_an_empty_call_agrees(runner, make):
    call = make.call()
    result = run(runner, call.id)
    assert result.exit_code == 0, result.output
    assert "Total" in result.output and "0.00" in result.output


@pytest.mark.parametrize("call_id", ["999999", "0", "-3", str(2**40)])
def test_an_unknown_call_is_a_sentence(runner, make, call_id):
    make.call()
    result = runner.invoke(args=["ledger", "--call", call_id])
    assert result.exit_code != 0
    assert f"There is no call with id {int(call_id)}." in result.output
    assert "Traceback" not in result.output


def test_the_call_is_required(runner, app):
    result = runner.invoke(args=["ledger"])
    assert result.exit_code == 2
    assert "Missing option '--call'" in result.output
