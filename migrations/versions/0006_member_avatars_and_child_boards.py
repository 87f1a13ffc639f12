"""Members' avatar URLs (imported from SMF or set in account settings) and child boards
(SMF's ``id_parent``: a board listed under its parent board).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 08:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('avatar_url', sa.String(length=500), nullable=True))

    with op.batch_alter_table('boards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_boards_parent_id'), ['parent_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_boards_parent_id_boards'), 'boards',
                                    ['parent_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('boards', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_boards_parent_id_boards'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_boards_parent_id'))
        batch_op.drop_column('parent_id')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('avatar_url')
