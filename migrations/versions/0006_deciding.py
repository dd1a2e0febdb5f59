"""deciding: eligibility rules per call, dated de minimis declarations, numbered versions,
conflict confirmations, thresholds, consensus scores

Revision ID: 0006
Revises: 0005
"""
import warnings

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_SME = '["micro", "small", "medium"]'
_EXPRESSION_INDEX = "Skipped unsupported reflection of expression-based"


def _money(name, **kw):
    return sa.Column(name, sa.Numeric(precision=12, scale=2), **kw)


def upgrade():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", _EXPRESSION_INDEX)
        _upgrade()


def _upgrade():
    op.add_column('programmes', sa.Column('regions', sa.JSON(), nullable=False,
                                          server_default='[]'))
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('eligible_regions', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('allowed_sizes', sa.JSON(), nullable=False,
                                      server_default=_SME))
        batch_op.add_column(sa.Column('max_applications_per_type', sa.Integer(),
                                      nullable=True, server_default='1'))
        batch_op.add_column(sa.Column('max_vouchers_per_sme', sa.Integer(), nullable=True))
        batch_op.add_column(_money('support_cap', nullable=True, server_default='60000.00'))
        batch_op.add_column(sa.Column('implementation_ends_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('divergence_share', sa.Numeric(precision=5, scale=4),
                                      nullable=False, server_default='0.30'))
        batch_op.add_column(sa.Column('extra_evaluator_on_divergence', sa.Boolean(),
                                      nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('lead_evaluator_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_calls_lead_evaluator_id_users'), 'users',
                                    ['lead_evaluator_id'], ['id'])
        batch_op.create_check_constraint(
            batch_op.f('ck_calls_max_applications_positive'),
            'max_applications_per_type IS NULL OR max_applications_per_type >= 1')
        batch_op.create_check_constraint(
            batch_op.f('ck_calls_max_vouchers_positive'),
            'max_vouchers_per_sme IS NULL OR max_vouchers_per_sme >= 1')
        batch_op.create_check_constraint(batch_op.f('ck_calls_support_cap_positive'),
                                         'support_cap IS NULL OR support_cap > 0')
        batch_op.create_check_constraint(batch_op.f('ck_calls_divergence_in_range'),
                                         'divergence_share > 0 AND divergence_share <= 1')
    # SQLite keeps money as whole cents (models.base.Money): the default above is text
    # for PostgreSQL's NUMERIC; store the cents there.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("UPDATE calls SET support_cap = 6000000")
    with op.batch_alter_table('call_voucher_types', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider_other_region', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('required_attachments', sa.JSON(), nullable=False,
                                      server_default='[]'))
        batch_op.add_column(_money('threshold', nullable=True))
        batch_op.create_check_constraint(batch_op.f('ck_call_voucher_types_threshold_not_negative'),
                                         'threshold IS NULL OR threshold >= 0')
    # The seed programme's network: validation services come from another region.
    op.execute("UPDATE call_voucher_types SET provider_other_region = true "
               "WHERE voucher_type IN ('market_validation', 'product_validation')")
    with op.batch_alter_table('criteria', schema=None) as batch_op:
        batch_op.add_column(sa.Column('minimum', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(batch_op.f('ck_criteria_minimum_not_negative'),
                                         'minimum IS NULL OR minimum >= 0')

    op.create_table(
        'aid_declarations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('granting_body', sa.String(length=200), nullable=False),
        sa.Column('granted_on', sa.Date(), nullable=False),
        _money('amount', nullable=False),
        sa.Column('declared_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('declared_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('amount > 0', name=op.f('ck_aid_declarations_aid_amount_positive')),
        sa.ForeignKeyConstraint(['declared_by_id'], ['users.id'],
                                name=op.f('fk_aid_declarations_declared_by_id_users')),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                                name=op.f('fk_aid_declarations_organisation_id_organisations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_aid_declarations')),
    )
    with op.batch_alter_table('aid_declarations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_aid_declarations_organisation_id'),
                              ['organisation_id'], unique=False)
    # The undated figure becomes one declaration dated when the company was entered:
    # the only date the system knows for it.
    # (SQLite keeps timestamps as text, whose first ten characters are the date.)
    day = ("substr(created_at, 1, 10)" if op.get_bind().dialect.name == 'sqlite'
           else "CAST(created_at AS DATE)")
    op.execute(
        "INSERT INTO aid_declarations (organisation_id, granting_body, granted_on, amount, "
        f"declared_at) SELECT id, 'Declared before dated declarations', {day}, "
        "de_minimis_declared, created_at FROM organisations WHERE de_minimis_declared > 0"
    )
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_organisations_declared_not_negative'), type_='check')
        batch_op.drop_constraint(op.f('ck_organisations_size_known'), type_='check')
        batch_op.drop_column('de_minimis_declared')
        batch_op.create_check_constraint(op.f('ck_organisations_size_known'),
                                         "size IN ('micro', 'small', 'medium', 'large')")

    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submission_number', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(_money('consensus_score', nullable=True))
        batch_op.add_column(sa.Column('divergent', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('fails_rules', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    # Every application submitted so far was submitted once as far as anyone can tell.
    op.execute("UPDATE applications SET submission_number = 1 WHERE submitted_at IS NOT NULL")
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=30), nullable=False,
                                      server_default='other'))
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('no_conflict_confirmed_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('reason', sa.String(length=20), nullable=False,
                                      server_default='manual'))
    # Those who reviewed already looked at the application: their confirmation is implied
    # by the review they submitted.
    op.execute("UPDATE assignments SET no_conflict_confirmed_at = assigned_at "
               "WHERE conflict_declared_at IS NULL AND EXISTS (SELECT 1 FROM reviews "
               "WHERE reviews.application_id = assignments.application_id "
               "AND reviews.evaluator_id = assignments.evaluator_id)")
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False,
                                      server_default='1'))
        batch_op.drop_constraint('uq_reviews_app_evaluator', type_='unique')
        batch_op.create_unique_constraint('uq_reviews_app_evaluator',
                                          ['application_id', 'evaluator_id', 'version'])

    op.create_table(
        'application_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('submitted_by_id', sa.Integer(), nullable=True),
        sa.Column('snapshot', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['application_id'], ['applications.id'],
                                name=op.f('fk_application_versions_application_id_applications')),
        sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'],
                                name=op.f('fk_application_versions_submitted_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_application_versions')),
        sa.UniqueConstraint('application_id', 'number', name='uq_application_versions_number'),
    )
    op.create_table(
        'eligibility_overrides',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('rule', sa.String(length=40), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('by_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['application_id'], ['applications.id'],
                                name=op.f('fk_eligibility_overrides_application_id_applications')),
        sa.ForeignKeyConstraint(['by_id'], ['users.id'],
                                name=op.f('fk_eligibility_overrides_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_eligibility_overrides')),
        sa.UniqueConstraint('application_id', 'rule', name='uq_eligibility_overrides_rule'),
    )
    op.create_table(
        'consensus',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        _money('weighted_score', nullable=True),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['application_id'], ['applications.id'],
                                name=op.f('fk_consensus_application_id_applications')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'],
                                name=op.f('fk_consensus_recorded_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_consensus')),
        sa.UniqueConstraint('application_id', 'version', name='uq_consensus_app_version'),
    )
    op.create_table(
        'consensus_scores',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('consensus_id', sa.Integer(), nullable=False),
        sa.Column('criterion_id', sa.Integer(), nullable=False),
        sa.Column('score', sa.Integer(), nullable=True),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.CheckConstraint('score IS NULL OR score >= 0',
                           name=op.f('ck_consensus_scores_consensus_score_not_negative')),
        sa.ForeignKeyConstraint(['consensus_id'], ['consensus.id'],
                                name=op.f('fk_consensus_scores_consensus_id_consensus')),
        sa.ForeignKeyConstraint(['criterion_id'], ['criteria.id'],
                                name=op.f('fk_consensus_scores_criterion_id_criteria')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_consensus_scores')),
        sa.UniqueConstraint('consensus_id', 'criterion_id', name='uq_consensus_scores_criterion'),
    )
    with op.batch_alter_table('consensus_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consensus_scores_consensus_id'), ['consensus_id'],
                              unique=False)


