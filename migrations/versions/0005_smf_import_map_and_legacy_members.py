"""SMF import: the import map (old ids → new ids, kept for old links and resumable imports),
members' old login names and the pending review of an imported signature.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 07:05:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('import_map',
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('old_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('new_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('source', 'kind', 'old_id', name=op.f('pk_import_map'))
    )
    with op.batch_alter_table('import_map', schema=None) as batch_op:
        batch_op.create_index('ix_import_map_kind_old', ['kind', 'old_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legacy_member_name', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('signature_review_pending', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
        batch_op.create_index(batch_op.f('ix_users_legacy_member_name'), ['legacy_member_name'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_legacy_member_name'))
        batch_op.drop_column('signature_review_pending')
        batch_op.drop_column('legacy_member_name')

    with op.batch_alter_table('import_map', schema=None) as batch_op:
        batch_op.drop_index('ix_import_map_kind_old')

    op.drop_table('import_map')
