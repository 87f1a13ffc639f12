"""Site state: one row whose generation changes with anything pages show about members and
boards (the page cache and the visitors' ETags are keyed by it).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 09:00:00

"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    site_state = op.create_table('site_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('generation', sa.BigInteger(), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_state'))
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    op.bulk_insert(site_state, [{'id': 1, 'generation': 0, 'changed_at': now}])


def downgrade():
    op.drop_table('site_state')
