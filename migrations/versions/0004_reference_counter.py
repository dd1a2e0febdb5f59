"""reference numbers from a counter per voucher type; the time zone is configuration

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('call_voucher_types', schema=None) as batch_op:
        batch_op.add_column(sa.Column('references_issued', sa.Integer(), server_default='0',
                                      nullable=False))
    # Carry on numbering after the references already issued.
    op.execute(
        "UPDATE call_voucher_types SET references_issued = (SELECT count(*) FROM applications "
        "WHERE applications.call_voucher_type_id = call_voucher_types.id)"
    )
    # PROGRAMME_TIMEZONE is the one time zone pages, forms and the workbook use.
    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.drop_column('timezone')


def downgrade():
    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=False,
                                      server_default='Europe/Brussels'))
    with op.batch_alter_table('call_voucher_types', schema=None) as batch_op:
        batch_op.drop_column('references_issued')
