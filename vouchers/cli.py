"""Command-line entry points: `flask --app vouchers <command>`."""

import os
import sys
import tempfile
from contextlib import suppress
from pathlib import Path

import click
from flask import Flask

from workflows.lifecycle import ROLES, mermaid

from . import voucher_types
from .extensions import db


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_command)
    app.cli.add_command(lifecycle_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(export_budget_command)


@click.command("demo")
def demo_command():
    """Load the demo programme (does nothing if a programme exists)."""
    from .demo import DEMO_PASSWORDS, load_demo

    summary = load_demo()
    db.session.commit()
    if not summary.created:
        click.echo("A programme already exists; demo not loaded.")
        return
    click.echo(f"Demo programme loaded with {summary.applications} applications.")
    click.echo("Demo logins (e-mail / password):")
    click.echo(f"  manager@demo.example / {DEMO_PASSWORDS['manager']}")
    click.echo(f"  evaluator1@demo.example .. evaluator6 / {DEMO_PASSWORDS['evaluator']}")
    click.echo(f"  applicant1@demo.example .. applicant40 / {DEMO_PASSWORDS['applicant']}")


@click.command("lifecycle")
def lifecycle_command():
    """Print the application lifecycle as a Mermaid state diagram."""
    click.echo(mermaid(), nl=False)


@click.command("create-user")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.password_option()
def create_user_command(role, email, name, password):
    """Create an evaluator, manager or applicant account."""
    from .services.accounts import create_user
    from .services.errors import DomainError

    try:
        user = create_user(email=email, name=name, role=role, password=password)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}.")


def _on_terminal() -> bool:
    return sys.stdout.isatty()


@click.command("export-budget")
@click.option("--call", "call_id", type=int, required=True, help="The call's id.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The .xlsx file to write (replaced if it exists).")
@click.option("--type", "types", type=click.Choice(voucher_types.CODES), multiple=True,
              help="Only this voucher type; repeat for several. Default: every type.")
@click.option("--from", "awarded_from", type=click.DateTime(["%Y-%m-%d"]),
              help="Only vouchers awarded on or after this date (YYYY-MM-DD).")
@click.option("--to", "awarded_to", type=click.DateTime(["%Y-%m-%d"]),
              help="Only vouchers awarded on or before this date (YYYY-MM-DD).")
def export_budget_command(call_id, output, types, awarded_from, awarded_to):
    """Write the funder's budget workbook of a call to an xlsx file."""
    from .models import Call
    from .services.errors import DomainError
    from .services.workbook import COMMAND_LINE, WorkbookFilters, budget_export

    call = db.session.get(Call, call_id)
    if call is None:
        raise click.ClickException(f"There is no call with id {call_id}.")
    filters = WorkbookFilters(
        voucher_types=tuple(dict.fromkeys(types)),
        awarded_from=awarded_from.date() if awarded_from else None,
        awarded_to=awarded_to.date() if awarded_to else None,
    )
    # Written next to the target and renamed at the end, so a failed export never leaves
    # a truncated workbook where the previous one was. mkstemp makes the file readable by
    # its owner only, which suits a workbook of names and amounts.
    try:
        fd, part = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".part")
    except OSError as exc:
        raise click.ClickException(f"Cannot write {output}: {exc.strerror}.") from exc
    written = False
    try:
        with os.fdopen(fd, "wb") as fh, budget_export(call, filters) as export:
            if _on_terminal():
                with click.progressbar(length=export.row_count(),
                                       label=f"Writing {output.name}") as bar:
                    rows = export.write(fh, generated_by=COMMAND_LINE,
                                        progress=lambda done: bar.update(done - bar.pos))
            else:
                rows = export.write(fh, generated_by=COMMAND_LINE)
        os.replace(part, output)
        written = True
    except DomainError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"Cannot write {output}: {exc.strerror or exc}.") from exc
    finally:
        if not written:
            with suppress(FileNotFoundError):
                os.unlink(part)
    click.echo(f"{rows} rows written to {output}.")
