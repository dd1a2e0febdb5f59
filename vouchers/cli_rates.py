"""`flask --app vouchers import-rates FILE --year 2026 --month 3`: a month's InforEuro rates.

Reads the JSON file the Commission publishes each month (services/rate_import.py checks
every row before writing any), commits once and prints what it did ("2026-03: 7 added,
0 changed, 0 unchanged"). Running it again with the same file changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import click

from .extensions import db


@click.command("import-rates")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--year", required=True, type=int, help="The rates' year (2026).")
@click.option("--month", required=True, type=int, help="The rates' month (1-12).")
def import_rates_command(file: Path, year: int, month: int):
    """Import a month's InforEuro rates from the Commission's JSON file."""
    from .services import rate_import
    from .services.errors import DomainError

    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise click.ClickException(f"No file {file}.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"Cannot read {file}: {exc}.") from exc
    try:
        rates = rate_import.read_file(text)
        result = rate_import.import_rates(rates, year, month)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(result.summary)
