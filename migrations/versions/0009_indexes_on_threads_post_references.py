"""Indexes on the threads' references to posts (first, last and outcome post).

Deleting a post sets these to NULL (ON DELETE SET NULL), and both SQLite and PostgreSQL find
the referencing threads through an index on the column, or else read the whole table for
every deleted post. On SQLite the same search runs for every post inserted while a deferred
reference to a not-yet-inserted post is pending: building a synthetic forum of 300,000 posts
took 315 s instead of 17 s, and a million posts far longer.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21 13:05:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

COLUMNS = ('first_post_id', 'last_post_id', 'outcome_post_id')


def upgrade():
    with op.batch_alter_table('threads', schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.create_index(f'ix_threads_{column}', [column], unique=False)


def downgrade():
    with op.batch_alter_table('threads', schema=None) as batch_op:
        for column in reversed(COLUMNS):
            batch_op.drop_index(f'ix_threads_{column}')
