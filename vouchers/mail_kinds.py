"""Every kind of e-mail the system sends, in one registry.

A kind names its templates (``templates/mail/<key>.txt`` and ``.html``), its subject (a
Jinja expression over the same context), whether it is urgent (always sent at once) or
may wait for the recipient's daily digest, and whether it holds a single-use link
(sensitive: its bodies are blanked in the outbox once sent or failed for good, and shown
on the Mail page only to the manager they are addressed to). services/outbox.py reads it
when a message is queued; nothing else decides these things.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MailKind:
    key: str
    subject: str
    # Urgent messages never wait for a digest: account links, deadlines, digests.
    urgent: bool = False
    sensitive: bool = False
    # Who receives it, for the README and the settings page: applicant, evaluator, manager,
    # any (account messages) or address (an address with no usable account: never listed).
    audience: str = "applicant"


KINDS: dict[str, MailKind] = {k.key: k for k in (
    # accounts
    MailKind("verify_email", "Confirm your e-mail address", urgent=True, sensitive=True,
             audience="any"),
    MailKind("password_reset", "Reset your password", urgent=True, sensitive=True,
             audience="any"),
    MailKind("invitation", "You are invited to {{ programme_name }}", urgent=True,
             sensitive=True, audience="any"),
    MailKind("email_change", "Confirm your new e-mail address", urgent=True, sensitive=True,
             audience="any"),
    MailKind("email_changed", "Your e-mail address was changed", urgent=True, audience="any"),
    MailKind("password_changed", "Your password was changed", urgent=True, audience="any"),
    # to the present address when a change is asked, with a reset link to stop it
    MailKind("email_change_requested", "Someone asked to change your e-mail address",
             urgent=True, sensitive=True, audience="any"),
    # to an address someone registered with, which has an account already
    MailKind("already_registered", "You already have an account", urgent=True,
             audience="any"),
    # a reset asked for an address with no account, or a disabled one
    MailKind("reset_no_account", "Password reset: {{ 'your account is disabled' if disabled "
             "else 'no account for this address' }}", urgent=True, audience="address"),
    # the application's life, to the applicant
    MailKind("submitted", "Received: {{ application.reference }}"),
    MailKind("returned", "Changes needed: {{ application.reference }}", urgent=True),
    MailKind("awarded", "Awarded: {{ application.reference }}"),
    MailKind("rejected", "Decision on {{ application.reference }}"),
    MailKind("waitlisted", "Reserve list: {{ application.reference }}"),
    MailKind("report_returned", "Final report returned: {{ application.reference }}",
             urgent=True),
    MailKind("report_approved", "Final report approved: {{ application.reference }}"),
    MailKind("payment_made", "Payment made: {{ application.reference }}"),
    MailKind("report_due", "{{ 'Overdue: f' if overdue else 'F' }}inal report due "
             "{{ due_text }}: {{ application.reference }}",
             urgent=True),
    # messages on an application, to the other side
    MailKind("message_to_applicant", "New message about {{ application.reference }}"),
    MailKind("message_to_managers", "New message about {{ application.reference }}",
             audience="manager"),
    # evaluators
    MailKind("assigned", "{% if applications and applications|length > 1 %}"
             "{{ applications|length }} new assignments in {{ call.code }}{% else %}"
             "New assignment: {{ application.reference }}{% endif %}", audience="evaluator"),
    MailKind("review_again", "New version to review: {{ application.reference }}",
             audience="evaluator"),
    MailKind("review_due", "{{ 'Overdue: r' if overdue else 'R' }}eview due {{ due_text }}: "
             "{{ application.reference }}",
             urgent=True, audience="evaluator"),
    # digests
    MailKind("manager_digest", "What needs action today", urgent=True, audience="manager"),
    MailKind("digest", "Your daily summary", urgent=True, audience="any"),
)}


def get(key: str) -> MailKind:
    return KINDS[key]