def downgrade():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", _EXPRESSION_INDEX)
        _downgrade()


def _downgrade():
    with op.batch_alter_table('consensus_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consensus_scores_consensus_id'))
    op.drop_table('consensus_scores')
    op.drop_table('consensus')
    op.drop_table('eligibility_overrides')
    op.drop_table('application_versions')
    # Reviews of later versions cannot keep a one-review-per-evaluator constraint.
    op.execute("DELETE FROM review_scores WHERE review_id IN (SELECT id FROM reviews r "
               "WHERE r.version < (SELECT max(version) FROM reviews s "
               "WHERE s.application_id = r.application_id AND s.evaluator_id = r.evaluator_id))")
    op.execute("DELETE FROM reviews WHERE version < (SELECT max(version) FROM reviews s "
               "WHERE s.application_id = reviews.application_id "
               "AND s.evaluator_id = reviews.evaluator_id)")
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_constraint('uq_reviews_app_evaluator', type_='unique')
        batch_op.create_unique_constraint('uq_reviews_app_evaluator',
                                          ['application_id', 'evaluator_id'])
        batch_op.drop_column('version')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_column('reason')
        batch_op.drop_column('no_conflict_confirmed_at')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_column('kind')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_column('fails_rules')
        batch_op.drop_column('divergent')
        batch_op.drop_column('consensus_score')
        batch_op.drop_column('submission_number')
    op.execute("UPDATE organisations SET size = 'medium' WHERE size = 'large'")
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(_money('de_minimis_declared', nullable=False, server_default='0'))
        batch_op.drop_constraint(op.f('ck_organisations_size_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_organisations_size_known'),
                                         "size IN ('micro', 'small', 'medium')")
        batch_op.create_check_constraint(op.f('ck_organisations_declared_not_negative'),
                                         'de_minimis_declared >= 0')
    op.execute("UPDATE organisations SET de_minimis_declared = COALESCE((SELECT sum(amount) "
               "FROM aid_declarations WHERE organisation_id = organisations.id), 0)")
    with op.batch_alter_table('aid_declarations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_aid_declarations_organisation_id'))
    op.drop_table('aid_declarations')
    with op.batch_alter_table('criteria', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_criteria_minimum_not_negative'), type_='check')
        batch_op.drop_column('minimum')
    with op.batch_alter_table('call_voucher_types', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_call_voucher_types_threshold_not_negative'),
                                 type_='check')
        batch_op.drop_column('threshold')
        batch_op.drop_column('required_attachments')
        batch_op.drop_column('provider_other_region')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        for name in ('divergence_in_range', 'support_cap_positive', 'max_vouchers_positive',
                     'max_applications_positive'):
            batch_op.drop_constraint(batch_op.f(f'ck_calls_{name}'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_calls_lead_evaluator_id_users'),
                                 type_='foreignkey')
        for name in ('lead_evaluator_id', 'extra_evaluator_on_divergence', 'divergence_share',
                     'implementation_ends_on', 'support_cap', 'max_vouchers_per_sme',
                     'max_applications_per_type', 'allowed_sizes', 'eligible_regions'):
            batch_op.drop_column(name)
    op.drop_column('programmes', 'regions')
