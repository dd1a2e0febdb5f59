"""`flask --app vouchers send-mail`: deliver the outbox (services/mail_sender.py).

Once, it sends what is due and prints one line ("sent 3, retrying 1, failed 0"). With
``--loop`` it keeps going, a round every ``--interval`` seconds, printing a line for each
round that did something; SIGTERM or Ctrl-C stops it after the round under way, so a
message is never left half recorded (a second signal stops it at once). Run it next to the
web server (``make run`` does) or as its own service in production (README, "Mail").
"""

from __future__ import annotations

import signal
import threading

import click
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db


def _round(limit: int):
    from .services.mail_sender import deliver_due

    return deliver_due(limit=limit)


@click.command("send-mail")
@click.option("--loop", is_flag=True, help="Keep sending until stopped (SIGTERM, Ctrl-C).")
@click.option("--interval", type=click.FloatRange(min=0.05), default=5.0, show_default=True,
              help="Seconds between two rounds with --loop.")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True,
              help="At most this many messages a round.")
def send_mail_command(loop: bool, interval: float, limit: int):
    """Send the e-mail that is due; with --loop, keep going."""
    if not loop:
        click.echo(str(_round(limit)))
        return
    stop = threading.Event()

    def _stop(signum, _frame):
        if stop.is_set():
            raise SystemExit(128 + signum)
        stop.set()

    # A shell starts a background job ("make run" starts the sender with "&") with SIGINT
    # ignored, so that Ctrl-C reaches only the job in the foreground: that is kept, and
    # the shell stops the sender with SIGTERM.
    signals = [signal.SIGTERM]
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signals.append(signal.SIGINT)
    previous = {s: signal.signal(s, _stop) for s in signals}
    click.echo(f"Sending mail every {interval:g} s; stop with Ctrl-C or SIGTERM.")
    try:
        while not stop.is_set():
            try:
                result = _round(limit)
            except SQLAlchemyError as exc:  # the database restarting: try the next round
                db.session.rollback()
                click.echo(f"database unavailable, trying again: {exc.__class__.__name__}",
                           err=True)
            else:
                if result.total:
                    click.echo(str(result))
                if result.total >= limit:
                    continue  # more may be due: no pause
            finally:
                db.session.remove()
            stop.wait(interval)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    click.echo("Stopped.")
