"""jobs: long work off the request path, with its progress and its file

Revision ID: 0010
Revises: 0009

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('queue_id', sa.String(length=64), nullable=False),
    sa.Column('file_path', sa.String(length=300), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('mimetype', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state != 'done' OR file_path != ''", name=op.f('ck_jobs_done_has_file')),
    sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed', 'expired')", name=op.f('ck_jobs_state_known')),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_jobs_progress_percent')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_jobs_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_requested_by_id'), ['requested_by_id'], unique=False)
        batch_op.create_index('ix_jobs_state_expires', ['state', 'expires_at'], unique=False)



def downgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_state_expires')
        batch_op.drop_index(batch_op.f('ix_jobs_requested_by_id'))

    op.drop_table('jobs')
