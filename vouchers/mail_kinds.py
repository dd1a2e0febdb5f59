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

from .i18n import N_


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
    # ... and in the recipient's (the mail settings page; empty: its key, as words). Both
    # are marked with N_ and translated where they are shown (services/mailbox.kind_label,
    # services/mail_preferences.describe).
    about: str = ""


KINDS: dict[str, MailKind] = {k.key: k for k in (
    # accounts
    MailKind("verify_email", "Confirm your e-mail address", urgent=True, sensitive=True,
             audience="any",
             label=N_("Address confirmation"), about=N_("confirming your e-mail address")),
    MailKind("password_reset", "Reset your password", urgent=True, sensitive=True,
             audience="any",
             label=N_("Password reset"), about=N_("resetting your password")),
    MailKind("invitation", "You are invited to {{ programme_name }}", urgent=True,
             sensitive=True, audience="any",
             label=N_("Invitation"), about=N_("invitations")),
    MailKind("email_change", "Confirm your new e-mail address", urgent=True, sensitive=True,
             audience="any",
             label=N_("New address confirmation"), about=N_("confirming a new e-mail address")),
    MailKind("email_changed", "Your e-mail address was changed", urgent=True, audience="any",
             label=N_("Address changed"), about=N_("your e-mail address was changed")),
    MailKind("password_changed", "Your password was changed", urgent=True, audience="any",
             label=N_("Password changed"), about=N_("your password was changed")),
    # to the present address when a change is asked, with a reset link to stop it
    MailKind("email_change_requested", "Someone asked to change your e-mail address",
             urgent=True, sensitive=True, audience="any",
             label=N_("Address change asked (to the old address)"),
             about=N_("someone asked to change your e-mail address")),
    # to an address someone registered with, which has an account already
    MailKind("already_registered", "You already have an account", urgent=True,
             audience="any",
             label=N_("Already registered"),
             about=N_("someone tried to register with your address")),
    # a reset asked for an address with no account, or a disabled one
    MailKind("reset_no_account", "Password reset: {% if disabled %}your account is disabled"
             "{% else %}no account for this address{% endif %}", urgent=True, audience="address",
             label=N_("Reset for an unknown or disabled account")),
    # the application's life, to the applicant
    MailKind("submitted", "Received: {{ application.reference }}",
             label=N_("Application received"), about=N_("the receipt of a submitted application")),
    MailKind("returned", "Changes needed: {{ application.reference }}", urgent=True,
             label=N_("Application returned for changes"),
             about=N_("an application returned to you for changes")),
    MailKind("awarded", "Awarded: {{ application.reference }}",
             label=N_("Voucher awarded"), about=N_("a voucher awarded")),
    MailKind("rejected", "Decision on {{ application.reference }}",
             label=N_("Application rejected"), about=N_("an application rejected")),
    MailKind("waitlisted", "Reserve list: {{ application.reference }}",
             label=N_("Reserve list"), about=N_("an application put on the reserve list")),
    MailKind("report_returned", "Final report returned: {{ application.reference }}",
             urgent=True,
             label=N_("Final report returned"), about=N_("a final report returned to you")),
    MailKind("report_approved", "Final report approved: {{ application.reference }}",
             label=N_("Final report approved"), about=N_("a final report approved")),
    MailKind("payment_made", "Payment made: {{ application.reference }}",
             label=N_("Payment made"), about=N_("a payment made")),
    MailKind("report_due", "{% if overdue %}Overdue: final{% else %}Final{% endif %} report "
             "due {{ due_text }}: {{ application.reference }}",
             urgent=True,
             label=N_("Final report reminder"), about=N_("a final report's deadline")),
    # follow-up surveys after payment (services/surveys.py)
    MailKind("survey_due", "A short survey on your voucher {{ application.reference }}",
             label=N_("Follow-up survey"), about=N_("follow-up surveys on a paid voucher")),
    MailKind("survey_reminder", "Reminder: the survey on {{ application.reference }}",
             label=N_("Follow-up survey reminder"), about=N_("reminders of follow-up surveys")),
    # messages on an application, to the other side
    MailKind("message_to_applicant", "New message about {{ application.reference }}",
             label=N_("Message to an applicant"), about=N_("new messages from the programme")),
    MailKind("message_to_managers", "New message about {{ application.reference }}",
             audience="manager",
             label=N_("Message to the managers"), about=N_("new messages from applicants")),
    # evaluators
    MailKind("assigned", "{% if applications and applications|length > 1 %}"
             "{{ applications|length }} new assignments in {{ call.code }}{% else %}"
             "New assignment: {{ application.reference }}{% endif %}", audience="evaluator",
             label=N_("Evaluation assignment"), about=N_("new assignments")),
    MailKind("review_again", "New version to review: {{ application.reference }}",
             audience="evaluator",
             label=N_("New version to review"), about=N_("review again")),
    MailKind("review_due", "{% if overdue %}Overdue: review{% else %}Review{% endif %} due "
             "{{ due_text }}: {{ application.reference }}",
             urgent=True, audience="evaluator",
             label=N_("Review reminder"), about=N_("a review's deadline")),
    # digests
    MailKind("manager_digest", "What needs action today", urgent=True, audience="manager",
             label=N_("Managers' daily digest"), about=N_("the daily list of what needs action")),
    MailKind("digest", "Your daily summary", urgent=True, audience="any",
             label=N_("Daily digest")),
)}


def get(key: str) -> MailKind:
    return KINDS[key]
