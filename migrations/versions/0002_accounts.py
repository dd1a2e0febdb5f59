"""accounts: invitations for evaluators and managers, failed logins for throttling

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 22:10:12.918740

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('failed_logins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_failed_logins'))
    )
    with op.batch_alter_table('failed_logins', schema=None) as batch_op:
        batch_op.create_index('ix_failed_logins_address_at', ['address', 'attempted_at'], unique=False)
        batch_op.create_index('ix_failed_logins_attempted_at', ['attempted_at'], unique=False)
        batch_op.create_index('ix_failed_logins_email_at', ['email', 'attempted_at'], unique=False)

    op.create_table('invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("role IN ('evaluator', 'manager')", name=op.f('ck_invitations_role_invitable')),
    sa.CheckConstraint('expires_at > created_at', name=op.f('ck_invitations_expires_after_creation')),
    sa.CheckConstraint('used_at IS NULL OR user_id IS NOT NULL', name=op.f('ck_invitations_used_has_user')),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_invitations_invited_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_invitations_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitations_token_hash'))
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitations_email'), ['email'], unique=False)


def downgrade():
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitations_email'))

    op.drop_table('invitations')
    with op.batch_alter_table('failed_logins', schema=None) as batch_op:
        batch_op.drop_index('ix_failed_logins_email_at')
        batch_op.drop_index('ix_failed_logins_attempted_at')
        batch_op.drop_index('ix_failed_logins_address_at')

    op.drop_table('failed_logins')
