"""invitations: the language the invitation is written in

Revision ID: 0015
Revises: 0014

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    # The invited person has no account yet, so no language of their own: the manager
    # chooses the invitation's (the mail's, and the new account's first). None: English,
    # as every invitation before this revision was written.
    op.add_column('invitations', sa.Column('language', sa.String(length=5), nullable=True))


def downgrade():
    op.drop_column('invitations', 'language')
