"""The Vouchers sheet: one row per live voucher."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from openpyxl import Workbook

from ..rows import VoucherRow
from .common import AMOUNT, DATE, Column, Progress, Sheet

TITLE = "Vouchers"

COLUMNS = (
    Column("Reference", 16),
    Column("SME", 32),
    Column("VAT/registry no.", 18),
    Column("Country", 8),
    Column("Region", 20),
    Column("Voucher type", 22),
    Column("Provider", 28),
    Column("Title", 40),
    Column("Requested", 15, AMOUNT),
    Column("Awarded", 15, AMOUNT),
    Column("Paid", 15, AMOUNT),
    Column("Outstanding", 15, AMOUNT),
    Column("Award date", 12, DATE),
    Column("State", 14),
    Column("Final report", 14),
)


def write_vouchers(
    wb: Workbook,
    vouchers: Iterable[VoucherRow],
    *,
    labels: Mapping[str, str],
    progress: Progress,
    amount_fmt: str,
) -> None:
    sheet = Sheet(wb, TITLE, COLUMNS, progress, amount_fmt)
    sheet.write_header()
    write = sheet.write
    for v in vouchers:
        write((
            v.reference, v.sme, v.registry_number, v.country, v.region,
            labels.get(v.voucher_type, v.voucher_type), v.provider, v.title, v.requested,
            v.awarded, v.paid, v.outstanding, v.award_date, v.state, v.report_state,
        ))
    sheet.finish_with_filter()
