"""`flask --app vouchers sepa-export --call ID --output FILE.xml` (issue 9: being built)."""

import click


@click.command("sepa-export")
@click.option("--call", "call_id", type=int, required=True)
@click.option("--output", type=click.Path(dir_okay=False), required=True)
def sepa_export_command(call_id: int, output: str):
    """Write the payments due of a call as a SEPA credit-transfer file (pain.001)."""
    raise click.ClickException("not built yet")
