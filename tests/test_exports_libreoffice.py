"""The Summary totals are live formulas: let a real spreadsheet compute them.

openpyxl only stores formula text, so a typo in a range would pass every pure test. Here
LibreOffice opens the workbook headless, recalculates every formula while converting it,
and the values it computed are compared with the sums of the input Decimals.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from exports.budget_workbook import (
    LedgerRow,
    PaymentRow,
    TypeSummary,
    VoucherRow,
    WorkbookMeta,
    build_budget_workbook,
)

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")

# CI sets REQUIRE_LIBREOFFICE=1: there a missing LibreOffice fails instead of skipping.
REQUIRED = os.environ.get("REQUIRE_LIBREOFFICE") == "1"

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(SOFFICE is None and not REQUIRED,
                       reason="LibreOffice (soffice) not installed"),
]

CENT = Decimal("0.01")



def summary(code, label, quota, envelope, rate, received, drafts, awarded, committed,
            paid) -> TypeSummary:
    committed, paid, envelope = Decimal(committed), Decimal(paid), Decimal(envelope)
    return TypeSummary(
        voucher_type=code, label=label, quota=quota, envelope=envelope,
        funding_rate=Decimal(rate), received=received, drafts=drafts, awarded_count=awarded,
        committed=committed, paid=paid, outstanding=committed - paid,
        remaining_envelope=envelope - committed, remaining_quota=quota - awarded,
    )


# Awkward cents on purpose: binary floating point cannot hold most of them exactly.
SUMMARIES = [
    summary("innovation", "=Innovation", 40, "200000.10", "0.75", 101, 20, 31, "135000.33",
            "60000.17"),
    summary("digital", "Digital", 30, "90000.07", "0.70", 70, 10, 20, "61234.56", "0.01"),
    summary("green", "+Green", 20, "50000.03", "0.80", 9, 1, 5, "12000.01", "11999.99"),
    summary("ip", "IP", 10, "10000.00", "0.50", 3, 0, 0, "0.00", "0.00"),
]

VOUCHER = VoucherRow(
    reference="V-1", sme="=SME", registry_number="AT1", country="AT", region="Tyrol",
    voucher_type="innovation", provider=None, title="@title", requested=Decimal("10"),
    awarded=Decimal("9.99"), paid=Decimal("0"), outstanding=Decimal("9.99"),
    award_date=date(2025, 1, 2), state="awarded", report_state=None,
)


def _entries() -> list[LedgerRow]:
    """Entries whose sums per type are the SUMMARIES' committed, paid and awarded."""
    out = []
    for s in SUMMARIES:
        shares = [(s.committed + Decimal("0.07"), Decimal(0), s.awarded_count),
                  (Decimal("-0.07"), s.paid, 0)]
        for n, (committed, paid, quota) in enumerate(shares):
            out.append(LedgerRow(
                booked_on=date(2025, 3, 1), voucher_reference=f"V-{s.voucher_type}-{n}",
                sme="=SME", voucher_type=s.voucher_type, kind="Commitment" if n == 0 else "x",
                committed=committed, paid=paid, quota=quota, reason="", reference="",
                recorded_by=None, recorded_at=datetime(2025, 3, 1, tzinfo=UTC)))
    return out


def _cents(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def test_libreoffice_recalculates_the_summary_totals(tmp_path):
    assert SOFFICE is not None, "LibreOffice (soffice) not installed; REQUIRE_LIBREOFFICE=1"
    source = tmp_path / "book.xlsx"
    build_budget_workbook(
        source,
        meta=WorkbookMeta(
            programme="Alpine Space SME vouchers",
            funder="Managing Authority",
            call="Call 1",
            generated_at=datetime(2025, 6, 1, 12, 0, tzinfo=UTC),
            generated_by="test",
        ),
        summaries=SUMMARIES,
        vouchers=iter([VOUCHER]),
        applications=iter([]),
        payments=[PaymentRow(
            paid_on=date(2025, 2, 3), voucher_reference="V-1", sme="=SME",
            amount=Decimal("9.99"), payment_reference="P-1", invoice_number=None,
            invoice_date=None, description="x",
        )],
        de_minimis=iter([]),
        ledger=iter(_entries()),
    )
    out = tmp_path / "out"
    # A private profile per run: parallel runs sharing the default one block each other.
    profile = (tmp_path / "profile").as_uri()
    result = subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    converted = out / "book.xlsx"
    assert result.returncode == 0 and converted.exists(), result.stdout + result.stderr

    ws = load_workbook(converted, data_only=True)["Summary"]
    total_row = len(SUMMARIES) + 2
    assert ws[f"A{total_row}"].value == "Total"
    computed = {ws.cell(1, col).value: ws.cell(total_row, col).value for col in range(2, 11)}
    # openpyxl stores no cached results, so a value here was computed by LibreOffice.
    assert None not in computed.values(), computed

    assert computed["Quota"] == sum(s.quota for s in SUMMARIES)
    assert computed["Applications received"] == sum(s.received for s in SUMMARIES)
    assert computed["Drafts (not received)"] == sum(s.drafts for s in SUMMARIES)
    assert computed["Awarded"] == sum(s.awarded_count for s in SUMMARIES)
    assert computed["Remaining quota"] == sum(s.remaining_quota for s in SUMMARIES)
    assert _cents(computed["Committed"]) == sum(s.committed for s in SUMMARIES)
    assert _cents(computed["Paid"]) == sum(s.paid for s in SUMMARIES)
    assert _cents(computed["Outstanding"]) == sum(s.outstanding for s in SUMMARIES)
    assert _cents(computed["Remaining envelope"]) == sum(s.remaining_envelope for s in SUMMARIES)

    # The escaped text came through LibreOffice as text, not as formulas it evaluated.
    assert ws["A2"].value == "=Innovation"
    assert ws["A4"].value == "+Green"
    vouchers = load_workbook(converted)["Vouchers"]
    assert (vouchers["B2"].value, vouchers["B2"].data_type) == ("=SME", "s")
    assert vouchers["H2"].value == "@title"

    # The Vouchers sheet's committed (awarded - released) and its totals.
    computed = load_workbook(converted, data_only=True)
    sheet = computed["Vouchers"]
    assert _cents(sheet["L2"].value) == VOUCHER.awarded - VOUCHER.released
    assert sheet["A3"].value == "Total" and _cents(sheet["L3"].value) == Decimal("9.99")

    # The Ledger sheet's sums per type equal the Summary's figures, labels such as
    # "=Innovation" and "+Green" included (compared as text, not read as criteria).
    ledger = computed["Ledger"]
    n = len(_entries())
    by_type = {r[0]: r for r in ledger.iter_rows(min_row=n + 5, values_only=True)}
    for s in SUMMARIES:
        row = by_type[s.label]
        assert (_cents(row[5]), _cents(row[6]), row[7]) == (s.committed, s.paid,
                                                             s.awarded_count), s.label
        assert (_cents(row[8]), _cents(row[9]), row[10]) == (s.committed, s.paid,
                                                              s.awarded_count), s.label
        assert row[11] == "Yes", s.label
    total = [c.value for c in ledger[n + 2]]
    assert total[0] == "Total"
    assert _cents(total[5]) == sum(s.committed for s in SUMMARIES)
