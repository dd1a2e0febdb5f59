"""privacy and follow-up: consent records, anonymisation dates, follow-up surveys

Revision ID: 0013
Revises: 0012

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('consent_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('given', sa.Boolean(), nullable=False),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('privacy_notice', 'submission', 'publication')", name=op.f('ck_consent_records_kind_known')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_consent_records_application_id_applications')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_consent_records_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_records'))
    )
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.create_index('ix_consent_records_application', ['application_id'], unique=False)
        batch_op.create_index('ix_consent_records_user', ['user_id', 'id'], unique=False)

    op.create_table('follow_up_surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('months', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('jobs_created', sa.Integer(), nullable=True),
    sa.Column('turnover_change', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('market_entry', sa.Boolean(), nullable=True),
    sa.Column('certification', sa.Boolean(), nullable=True),
    sa.Column('follow_on_investment', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.CheckConstraint('jobs_created IS NULL OR jobs_created >= 0', name=op.f('ck_follow_up_surveys_jobs_not_negative')),
    sa.CheckConstraint('months > 0', name=op.f('ck_follow_up_surveys_months_positive')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_follow_up_surveys_application_id_applications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_surveys')),
    sa.UniqueConstraint('application_id', 'months', name='uq_follow_up_surveys_application_months')
    )
    with op.batch_alter_table('follow_up_surveys', schema=None) as batch_op:
        batch_op.create_index('ix_follow_up_surveys_due', ['answered_at', 'due_on'], unique=False)

    # Plain ALTER TABLE ... ADD COLUMN (not batch): a batch copy on SQLite would lose the
    # users' expression index and the search triggers of organisations (0011).
    op.add_column('calls', sa.Column('follow_up_months', sa.JSON(), nullable=False,
                                     server_default='[]'))
    op.add_column('organisations', sa.Column('anonymised_at', sa.DateTime(timezone=True),
                                             nullable=True))
    op.add_column('users', sa.Column('anonymised_at', sa.DateTime(timezone=True),
                                     nullable=True))


def downgrade():
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+), keeping indexes and triggers.
    op.drop_column('users', 'anonymised_at')
    op.drop_column('organisations', 'anonymised_at')
    op.drop_column('calls', 'follow_up_months')
    with op.batch_alter_table('follow_up_surveys', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_surveys_due')
    op.drop_table('follow_up_surveys')
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_records_user')
        batch_op.drop_index('ix_consent_records_application')
    op.drop_table('consent_records')
