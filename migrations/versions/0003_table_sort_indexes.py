"""applications table: sort indexes carry the id tie-break; a narrow index for search

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def _replace(columns_by_index):
    with op.batch_alter_table('applications', schema=None) as batch_op:
        for name, columns in columns_by_index.items():
            batch_op.drop_index(name)
            batch_op.create_index(name, columns, unique=False)


def upgrade():
    _replace({
        'ix_applications_call_score': ['call_id', 'weighted_score', 'id'],
        'ix_applications_call_submitted': ['call_id', 'submitted_at', 'id'],
    })
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index('ix_applications_call_search',
                              ['call_id', 'reference', 'title', 'organisation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('ix_applications_call_search')
    _replace({
        'ix_applications_call_score': ['call_id', 'weighted_score'],
        'ix_applications_call_submitted': ['call_id', 'submitted_at'],
    })
