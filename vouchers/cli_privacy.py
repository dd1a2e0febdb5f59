"""`flask --app vouchers purge-expired [--dry-run]`: anonymise the companies past their
retention date, disable accounts unused for ACCOUNT_DISABLE_AFTER_DAYS and anonymise
those unused for ACCOUNT_ANONYMISE_AFTER_DAYS (services/purge.py; the dates are
services/retention.py's). It prints and logs one line per company and account, commits
once, and deletes the erased files after the commit. Safe from cron, say once a night:

    30 2 * * *  cd /srv/vouchers && .venv/bin/flask --app vouchers purge-expired
"""

from __future__ import annotations

import click

from .extensions import db


@click.command("purge-expired")
@click.option("--dry-run", is_flag=True, help="Only list what is due; change nothing.")
def purge_expired_command(dry_run: bool):
    """Anonymise what is past its retention date, and disable or erase unused accounts."""
    from .services.errors import DomainError
    from .services.purge import purge_expired

    try:
        report = purge_expired(dry_run=dry_run)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    for line in report.lines():
        click.echo(("Would do: " if dry_run else "") + line)
