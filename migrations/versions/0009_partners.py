"""partners: the consortium's agencies, regions, currencies, rates and partner reports

Revision ID: 0009
Revises: 0008
"""
import warnings

from alembic import op
import sqlalchemy as sa

from vouchers.models.base import Money, UTCDateTime

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_EXPRESSION_INDEX = "Skipped unsupported reflection of expression-based"
_RATE = sa.Numeric(18, 6)


def upgrade():
    op.create_table(
        'partners',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('programme_id', sa.Integer(), sa.ForeignKey('programmes.id'), nullable=False),
        sa.Column('name', sa.String(200), nullable=False),
        sa.Column('country', sa.String(2), nullable=False),
        sa.Column('currency', sa.String(3), nullable=False),
        sa.Column('is_lead', sa.Boolean(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.UniqueConstraint('programme_id', 'name', name='uq_partners_programme_name'),
        sa.CheckConstraint('length(currency) = 3', name=op.f('ck_partners_currency_code')),
    )
    op.create_index('ix_partners_programme_id', 'partners', ['programme_id'])
    op.create_index('uq_partners_one_lead', 'partners', ['programme_id'], unique=True,
                    postgresql_where=sa.text('is_lead'), sqlite_where=sa.text('is_lead'))
    op.create_table(
        'partner_regions',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('partner_id', sa.Integer(), sa.ForeignKey('partners.id'), nullable=False),
        sa.Column('programme_id', sa.Integer(), sa.ForeignKey('programmes.id'), nullable=False),
        sa.Column('country', sa.String(2), nullable=False),
        sa.Column('region', sa.String(200), nullable=False),
        sa.Column('region_key', sa.String(200), nullable=False),
        sa.Column('nuts_code', sa.String(5), nullable=False),
        sa.UniqueConstraint('programme_id', 'country', 'region_key',
                            name='uq_partner_regions_region'),
    )
    op.create_index('ix_partner_regions_partner_id', 'partner_regions', ['partner_id'])
    op.create_table(
        'partner_shares',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('partner_id', sa.Integer(), sa.ForeignKey('partners.id'), nullable=False),
        sa.Column('call_voucher_type_id', sa.Integer(), sa.ForeignKey('call_voucher_types.id'),
                  nullable=False),
        sa.Column('envelope', Money(), nullable=False),
        sa.Column('committed', Money(), nullable=False),
        sa.UniqueConstraint('partner_id', 'call_voucher_type_id', name='uq_partner_shares_type'),
        sa.CheckConstraint('envelope >= 0', name=op.f('ck_partner_shares_share_not_negative')),
        sa.CheckConstraint('committed >= 0 AND committed <= envelope',
                           name=op.f('ck_partner_shares_committed_in_share')),
    )
    op.create_table(
        'exchange_rates',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('month', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(3), nullable=False),
        sa.Column('currency_name', sa.String(80), nullable=False),
        sa.Column('country', sa.String(80), nullable=False),
        sa.Column('units_per_eur', _RATE, nullable=False),
        sa.Column('imported_at', UTCDateTime(), nullable=False),
        sa.UniqueConstraint('year', 'month', 'currency', name='uq_exchange_rates_month'),
        sa.CheckConstraint('units_per_eur > 0', name=op.f('ck_exchange_rates_rate_positive')),
        sa.CheckConstraint('month >= 1 AND month <= 12', name=op.f('ck_exchange_rates_month_known')),
    )
    op.create_table(
        'partner_reports',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('partner_id', sa.Integer(), sa.ForeignKey('partners.id'), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('status', sa.String(10), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('submitted_at', UTCDateTime(), nullable=True),
        sa.Column('submitted_by_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=True),
        sa.UniqueConstraint('partner_id', 'number', name='uq_partner_reports_number'),
        sa.CheckConstraint('period_end >= period_start', name=op.f('ck_partner_reports_period_ordered')),
        sa.CheckConstraint("status IN ('draft', 'submitted')",
                           name=op.f('ck_partner_reports_status_known')),
        sa.CheckConstraint("status = 'draft' OR submitted_at IS NOT NULL",
                           name=op.f('ck_partner_reports_submitted_has_time')),
    )
    op.create_index('ix_partner_reports_partner_id', 'partner_reports', ['partner_id'])
    op.create_table(
        'expenditure_lines',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('report_id', sa.Integer(), sa.ForeignKey('partner_reports.id'), nullable=False),
        sa.Column('ledger_entry_id', sa.Integer(), sa.ForeignKey('ledger_entries.id'),
                  nullable=False, unique=True),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('cost_category', sa.String(60), nullable=False),
        sa.Column('internal_reference', sa.String(60), nullable=False),
        sa.Column('invoice_number', sa.String(60), nullable=False),
        sa.Column('invoice_date', sa.Date(), nullable=True),
        sa.Column('paid_on', sa.Date(), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('total_value', Money(), nullable=False),
        sa.Column('vat', Money(), nullable=False),
        sa.Column('declared_amount', Money(), nullable=False),
        sa.Column('currency', sa.String(3), nullable=False),
        sa.Column('rate', _RATE, nullable=False),
        sa.Column('declared_eur', Money(), nullable=False),
        sa.CheckConstraint('rate > 0', name=op.f('ck_expenditure_lines_rate_positive')),
    )
    op.create_index('ix_expenditure_lines_report_id', 'expenditure_lines', ['report_id'])
    op.create_index('ix_expenditure_lines_report_position', 'expenditure_lines',
                    ['report_id', 'position'])

    # Plain add_column, never a batch copy: on SQLite a copy of users drops the
    # expression index uq_users_email_lower.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", _EXPRESSION_INDEX)
        _add_partner_column('users')
        op.create_index('ix_users_partner_id', 'users', ['partner_id'])
        _add_partner_column('applications')
        _add_partner_column('invitations')
        op.add_column('applications', sa.Column('currency', sa.String(3), nullable=False,
                                                server_default='EUR'))
        op.add_column('applications', sa.Column('publication_consent', sa.Boolean(),
                                                nullable=False, server_default=sa.false()))
        op.create_index('ix_applications_partner_state', 'applications',
                        ['partner_id', 'state'])
        op.add_column('programmes', sa.Column('rate_rule', sa.String(12), nullable=False,
                                              server_default='submission'))
        op.add_column('calls', sa.Column('evaluators_from_other_partners', sa.Boolean(),
                                         nullable=False, server_default=sa.false()))
        for table in ('final_reports', 'payments'):
            op.add_column(table, sa.Column('currency', sa.String(3), nullable=False,
                                           server_default='EUR'))
            op.add_column(table, sa.Column('rate', _RATE, nullable=True))
        op.add_column('final_reports', sa.Column('costs_in_currency', Money(), nullable=True))
        op.add_column('payments', sa.Column('amount_in_currency', Money(), nullable=True))
        op.add_column('payments', sa.Column('rate_year', sa.Integer(), nullable=True))
        op.add_column('payments', sa.Column('rate_month', sa.Integer(), nullable=True))
        if op.get_context().dialect.name != 'sqlite':
            op.create_check_constraint(op.f('ck_programmes_rate_rule_known'), 'programmes',
                                       "rate_rule IN ('submission', 'payment')")


def _add_partner_column(table):
    # users, applications and invitations: each may name the partner it belongs to.
    name = f'fk_{table}_partner_id_partners'
    if op.get_context().dialect.name == 'sqlite':
        # SQLite adds a column with its reference in one ALTER (Alembic would ask for a
        # batch copy to add the constraint apart).
        op.execute(f'ALTER TABLE {table} ADD COLUMN partner_id INTEGER '
                   f'CONSTRAINT {name} REFERENCES partners (id)')
        return
    op.add_column(table, sa.Column('partner_id', sa.Integer(),
                                   sa.ForeignKey('partners.id', name=name), nullable=True))


def downgrade():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", _EXPRESSION_INDEX)
        if op.get_context().dialect.name != 'sqlite':
            op.drop_constraint(op.f('ck_programmes_rate_rule_known'), 'programmes')
            op.drop_constraint('fk_applications_partner_id_partners', 'applications')
            op.drop_constraint('fk_users_partner_id_partners', 'users')
            op.drop_constraint('fk_invitations_partner_id_partners', 'invitations')
        for table, column in (('payments', 'rate_month'), ('payments', 'rate_year'),
                              ('payments', 'amount_in_currency'),
                              ('final_reports', 'costs_in_currency'),
                              ('payments', 'rate'), ('payments', 'currency'),
                              ('final_reports', 'rate'), ('final_reports', 'currency'),
                              ('calls', 'evaluators_from_other_partners'),
                              ('programmes', 'rate_rule')):
            op.drop_column(table, column)
        op.drop_index('ix_applications_partner_state', 'applications')
        for column in ('publication_consent', 'currency', 'partner_id'):
            op.drop_column('applications', column)
        op.drop_column('invitations', 'partner_id')
        op.drop_index('ix_users_partner_id', 'users')
        op.drop_column('users', 'partner_id')
    for table in ('expenditure_lines', 'partner_reports', 'exchange_rates', 'partner_shares',
                  'partner_regions', 'partners'):
        op.drop_table(table)
