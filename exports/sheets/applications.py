"""The Applications sheet: every application of the call, drafts and cancelled included."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from openpyxl import Workbook

from ..rows import ApplicationRow
from .common import DATETIME, INT, SCORE, Column, Progress, Sheet

TITLE = "Applications"

COLUMNS = (
    Column("Reference", 16),
    Column("SME", 32),
    Column("Country", 8),
    Column("Voucher type", 22),
    Column("Title", 40),
    Column("State", 14),
    Column("Submitted at (UTC)", 17, DATETIME),
    Column("Weighted score", 10, SCORE),
    Column("Reviews", 9, INT),
    Column("Decision", 14),
)


def write_applications(
    wb: Workbook,
    applications: Iterable[ApplicationRow],
    *,
    labels: Mapping[str, str],
    progress: Progress,
    amount_fmt: str,
    headings: Mapping[str, str] | None = None,
) -> None:
    sheet = Sheet(wb, TITLE, COLUMNS, progress, amount_fmt, headings=headings)
    sheet.write_header()
    write = sheet.write
    for a in applications:
        write((
            a.reference, a.sme, a.country, labels.get(a.voucher_type, a.voucher_type),
            a.title, a.state, a.submitted_at, a.weighted_score, a.review_count, a.decision,
        ))
    sheet.finish_with_filter()
