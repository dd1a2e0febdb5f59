"""The Follow-up sheet: the follow-up surveys' answers per voucher type and round.

One row per voucher type and follow-up (months after the voucher's last payment), as the
call's dashboard shows them (the caller hands over the rows of services/surveys.roll_up).
An empty cell: the question is not asked of that voucher type. Under the rows, one total
per round, as live SUMIF formulas over the rows of that round: the answers are
cumulative (jobs created since the payment), so the rounds are never added together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from .sheets.common import AMOUNT, INT, Column, Progress, Sheet

TITLE = "Follow-up"

COLUMNS = (
    Column("Voucher type", 28),
    Column("Months after payment", 12, INT),
    Column("Surveys sent", 10, INT),
    Column("Answered", 10, INT),
    Column("Jobs created", 10, INT),
    Column("Turnover change", 18, AMOUNT),
    Column("Follow-on investment", 18, AMOUNT),
    Column("New markets entered", 12, INT),
    Column("Certifications", 12, INT),
)
MONTHS_COLUMN = 2
# Columns C..I add up within a round.
SUM_COLUMNS = range(3, len(COLUMNS) + 1)
# A round's totals row, in the reader's language like the headings (one month, or more).
ROUND_LABELS = ("All types, 1 month", "All types, %(months)s months")


@dataclass(frozen=True, kw_only=True)
class FollowUpRow:
    """One voucher type's surveys of one round; None: a question the type is not asked."""

    label: str
    months: int
    sent: int
    answered: int
    jobs_created: int | None
    turnover_change: Decimal | None
    follow_on_investment: Decimal | None
    market_entries: int | None
    certifications: int | None


def write_follow_up(wb: Workbook, rows: Iterable[FollowUpRow], *, progress: Progress,
                    amount_fmt: str, headings: Mapping[str, str] | None = None) -> None:
    sheet = Sheet(wb, TITLE, COLUMNS, progress, amount_fmt, headings=headings)
    sheet.write_header()
    rounds: list[int] = []
    for r in rows:
        sheet.write((r.label, r.months, r.sent, r.answered, r.jobs_created, r.turnover_change,
                     r.follow_on_investment, r.market_entries, r.certifications))
        if r.months not in rounds:
            rounds.append(r.months)
    sheet.finish_with_filter()
    first, last = 2, sheet.row_count
    months_range = _absolute(MONTHS_COLUMN, first, last)
    for months in sorted(rounds):
        row_number = sheet.row_count + 1
        total: list[Any] = [sheet.bold_text(_round_label(sheet, months)),
                            sheet.formula_cell(months, INT)]
        for idx in SUM_COLUMNS:
            letter = get_column_letter(idx)
            # SUMIF over the rounds' column: a live total, which a funder who corrects a
            # figure above sees follow. Empty cells (not asked) add nothing.
            total.append(sheet.formula_cell(
                f"=SUMIF({months_range},B{row_number},{letter}${first}:{letter}${last})",
                COLUMNS[idx - 1].kind))
        sheet.append_row(total)


def _round_label(sheet: Sheet, months: int) -> str:
    """"All types, 6 months": a round's totals row."""
    one, many = ROUND_LABELS
    return sheet.heading(one) if months == 1 else sheet.heading(many) % {"months": months}


def _absolute(column: int, first: int, last: int) -> str:
    letter = get_column_letter(column)
    return f"${letter}${first}:${letter}${last}"
