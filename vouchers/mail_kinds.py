"""Every kind of e-mail the system sends, in one registry.

A kind names its templates (``templates/mail/<key>.txt`` and ``.html``), its subject (a
Jinja expression over the same context), whether it is urgent (always sent at once) or
may wait for the recipient's daily digest, what it is called (on the Mail page and on
the mail settings page), and whether it holds a single-use link
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
    # What it is, in a manager's words (the Mail page) ...
    label: str = ""
    # ... and in the recipient's (the mail settings page; empty: its key, as words).
    about: str = ""


KINDS: dict[str, MailKind] = {k.key: k for k in (
    # accounts
    MailKind("verify_email", "Confirm your e-mail address", urgent=True, sensitive=True,
             audience="any",
             label="Address confirmation", about="confirming your e-mail address"),
    MailKind("password_reset", "Reset your password", urgent=True, sensitive=True,
             audience="any",
             label="Password reset", about="resetting your password"),
    MailKind("invitation", "You are invited to {{ programme_name }}", urgent=True,
             sensitive=True, audience="any",
             label="Invitation", about="invitations"),
    MailKind("email_change", "Confirm your new e-mail address", urgent=True, sensitive=True,
             audience="any",
             label="New address confirmation", about="confirming a new e-mail address"),
    MailKind("email_changed", "Your e-mail address was changed", urgent=True, audience="any",
             label="Address changed", about="your e-mail address was changed"),
    MailKind("password_changed", "Your password was changed", urgent=True, audience="any",
             label="Password changed", about="your password was changed"),
    # to the present address when a change is asked, with a reset link to stop it
    MailKind("email_change_requested", "Someone asked to change your e-mail address",
             urgent=True, sensitive=True, audience="any",
             label="Address change asked (to the old address)",
             about="someone asked to change your e-mail address"),
    # to an address someone registered with, which has an account already
    MailKind("already_registered", "You already have an account", urgent=True,
             audience="any",
             label="Already registered", about="someone tried to register with your address"),
    # a reset asked for an address with no account, or a disabled one
    MailKind("reset_no_account", "Password reset: {% if disabled %}your account is disabled"
             "{% else %}no account for this address{% endif %}", urgent=True, audience="address",
             label="Reset for an unknown or disabled account"),
    # the application's life, to the applicant
    MailKind("submitted", "Received: {{ application.reference }}",
             label="Application received", about="the receipt of a submitted application"),
    MailKind("returned", "Changes needed: {{ application.reference }}", urgent=True,
             label="Application returned for changes",
             about="an application returned to you for changes"),
    MailKind("awarded", "Awarded: {{ application.reference }}",
             label="Voucher awarded", about="a voucher awarded"),
    MailKind("rejected", "Decision on {{ application.reference }}",
             label="Application rejected", about="an application rejected"),
    MailKind("waitlisted", "Reserve list: {{ application.reference }}",
             label="Reserve list", about="an application put on the reserve list"),
    MailKind("report_returned", "Final report returned: {{ application.reference }}",
             urgent=True,
             label="Final report returned", about="a final report returned to you"),
    MailKind("report_approved", "Final report approved: {{ application.reference }}",
             label="Final report approved", about="a final report approved"),
    MailKind("payment_made", "Payment made: {{ application.reference }}",
             label="Payment made", about="a payment made"),
    MailKind("report_due", "{% if overdue %}Overdue: final{% else %}Final{% endif %} report "
             "due {{ due_text }}: {{ application.reference }}",
             urgent=True,
             label="Final report reminder", about="a final report's deadline"),
    # follow-up surveys after payment (services/surveys.py)
    MailKind("survey_due", "A short survey on your voucher {{ application.reference }}",
             label="Follow-up survey", about="follow-up surveys on a paid voucher"),
    MailKind("survey_reminder", "Reminder: the survey on {{ application.reference }}",
             label="Follow-up survey reminder", about="reminders of follow-up surveys"),
    # messages on an application, to the other side
    MailKind("message_to_applicant", "New message about {{ application.reference }}",
             label="Message to an applicant", about="new messages from the programme"),
    MailKind("message_to_managers", "New message about {{ application.reference }}",
             audience="manager",
             label="Message to the managers", about="new messages from applicants"),
    # evaluators
    MailKind("assigned", "{% if applications and applications|length > 1 %}"
             "{{ applications|length }} new assignments in {{ call.code }}{% else %}"
             "New assignment: {{ application.reference }}{% endif %}", audience="evaluator",
             label="Evaluation assignment", about="new assignments"),
    MailKind("review_again", "New version to review: {{ application.reference }}",
             audience="evaluator",
             label="New version to review"),
    MailKind("review_due", "{% if overdue %}Overdue: review{% else %}Review{% endif %} due "
             "{{ due_text }}: {{ application.reference }}",
             urgent=True, audience="evaluator",
             label="Review reminder", about="a review's deadline"),
    # digests
    MailKind("manager_digest", "What needs action today", urgent=True, audience="manager",
             label="Managers' daily digest", about="the daily list of what needs action"),
    MailKind("digest", "Your daily summary", urgent=True, audience="any",
             label="Daily digest"),
)}


def get(key: str) -> MailKind:
    return KINDS[key]
