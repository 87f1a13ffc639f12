"""Indexes for the thread page: a poster's updates (posts by author and is_update) and a
board's latest threads (threads by board and last post), so neither reads whole tables.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21 09:50:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.create_index('ix_posts_author_update', ['author_id', 'is_update'], unique=False)
    with op.batch_alter_table('threads', schema=None) as batch_op:
        batch_op.create_index(
            'ix_threads_board_activity', ['board_id', 'last_post_at'], unique=False
        )


def downgrade():
    with op.batch_alter_table('threads', schema=None) as batch_op:
        batch_op.drop_index('ix_threads_board_activity')
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_index('ix_posts_author_update')
