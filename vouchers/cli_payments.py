"""`flask --app vouchers sepa-export --call ID --output FILE.xml`: the payments due of a call
as a SEPA credit-transfer file (pain.001), prepared as a batch like the Payments page does.

Every payment due that has bank details goes into the batch. The batch is committed before
the file is written: a file must never exist for a batch that does not (running the
command again would then put the same vouchers in a second file, and the bank could pay
both). The file is written next to its target and renamed at the end, so a failed write
leaves no half file, and the batch's file can always be downloaded again from its page.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import suppress
from datetime import datetime
from pathlib import Path

import click
from flask import current_app, url_for
from sqlalchemy import select

from . import policy
from .extensions import db
from .money import format_eur


def _manager(email: str | None):
    from .models import User
    from .services import accounts

    if email:
        user = accounts.find_by_email(email)
        if user is None or not policy.can_manage_payments(user):
            raise click.ClickException(f"{email} is not an enabled manager account.")
        return user
    # The first manager account still enabled, as the one the batch is recorded under.
    user = db.session.scalar(select(User).where(User.role == "manager", User.enabled)
                             .order_by(User.id).limit(1))
    if user is None:
        raise click.ClickException("There is no enabled manager account to prepare the batch "
                                   "under: create one with `flask --app vouchers create-user "
                                   "--role manager`.")
    return user


def _write(output: Path, xml: bytes) -> None:
    try:
        fd, part = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".part")
    except OSError as exc:
        raise click.ClickException(f"Cannot write {output}: {exc.strerror}.") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(xml)
        os.replace(part, output)
    except OSError as exc:
        with suppress(FileNotFoundError):
            os.unlink(part)
        raise click.ClickException(f"Cannot write {output}: {exc.strerror or exc}.") from exc


def _batch_path(batch_id: int) -> str:
    with current_app.test_request_context():
        return url_for("manager.payment_batch", batch_id=batch_id)


@click.command("sepa-export")
@click.option("--call", "call_id", type=int, required=True, help="The call's id.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The .xml file to write (replaced if it exists).")
@click.option("--as", "as_email", metavar="EMAIL",
              help="The manager account the batch is prepared under (default: the first "
                   "enabled manager).")
@click.option("--execution-date", type=click.DateTime(["%Y-%m-%d"]),
              help="The day the bank should pay (YYYY-MM-DD; default: today).")
def sepa_export_command(call_id: int, output: Path, as_email: str | None,
                        execution_date: datetime | None):
    """Write the payments due of a call as a SEPA credit-transfer file (pain.001)."""
    from .clock import today
    from .models import Call
    from .models.base import MAX_ID
    from .services import batch_files, payment_batches
    from .services.errors import DomainError

    call = db.session.get(Call, call_id) if 0 < call_id <= MAX_ID else None
    if call is None:
        raise click.ClickException(f"There is no call with id {call_id}.")
    manager = _manager(as_email)
    dues = payment_batches.due_payments(call)
    ready = [d for d in dues if d.selectable]
    for due in dues:
        if not due.selectable:
            click.echo(f"Left out {due.application.reference}: {due.problem}", err=True)
    if not ready:
        raise click.ClickException(f"No payment of call {call.code} is due with bank details "
                                   "to pay it to; no file was written.")
    try:
        batch = payment_batches.prepare_batch(
            call, manager, [d.application.id for d in ready],
            execution_date.date() if execution_date else today())
        xml = batch_files.sepa_xml(batch)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    try:
        _write(output, xml)
    except click.ClickException as exc:
        raise click.ClickException(
            f"{exc.message} Batch {batch.id} was prepared; download its file from "
            f"{_batch_path(batch.id)}, or cancel it there.") from exc
    summary = payment_batches.summary_of(batch)
    click.echo(f"Batch {batch.id} ({batch.message_id}) written to {output}: {summary.count} "
               f"transfers, control sum {format_eur(summary.total)}, to be executed on "
               f"{batch.execution_date:%d %b %Y}.")
    click.echo("Nothing is recorded as paid yet. Once the bank has executed the file, mark the "
               f"batch executed with the bank's reference on the web: {_batch_path(batch.id)}")
