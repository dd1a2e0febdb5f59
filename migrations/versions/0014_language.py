"""languages: the language each user chose

Revision ID: 0014
Revises: 0013

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE ... ADD COLUMN (not batch): a batch copy on SQLite would lose the
    # users' expression index. None: the browser's preference decides (vouchers/i18n.py).
    op.add_column('users', sa.Column('language', sa.String(length=5), nullable=True))


def downgrade():
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+), keeping the indexes.
    op.drop_column('users', 'language')
