"""applications table: sort indexes carry the id tie-break

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


def downgrade():
    _replace({
        'ix_applications_call_score': ['call_id', 'weighted_score'],
        'ix_applications_call_submitted': ['call_id', 'submitted_at'],
    })
