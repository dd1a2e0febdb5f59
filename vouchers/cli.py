"""Command-line entry points: `flask --app vouchers <command>`."""

import os
import sys
import tempfile
from contextlib import suppress
from pathlib import Path

import click
from flask import Flask

from workflows.lifecycle import ROLES, mermaid

from . import (
    cli_jobs,
    cli_ledger,
    cli_mail,
    cli_payments,
    cli_privacy,
    cli_rates,
    cli_reminders,
    policy,
    voucher_types,
)
from .extensions import db


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_command)
    app.cli.add_command(lifecycle_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(export_budget_command)
    app.cli.add_command(ranking_command)
    app.cli.add_command(funding_line_command)
    app.cli.add_command(cli_ledger.ledger_command)
    app.cli.add_command(cli_payments.sepa_export_command)
    app.cli.add_command(cli_mail.send_mail_command)
    app.cli.add_command(cli_reminders.send_reminders_command)
    app.cli.add_command(cli_rates.import_rates_command)
    app.cli.add_command(cli_jobs.worker_command)
    app.cli.add_command(cli_jobs.jobs_expire_command)
    app.cli.add_command(cli_privacy.purge_expired_command)


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
    click.echo(f"  manager@demo.example / {DEMO_PASSWORDS['manager']}  (the lead partner)")
    click.echo("  a manager per partner, such as manager.gm@demo.example (GBP) and "
               f"manager.biopeople@demo.example (DKK): see the README / "
               f"{DEMO_PASSWORDS['manager']}")
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


# --- the ranking and the funding line -----------------------------------------------------


def _call_type(call_id: int, voucher_type: str):
    from .services.ranking import call_voucher_type

    cvt = call_voucher_type(call_id, voucher_type)
    if cvt is not None:
        return cvt
    from .models import Call
    from .models.base import MAX_ID

    call = db.session.get(Call, call_id) if 0 < call_id <= MAX_ID else None
    if call is None:
        raise click.ClickException(f"There is no call with id {call_id}.")
    offered = ", ".join(t.voucher_type for t in call.voucher_types) or "none"
    raise click.ClickException(f"Call {call.code} offers no {voucher_type} vouchers "
                               f"(it offers: {offered}).")


def _print_proposal(proposal) -> None:
    from .money import format_eur
    from .services.ranking import TIE_BREAK

    cvt = proposal.cvt
    click.echo(f"Ranking of {cvt.label.lower()} · {cvt.call.code} · {cvt.call.title}")
    click.echo(f"Envelope {format_eur(cvt.envelope)}: {format_eur(cvt.committed)} committed, "
               f"{format_eur(proposal.envelope_left)} left · quota {cvt.quota}: "
               f"{cvt.awarded_count} awarded, {proposal.quota_left} left")
    click.echo(f"Ties: {TIE_BREAK}.")
    if not proposal.lines:
        click.echo("No application of this type is ready to rank yet.")
        return
    click.echo(f"{'Rank':>4}  {'Reference':<18} {'Company':<28} {'Score':>6}  "
               f"{'Proposed':<22} {'Amount':>13}  Why")
    for line in proposal.lines:
        score = line.entry.score
        shown = "—" if score is None else f"{score}{'*' if line.entry.consensus else ''}"
        amount = format_eur(line.amount) if line.action == "award" else "—"
        company = line.application.organisation.legal_name[:28]
        click.echo(f"{line.rank:>4}  {line.application.reference:<18} {company:<28} "
                   f"{shown:>6}  {line.label:<22} {amount:>13}  {line.reason}")
    click.echo("(* consensus score)")
    click.echo(f"Proposed: {len(proposal.awards)} awards for "
               f"{format_eur(proposal.awarded_total)} of {format_eur(proposal.envelope_left)} "
               f"left, {len(proposal.awards)} of {proposal.quota_left} vouchers left; "
               f"{len(proposal.waitlisted)} waitlisted, {len(proposal.rejected)} to reject, "
               f"{len(proposal.undecided)} left to decide.")


def _how_to_apply(cvt) -> None:
    click.echo("Nothing was committed. To apply this funding line:")
    click.echo(f"  flask --app vouchers funding-line --call {cvt.call_id} --type "
               f"{cvt.voucher_type} --confirm --manager EMAIL")


_CALL = click.option("--call", "call_id", type=int, required=True, help="The call's id.")
_TYPE = click.option("--type", "voucher_type", type=click.Choice(voucher_types.CODES),
                     required=True, help="The voucher type.")


@click.command("ranking")
@_CALL
@_TYPE
def ranking_command(call_id, voucher_type):
    """Print a call type's ranked list with the proposed funding line (commits nothing)."""
    from .services import funding_line

    cvt = _call_type(call_id, voucher_type)
    _print_proposal(funding_line.propose(cvt))
    _how_to_apply(cvt)


@click.command("funding-line")
@_CALL
@_TYPE
@click.option("--confirm", is_flag=True, help="Apply the proposed funding line.")
@click.option("--manager", "manager_email",
              help="The e-mail of the manager account deciding (needed with --confirm).")
def funding_line_command(call_id, voucher_type, confirm, manager_email):
    """Print the proposed funding line of a call type; with --confirm, apply it whole."""
    from .services import accounts, funding_line
    from .services.errors import DomainError

    cvt = _call_type(call_id, voucher_type)
    manager = None
    if confirm:
        if not manager_email:
            raise click.UsageError("--confirm needs --manager EMAIL: the manager account the "
                                   "decisions are recorded under.")
        manager = accounts.find_by_email(manager_email)
        if manager is None or not policy.can_manage(manager):
            raise click.ClickException(f"{manager_email} is not an enabled manager account.")
    proposal = funding_line.propose(cvt)
    _print_proposal(proposal)
    if manager is None:
        _how_to_apply(cvt)
        return
    if not proposal.to_apply:
        click.echo("The proposal changes nothing; nothing to apply.")
        return
    try:
        done = funding_line.confirm(cvt, manager, proposal.fingerprint, basis=proposal.basis)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    from .money import format_eur

    click.echo(f"Applied: {len(done.awards)} awarded ({format_eur(done.awarded_total)}), "
               f"{len([w for w in done.waitlisted if w.applies])} waitlisted, "
               f"{len(done.rejected)} rejected.")
