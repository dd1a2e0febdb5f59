"""`flask --app vouchers ledger --call ID`: the ledger's totals next to the counters.

The counters on a call's voucher types (committed, paid, awarded count) and on each
voucher (released, paid) are what the award check, the dashboard and the workbook read;
services/ledger.py keeps them equal to the sums of the ledger's entries. This command
prints both side by side per voucher type and exits with status 1, naming each
difference, when they disagree: a check an operator or a scheduled job can run after a
migration, a restore or a manual correction in the database.
"""

from __future__ import annotations

import click

from .extensions import db

HEADINGS = ("Voucher type", "Committed", "(counter)", "Paid", "(counter)", "Awarded",
            "(counter)", "")
WIDTHS = (24, 14, 14, 14, 14, 9, 10, 9)


def _line(cells) -> str:
    first, *rest = (str(c) for c in cells)
    return (first.ljust(WIDTHS[0])
            + "".join(c.rjust(w) for c, w in zip(rest, WIDTHS[1:], strict=True))).rstrip()


def _amount(value) -> str:
    return f"{value:,.2f}"


@click.command("ledger")
@click.option("--call", "call_id", type=int, required=True, help="The call's id.")
def ledger_command(call_id: int):
    """Print the ledger totals per voucher type and check them against the counters."""
    from .models import Call
    from .models.base import MAX_ID
    from .money import ZERO
    from .services import ledger

    call = db.session.get(Call, call_id) if 0 < call_id <= MAX_ID else None
    if call is None:
        raise click.ClickException(f"There is no call with id {call_id}.")
    types = ledger.totals(call.id)
    click.echo(f"Ledger of {call.code} – {call.title} ({call.programme.currency}): the "
               "ledger's sums, each next to its counter.")
    click.echo(_line(HEADINGS))
    for t in types:
        click.echo(_line((
            t.cvt.label, _amount(t.committed), _amount(t.cvt.committed), _amount(t.paid),
            _amount(t.cvt.paid), t.quota_used, t.cvt.awarded_count,
            "ok" if t.matches else "DIFFERS")))
    click.echo(_line((
        "Total", _amount(sum((t.committed for t in types), ZERO)),
        _amount(sum((t.cvt.committed for t in types), ZERO)),
        _amount(sum((t.paid for t in types), ZERO)),
        _amount(sum((t.cvt.paid for t in types), ZERO)),
        sum(t.quota_used for t in types), sum(t.cvt.awarded_count for t in types), "")))

    differences = [d for t in types for d in t.differences()]
    differences += ledger.voucher_differences(call.id)
    if differences:
        for difference in differences:
            click.echo(f"Difference: {difference}")
        raise click.ClickException(
            f"The counters of {call.code} differ from the ledger "
            f"({len(differences)} difference{'s' if len(differences) != 1 else ''}).")
    click.echo(f"The counters of {call.code} agree with the ledger.")
