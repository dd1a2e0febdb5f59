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

# Awkward cents on purpose: binary floating point cannot hold most of them exactly.
SUMMARIES = [
    TypeSummary(
        "innovation", "=Innovation", 40, Decimal("200000.10"), Decimal("0.75"),
        121, 101, 31, Decimal("135000.33"), Decimal("60000.17"),
    ),
    TypeSummary(
        "digital", "Digital", 30, Decimal("90000.07"), Decimal("0.70"),
        80, 70, 20, Decimal("61234.56"), Decimal("0.01"),
    ),
    TypeSummary(
        "green", "+Green", 20, Decimal("50000.03"), Decimal("0.80"),
        10, 9, 5, Decimal("12000.01"), Decimal("11999.99"),
    ),
    TypeSummary(
        "ip", "IP", 10, Decimal("10000.00"), Decimal("0.50"),
        3, 3, 0, Decimal("0.00"), Decimal("0.00"),
    ),
]  # fmt: skip

VOUCHER = VoucherRow(
    "V-1", "=SME", "AT1", "AT", "Tyrol", "innovation", None, "@title",
    Decimal("10"), Decimal("9.99"), Decimal("0"), date(2025, 1, 2), "awarded", None,
)  # fmt: skip


def _cents(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def test_libreoffice_recalculates_the_summary_totals(tmp_path):
    assert SOFFICE is not None, "LibreOffice (soffice) not installed; REQUIRE_LIBREOFFICE=1"
    source = tmp_path / "book.xlsx"
    build_budget_workbook(
        source,
        WorkbookMeta(
            programme="Alpine Space SME vouchers",
            funder="Managing Authority",
            call="Call 1",
            generated_at=datetime(2025, 6, 1, 12, 0, tzinfo=UTC),
            generated_by="test",
        ),
        SUMMARIES,
        iter([VOUCHER]),
        iter([]),
        [PaymentRow(date(2025, 2, 3), "V-1", "=SME", Decimal("9.99"), "P-1", None, None, "x")],
        iter([]),
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
    assert computed["Applications received"] == sum(s.applications for s in SUMMARIES)
    assert computed["Submitted"] == sum(s.submitted for s in SUMMARIES)
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
