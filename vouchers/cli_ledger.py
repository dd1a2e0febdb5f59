"""`flask --app vouchers ledger --call ID` (issue 9: being built)."""

import click


@click.command("ledger")
@click.option("--call", "call_id", type=int, required=True)
def ledger_command(call_id: int):
    """Print the ledger totals per voucher type and check them against the counters."""
    raise click.ClickException("not built yet")
