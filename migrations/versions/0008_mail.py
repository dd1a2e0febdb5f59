"""mail: the outbox, account tokens, deadlines, and messages on an application

Revision ID: 0008
Revises: 0007
"""
import json
import os
import warnings
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


_EXPRESSION_INDEX = "Skipped unsupported reflection of expression-based"


def upgrade():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", _EXPRESSION_INDEX)
        _upgrade()
    # Accounts from before verification existed keep working: their addresses count as
    # verified since the account was made.
    op.execute("UPDATE users SET email_verified_at = created_at")
    _backfill_report_deadlines()


def downgrade():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", _EXPRESSION_INDEX)
        _downgrade()


def _upgrade():
    op.create_table('account_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('new_email', sa.String(length=254), nullable=True),
    sa.Column('requested_from', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("purpose != 'email_change' OR new_email IS NOT NULL", name=op.f('ck_account_tokens_email_change_has_address')),
    sa.CheckConstraint("purpose IN ('reset', 'verify', 'email_change')", name=op.f('ck_account_tokens_purpose_known')),
    sa.CheckConstraint('expires_at > created_at', name=op.f('ck_account_tokens_expires_after_creation')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_account_tokens_token_hash'))
    )
    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_tokens_user_id'), ['user_id'], unique=False)
        batch_op.create_index('ix_account_tokens_user_purpose', ['user_id', 'purpose', 'created_at'], unique=False)

    op.create_table('application_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('internal', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_application_messages_application_id_applications')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_application_messages_author_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application_messages'))
    )
    with op.batch_alter_table('application_messages', schema=None) as batch_op:
        batch_op.create_index('ix_application_messages_thread', ['application_id', 'internal', 'id'], unique=False)

    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('message_id', sa.String(length=200), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('digest', sa.Boolean(), nullable=False),
    sa.Column('sensitive', sa.Boolean(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('digest_message_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status != 'sent' OR sent_at IS NOT NULL", name=op.f('ck_outbox_messages_sent_has_time')),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed', 'digested')", name=op.f('ck_outbox_messages_status_known')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_outbox_messages_application_id_applications')),
    sa.ForeignKeyConstraint(['digest_message_id'], ['outbox_messages.id'], name=op.f('fk_outbox_messages_digest_message_id_outbox_messages')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_outbox_messages_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbox_messages_dedupe_key')),
    sa.UniqueConstraint('message_id', name=op.f('uq_outbox_messages_message_id'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_messages_application_id'), ['application_id'], unique=False)
        batch_op.create_index('ix_outbox_messages_digest', ['digest', 'status', 'user_id'], unique=False)
        batch_op.create_index('ix_outbox_messages_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_outbox_messages_kind_address', ['kind', 'to_address', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_messages_user_id'), ['user_id'], unique=False)

    op.create_table('message_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['application_messages.id'], name=op.f('fk_message_attachments_message_id_application_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_attachments')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_message_attachments_stored_name'))
    )
    with op.batch_alter_table('message_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_attachments_message_id'), ['message_id'], unique=False)

    # Plain ALTER TABLE ... ADD COLUMN (not batch): a batch copy of users on SQLite would
    # lose its expression index on lower(email).
    op.add_column('applications', sa.Column('report_due_on', sa.Date(), nullable=True))
    op.add_column('calls', sa.Column('review_deadline', sa.Date(), nullable=True))
    op.add_column('calls', sa.Column('report_due_days', sa.Integer(), nullable=False,
                                     server_default='60'))
    op.add_column('users', sa.Column('email_verified_at', sa.DateTime(timezone=True),
                                     nullable=True))
    op.add_column('users', sa.Column('mail_digest', sa.Boolean(), nullable=False,
                                     server_default=sa.false()))



# The vouchers whose report deadline the award would have set had it existed: a report
# still to come, and the ones closed since (their pages show when it was due).
_VOUCHER_STATES = ('awarded', 'reporting', 'report_submitted', 'completed', 'paid')


def _backfill_report_deadlines():
    """Give each voucher awarded before this migration the report deadline its award would
    have set: services/deadlines.report_due_on's rule, repeated here because migrations
    must not import the app (change both together). The activity's end is the trip's last
    day or the service's delivery date, at most the call's last day of activities (its
    implementation end, else the programme's end); else the implementation end; else the
    award day (in the programme's time zone); never before the award day; plus the call's
    report_due_days (60 for every call made before this migration).

    Read with plain SQL: SQLite returns dates as 'YYYY-MM-DD' text, timestamps as naive
    UTC text and JSON as text; PostgreSQL returns dates, aware datetimes and dicts.
    """
    bind = op.get_bind()
    sqlite = bind.dialect.name == 'sqlite'
    zone = ZoneInfo(_programme_time_zone())
    states = ', '.join(f"'{s}'" for s in _VOUCHER_STATES)
    rows = bind.execute(sa.text(
        "SELECT a.id, a.details, a.awarded_at, c.implementation_ends_on, c.report_due_days, "
        "p.ends_on FROM applications a JOIN calls c ON c.id = a.call_id "
        "JOIN programmes p ON p.id = c.programme_id "
        f"WHERE a.state IN ({states}) AND a.awarded_at IS NOT NULL "
        "AND a.report_due_on IS NULL ORDER BY a.id"
    )).all()
    updates = []
    for app_id, details, awarded_at, implementation_ends_on, days, programme_ends_on in rows:
        awarded_on = _as_utc(awarded_at).astimezone(zone).date()
        due = _report_due_on(_as_dict(details), awarded_on, _as_date(implementation_ends_on),
                             _as_date(programme_ends_on), int(days))
        updates.append({"id": app_id, "due": due.isoformat() if sqlite else due})
    if updates:
        bind.execute(sa.text("UPDATE applications SET report_due_on = :due WHERE id = :id"),
                     updates)


def _programme_time_zone():
    try:
        from flask import current_app

        return current_app.config["PROGRAMME_TIMEZONE"]
    except (ImportError, RuntimeError, KeyError):
        return os.environ.get("PROGRAMME_TIMEZONE", "Europe/Brussels")


def _report_due_on(details, awarded_on, implementation_ends_on, programme_ends_on, days):
    last = implementation_ends_on or programme_ends_on
    end = None
    for key in ("end_date", "delivery_date"):
        value = details.get(key)
        if value:
            try:
                end = min(date.fromisoformat(str(value)), last)
                break
            except ValueError:
                continue
    if end is None:
        end = implementation_ends_on or awarded_on
    try:
        return max(end, awarded_on) + timedelta(days=days)
    except OverflowError:
        return date.max


def _as_dict(value):
    if isinstance(value, (str, bytes)):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _as_date(value):
    if value is None or isinstance(value, date):
        return value  # a date (PostgreSQL) or nothing
    return date.fromisoformat(str(value)[:10])


def _as_utc(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _downgrade():
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+), keeping the users' expression index.
    op.drop_column('users', 'mail_digest')
    op.drop_column('users', 'email_verified_at')
    op.drop_column('calls', 'report_due_days')
    op.drop_column('calls', 'review_deadline')
    op.drop_column('applications', 'report_due_on')

    with op.batch_alter_table('message_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_attachments_message_id'))

    op.drop_table('message_attachments')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_messages_user_id'))
        batch_op.drop_index('ix_outbox_messages_due')
        batch_op.drop_index('ix_outbox_messages_kind_address')
        batch_op.drop_index('ix_outbox_messages_digest')
        batch_op.drop_index(batch_op.f('ix_outbox_messages_application_id'))

    op.drop_table('outbox_messages')
    with op.batch_alter_table('application_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_application_messages_thread')

    op.drop_table('application_messages')
    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_account_tokens_user_purpose')
        batch_op.drop_index(batch_op.f('ix_account_tokens_user_id'))

    op.drop_table('account_tokens')
