"""a report's status follows its application; change records; known login addresses

Revision ID: 0005
Revises: 0004
"""
import warnings

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    # The status is derived from the application's state (models.reporting.report_status).
    # SQLite rebuilds the table (the column is in a CHECK), reflecting the tables it refers
    # to; users' expression index cannot be reflected, and users is not rebuilt.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table('final_reports', schema=None) as batch_op:
            batch_op.drop_constraint(op.f('ck_final_reports_status_known'), type_='check')
            batch_op.drop_column('status')
    # Not a batch: rebuilding users on SQLite would lose its expression index.
    op.add_column('users', sa.Column('last_login_at', sa.DateTime(timezone=True),
                                     nullable=True))
    op.create_table(
        'known_addresses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_known_addresses_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_known_addresses')),
        sa.UniqueConstraint('user_id', 'address', name='uq_known_addresses_user_address'),
    )
    op.create_table(
        'change_records',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subject_type', sa.String(length=20), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=30), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'],
                                name=op.f('fk_change_records_actor_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_change_records')),
    )
    with op.batch_alter_table('change_records', schema=None) as batch_op:
        batch_op.create_index('ix_change_records_subject',
                              ['subject_type', 'subject_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('change_records', schema=None) as batch_op:
        batch_op.drop_index('ix_change_records_subject')
    op.drop_table('change_records')
    op.drop_table('known_addresses')
    op.drop_column('users', 'last_login_at')
    with warnings.catch_warnings(), op.batch_alter_table('final_reports') as batch_op:
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        batch_op.add_column(sa.Column('status', sa.String(length=10), nullable=False,
                                      server_default='draft'))
        batch_op.create_check_constraint(
            op.f('ck_final_reports_status_known'), "status IN ('draft', 'submitted', 'returned', 'approved')")
    op.execute(
        "UPDATE final_reports SET status = CASE (SELECT state FROM applications "
        "WHERE applications.id = final_reports.application_id) "
        "WHEN 'report_submitted' THEN 'submitted' WHEN 'completed' THEN 'approved' "
        "WHEN 'paid' THEN 'approved' "
        "ELSE CASE WHEN decided_at IS NULL THEN 'draft' ELSE 'returned' END END"
    )
