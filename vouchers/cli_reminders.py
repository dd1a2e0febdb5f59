"""`flask --app vouchers send-reminders`: the reminders of deadlines, the daily digests and
the follow-up surveys that came due (services/surveys.py).

Queues every reminder that is due (services/reminders.py) and then the day's digests
(services/digests.py), commits once, and prints one line ("queued 4 reminders (2 reviews,
2 reports), 1 digest"); ``send-mail`` delivers them. Each reminder and digest goes once
(their dedupe keys), so it is safe to run from cron every few minutes, even two at once:

    */10 * * * *  cd /srv/vouchers && .venv/bin/flask --app vouchers send-reminders
"""

from __future__ import annotations

import click

from .extensions import db


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@click.command("send-reminders")
def send_reminders_command():
    """Queue the deadline reminders and daily digests that are due (safe from cron)."""
    from .models.base import utcnow
    from .services import digests, reminders, surveys
    from .services.errors import DomainError

    now = utcnow()
    try:
        result = reminders.send_reminders(now)
        # Follow-up surveys that came due, and their one reminder (services/surveys.py),
        # before the digests, which then carry them to those who read mail once a day.
        run = surveys.send_surveys(now)
        sent = digests.send_user_digests(now) + digests.send_manager_digests(now)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"queued {_count(result.total, 'reminder')} ({_count(result.reviews, 'review')}, "
               f"{_count(result.reports, 'report')}), {_count(sent, 'digest')}"
               + (f", {_count(run.created, 'survey')} and {_count(run.reminded, 'survey reminder')}"
                  f" ({_count(run.mails, 'mail')})" if run.created or run.reminded else ""))
