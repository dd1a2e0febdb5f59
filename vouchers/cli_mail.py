"""`flask --app vouchers send-mail`: deliver the outbox (services/mail_sender.py).

Once, it sends what is due and prints one line ("sent 3, retrying 1, failed 0"). With
``--loop`` it keeps going, a round every ``--interval`` seconds, printing a line for each
round that did something; SIGTERM or Ctrl-C stops it after the round under way, so a
message is never left half recorded (a second signal stops it at once). Run it next to the
web server (``make run`` does) or as its own service in production (README, "Mail").

It says at start, on stderr, when mail goes into files rather than out; and it refuses to
start (exit code 2) with settings that would lose mail or send dead links: SMTP while
BASE_URL is the development default and not set explicitly, SMTP without MAIL_SERVER, or
an unknown MAIL_BACKEND.
"""

from __future__ import annotations

import signal
import threading

import click
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from .config import DEFAULT_BASE_URL
from .extensions import db


def _round(limit: int):
    from .services.mail_sender import deliver_due

    return deliver_due(limit=limit)


def _settings_problem() -> str | None:
    """What stops the sender from starting, or None; prints the files notice."""
    config = current_app.config
    backend, server = config.get("MAIL_BACKEND") or "smtp", config.get("MAIL_SERVER")
    if backend == "file":
        folder = config["MAIL_FILE_PATH"].rstrip("/")
        click.echo(f"No MAIL_SERVER set: mail is written to {folder}/, not sent." if not server
                   else f"MAIL_BACKEND=file: mail is written to {folder}/, not sent to "
                   f"{server}.", err=True)
        return None
    if backend != "smtp":
        return f"MAIL_BACKEND is {backend!r}: set it to smtp or file (or leave it unset)."
    if not server:
        return "MAIL_BACKEND=smtp needs MAIL_SERVER, the mail server's host name."
    if config.get("BASE_URL") == DEFAULT_BASE_URL and not config.get("BASE_URL_SET"):
        return (f"BASE_URL is not set, so every link in the mail would point at "
                f"{DEFAULT_BASE_URL}. Set BASE_URL to the site's public address (like "
                f"https://grants.example.org), or to {DEFAULT_BASE_URL} explicitly to test "
                "with a local mail server.")
    return None


@click.command("send-mail")
@click.option("--loop", is_flag=True, help="Keep sending until stopped (SIGTERM, Ctrl-C).")
@click.option("--interval", type=click.FloatRange(min=0.05), default=5.0, show_default=True,
              help="Seconds between two rounds with --loop.")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True,
              help="At most this many messages a round.")
def send_mail_command(loop: bool, interval: float, limit: int):
    """Send the e-mail that is due; with --loop, keep going."""
    problem = _settings_problem()
    if problem:
        click.echo(f"Not sending mail: {problem}", err=True)
        raise SystemExit(2)
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
