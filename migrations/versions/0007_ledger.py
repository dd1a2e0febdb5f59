"""ledger: money movements per voucher, close-out releases, advances, payment batches,
bank details, VAT numbers and the de minimis register

Revision ID: 0007
Revises: 0006
"""
import warnings
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

_EXPRESSION_INDEX = "Skipped unsupported reflection of expression-based"
_MIGRATED = "Booked when the ledger was introduced"


def upgrade():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", _EXPRESSION_INDEX)
        _upgrade()
        _backfill()


def _upgrade():
    op.create_table('bank_details_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('iban', sa.String(length=34), nullable=False),
    sa.Column('bic', sa.String(length=11), nullable=False),
    sa.Column('account_holder', sa.String(length=200), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('pending_organisation_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('confirmed', 'refused')", name=op.f('ck_bank_details_changes_outcome_known')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_bank_details_changes_decided_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_bank_details_changes_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_bank_details_changes_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_details_changes')),
    sa.UniqueConstraint('pending_organisation_id', name=op.f('uq_bank_details_changes_pending_organisation_id'))
    )
    with op.batch_alter_table('bank_details_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_details_changes_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('payment_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=35), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('execution_date', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('executed_by_id', sa.Integer(), nullable=True),
    sa.Column('executed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('executed_on', sa.Date(), nullable=True),
    sa.Column('bank_reference', sa.String(length=60), nullable=False),
    sa.Column('debtor_name', sa.String(length=70), nullable=False),
    sa.Column('debtor_iban', sa.String(length=34), nullable=False),
    sa.Column('debtor_bic', sa.String(length=11), nullable=False),
    sa.CheckConstraint("status != 'executed' OR (executed_at IS NOT NULL AND executed_on IS NOT NULL AND bank_reference != '')", name=op.f('ck_payment_batches_executed_has_reference')),
    sa.CheckConstraint("status IN ('prepared', 'executed', 'cancelled')", name=op.f('ck_payment_batches_status_known')),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_payment_batches_call_id_calls')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_payment_batches_created_by_id_users')),
    sa.ForeignKeyConstraint(['executed_by_id'], ['users.id'], name=op.f('fk_payment_batches_executed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_batches')),
    sa.UniqueConstraint('message_id', name=op.f('uq_payment_batches_message_id'))
    )
    with op.batch_alter_table('payment_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_batches_call_id'), ['call_id'], unique=False)

    op.create_table('batch_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('iban', sa.String(length=34), nullable=False),
    sa.Column('bic', sa.String(length=11), nullable=False),
    sa.Column('account_holder', sa.String(length=200), nullable=False),
    sa.Column('remittance', sa.String(length=140), nullable=False),
    sa.Column('pending_application_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('advance', 'payment')", name=op.f('ck_batch_items_kind_known')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_batch_items_amount_positive')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_batch_items_application_id_applications')),
    sa.ForeignKeyConstraint(['batch_id'], ['payment_batches.id'], name=op.f('fk_batch_items_batch_id_payment_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_items')),
    sa.UniqueConstraint('pending_application_id', name=op.f('uq_batch_items_pending_application_id'))
    )
    with op.batch_alter_table('batch_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_items_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_batch_items_batch_id'), ['batch_id'], unique=False)

    op.create_table('de_minimis_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('undertaking', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('vat_number', sa.String(length=20), nullable=False),
    sa.Column('registry_number', sa.String(length=40), nullable=False),
    sa.Column('granting_authority', sa.String(length=200), nullable=False),
    sa.Column('granted_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('regulation', sa.String(length=60), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_de_minimis_grants_amount_positive')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_de_minimis_grants_application_id_applications')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_de_minimis_grants_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_de_minimis_grants')),
    sa.UniqueConstraint('application_id', name=op.f('uq_de_minimis_grants_application_id'))
    )
    with op.batch_alter_table('de_minimis_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_de_minimis_grants_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('ledger_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('call_voucher_type_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('committed', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('paid', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('quota', sa.Integer(), nullable=False),
    sa.Column('booked_on', sa.Date(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('reference', sa.String(length=60), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(kind = 'commitment' AND committed > 0 AND paid = 0 AND quota = 1) OR (kind = 'release' AND committed <= 0 AND paid = 0 AND quota IN (0, -1) AND (committed < 0 OR quota = -1)) OR (kind IN ('advance', 'payment') AND paid > 0 AND committed = 0 AND quota = 0 AND payment_id IS NOT NULL) OR (kind = 'reversal' AND paid < 0 AND committed = 0 AND quota = 0 AND payment_id IS NOT NULL) OR (kind = 'recovery' AND paid < 0 AND committed = 0 AND quota = 0)", name=op.f('ck_ledger_entries_signs_match_kind')),
    sa.CheckConstraint("kind IN ('commitment', 'release', 'advance', 'payment', 'reversal', 'recovery')", name=op.f('ck_ledger_entries_kind_known')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_ledger_entries_actor_id_users')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_ledger_entries_application_id_applications')),
    sa.ForeignKeyConstraint(['call_voucher_type_id'], ['call_voucher_types.id'], name=op.f('fk_ledger_entries_call_voucher_type_id_call_voucher_types')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_ledger_entries_payment_id_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries')),
    sa.UniqueConstraint('payment_id', 'kind', name='uq_ledger_entries_payment_kind')
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entries_application', ['application_id', 'id'], unique=False)
        batch_op.create_index('ix_ledger_entries_type', ['call_voucher_type_id'], unique=False)

    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('released_amount', sa.Numeric(precision=12, scale=2),
                                      nullable=False, server_default='0'))
        batch_op.create_check_constraint(
            batch_op.f('ck_applications_released_within_awarded'),
            'released_amount >= 0 AND released_amount <= COALESCE(awarded_amount, 0)')
        batch_op.create_check_constraint(
            batch_op.f('ck_applications_paid_within_committed'),
            'paid_amount <= COALESCE(awarded_amount, 0) - released_amount')

    with op.batch_alter_table('call_voucher_types', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paid', sa.Numeric(precision=12, scale=2), nullable=False,
                                      server_default='0'))
        batch_op.create_check_constraint(batch_op.f('ck_call_voucher_types_paid_within_committed'),
                                         'paid >= 0 AND paid <= committed')

    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('advance_share', sa.Numeric(precision=5, scale=4), nullable=True))
        batch_op.add_column(sa.Column('zero_report_returns_quota', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
        batch_op.create_check_constraint(
            batch_op.f('ck_calls_advance_in_range'),
            'advance_share IS NULL OR (advance_share > 0 AND advance_share < 1)')

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vat_number', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('iban', sa.String(length=34), nullable=True))
        batch_op.add_column(sa.Column('bic', sa.String(length=11), nullable=True))
        batch_op.add_column(sa.Column('account_holder', sa.String(length=200), nullable=True))

    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=False,
                                      server_default='payment'))
        batch_op.create_check_constraint(batch_op.f('ck_payments_kind_known'),
                                         "kind IN ('advance', 'payment')")
        batch_op.add_column(sa.Column('batch_item_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_payments_batch_item_id'), ['batch_item_id'])
        batch_op.create_foreign_key(batch_op.f('fk_payments_batch_item_id_batch_items'), 'batch_items', ['batch_item_id'], ['id'])

    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('granting_authority', sa.String(length=200), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('debtor_name', sa.String(length=70), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('debtor_iban', sa.String(length=34), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('debtor_bic', sa.String(length=11), nullable=False,
                                      server_default=''))



def _backfill():
    """Book what happened before the ledger, so its sums equal the counters from day one.

    Every award becomes a commitment, every cancellation a release of all of it, every
    payment a payment entry; a closed voucher paid below its award releases the rest (the
    money that used to stay committed for ever), and each award is entered in the de
    minimis register as granted.
    """
    bind = op.get_bind()
    sqlite = bind.dialect.name == 'sqlite'
    day = "substr({}, 1, 10)" if sqlite else "CAST({} AS DATE)"
    awarded_on = day.format("a.awarded_at")
    op.execute(
        "INSERT INTO ledger_entries (application_id, call_voucher_type_id, kind, committed, "
        "paid, quota, booked_on, at, reason, reference) "
        f"SELECT a.id, a.call_voucher_type_id, 'commitment', a.awarded_amount, 0, 1, "
        f"{awarded_on}, a.awarded_at, '{_MIGRATED}', '' FROM applications a "
        "WHERE a.awarded_amount IS NOT NULL ORDER BY a.awarded_at, a.id"
    )
    op.execute(
        "INSERT INTO ledger_entries (application_id, call_voucher_type_id, kind, committed, "
        "paid, quota, booked_on, at, reason, reference) "
        f"SELECT a.id, a.call_voucher_type_id, 'release', -a.awarded_amount, 0, -1, "
        f"{day.format('a.decided_at')}, COALESCE(a.decided_at, a.awarded_at), "
        f"'Cancelled voucher ({_MIGRATED.lower()})', '' FROM applications a "
        "WHERE a.state = 'cancelled' AND a.awarded_amount IS NOT NULL"
    )
    op.execute("UPDATE applications SET released_amount = awarded_amount "
               "WHERE state = 'cancelled' AND awarded_amount IS NOT NULL")
    op.execute(
        "INSERT INTO ledger_entries (application_id, call_voucher_type_id, kind, committed, "
        "paid, quota, booked_on, at, actor_id, reason, reference, payment_id) "
        "SELECT p.application_id, a.call_voucher_type_id, 'payment', 0, p.amount, 0, "
        "p.paid_on, p.recorded_at, p.recorded_by_id, '', p.reference, p.id "
        "FROM payments p JOIN applications a ON a.id = p.application_id ORDER BY p.id"
    )
    _release_closed_vouchers(bind, sqlite)
    op.execute("UPDATE call_voucher_types SET paid = COALESCE((SELECT SUM(a.paid_amount) "
               "FROM applications a WHERE a.call_voucher_type_id = call_voucher_types.id), 0)")
    op.execute(
        "INSERT INTO de_minimis_grants (application_id, organisation_id, undertaking, country, "
        "vat_number, registry_number, granting_authority, granted_on, amount, regulation, "
        "recorded_at) "
        f"SELECT a.id, o.id, o.legal_name, o.country, '', o.registry_number, p.funder, "
        f"{awarded_on}, a.awarded_amount, 'Commission Regulation (EU) 2023/2831', "
        "a.awarded_at FROM applications a JOIN organisations o ON o.id = a.organisation_id "
        "JOIN calls c ON c.id = a.call_id JOIN programmes p ON p.id = c.programme_id "
        "WHERE a.awarded_amount IS NOT NULL"
    )


def _release_closed_vouchers(bind, sqlite):
    """A completed or paid voucher keeps only max(payable, paid); the rest goes back."""
    cents = Decimal(100) if sqlite else Decimal(1)

    def read(value):
        return (Decimal(str(value)) / cents).quantize(Decimal("0.01"))

    def write(amount):
        return int(amount * 100) if sqlite else amount

    rows = bind.execute(sa.text(
        "SELECT a.id, a.call_voucher_type_id, a.awarded_amount, a.paid_amount, "
        "r.actual_costs, t.funding_rate, r.decided_at, a.state FROM applications a "
        "JOIN final_reports r ON r.application_id = a.id "
        "JOIN call_voucher_types t ON t.id = a.call_voucher_type_id "
        "WHERE a.state IN ('completed', 'paid') AND r.actual_costs IS NOT NULL"
    )).all()
    for app_id, type_id, awarded, paid, costs, funding_rate, decided_at, state in rows:
        awarded, paid = read(awarded), read(paid)
        by_costs = (read(costs) * Decimal(str(funding_rate))).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP)
        payable = min(by_costs, awarded)
        if state == 'completed' and paid >= payable:
            _close(bind, sqlite, app_id, paid)
        release = awarded - max(payable, paid)
        place = -1 if payable == 0 else 0
        if release <= 0 and place == 0:
            continue
        if isinstance(decided_at, str):
            decided_at = datetime.fromisoformat(decided_at)
        at = decided_at or datetime.now(UTC)
        booked = at.date()
        if sqlite:  # SQLite keeps dates and times as (naive UTC) text
            booked, at = booked.isoformat(), at.replace(tzinfo=None).isoformat(sep=" ")
        bind.execute(sa.text(
            "INSERT INTO ledger_entries (application_id, call_voucher_type_id, kind, "
            "committed, paid, quota, booked_on, at, reason, reference) VALUES (:app, :type, "
            "'release', :amount, 0, :place, :booked, :at, :reason, '')"
        ), {"app": app_id, "type": type_id, "amount": write(-release), "place": place,
            "booked": booked, "at": at,
            "reason": f"Not spent at close-out ({_MIGRATED.lower()})"})
        bind.execute(sa.text("UPDATE applications SET released_amount = :amount WHERE id = :id"),
                     {"amount": write(release), "id": app_id})
        bind.execute(sa.text(
            "UPDATE call_voucher_types SET committed = committed - :amount, "
            "awarded_count = awarded_count + :place WHERE id = :id"
        ), {"amount": write(release), "place": place, "id": type_id})


def _close(bind, sqlite, app_id, paid):
    """A completed voucher with nothing left to pay (a report of no costs) is closed, as
    approving its report now does; the audit trail says when and why."""
    now = datetime.now(UTC)
    if sqlite:  # naive UTC text, as the app's UTCDateTime stores it
        now = now.replace(tzinfo=None).isoformat(sep=" ")
    bind.execute(sa.text("UPDATE applications SET state = 'paid', version = version + 1 "
                         "WHERE id = :id"), {"id": app_id})
    bind.execute(sa.text(
        "INSERT INTO audit_records (application_id, from_state, to_state, trigger, at, "
        "comment, amount) VALUES (:id, 'completed', 'paid', 'pay', :at, :comment, :paid)"
    ), {"id": app_id, "at": now, "paid": int(paid * 100) if sqlite else paid,
        "comment": "Closed: nothing left to pay (when the ledger was introduced)."})


def downgrade():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", _EXPRESSION_INDEX)
        _downgrade()


def _downgrade():
    # Close-out releases and reversals cannot be told apart from payments once the
    # ledger is gone; going down keeps the counters as they stand.
    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.drop_column('debtor_bic')
        batch_op.drop_column('debtor_iban')
        batch_op.drop_column('debtor_name')
        batch_op.drop_column('granting_authority')

    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_payments_kind_known'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_payments_batch_item_id_batch_items'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_payments_batch_item_id'), type_='unique')
        batch_op.drop_column('batch_item_id')
        batch_op.drop_column('kind')

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('account_holder')
        batch_op.drop_column('bic')
        batch_op.drop_column('iban')
        batch_op.drop_column('vat_number')

    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_calls_advance_in_range'), type_='check')
        batch_op.drop_column('zero_report_returns_quota')
        batch_op.drop_column('advance_share')

    with op.batch_alter_table('call_voucher_types', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_call_voucher_types_paid_within_committed'),
                                 type_='check')
        batch_op.drop_column('paid')

    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_applications_paid_within_committed'),
                                 type_='check')
        batch_op.drop_constraint(batch_op.f('ck_applications_released_within_awarded'),
                                 type_='check')
        batch_op.drop_column('released_amount')

    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_entries_type')
        batch_op.drop_index('ix_ledger_entries_application')

    op.drop_table('ledger_entries')
    with op.batch_alter_table('de_minimis_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_de_minimis_grants_organisation_id'))

    op.drop_table('de_minimis_grants')
    with op.batch_alter_table('batch_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batch_items_batch_id'))
        batch_op.drop_index(batch_op.f('ix_batch_items_application_id'))

    op.drop_table('batch_items')
    with op.batch_alter_table('payment_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_batches_call_id'))

    op.drop_table('payment_batches')
    with op.batch_alter_table('bank_details_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_details_changes_organisation_id'))

    op.drop_table('bank_details_changes')
