"""Moderation and account safety: reports, suspensions and bans, posts held for approval,
single-use account tokens, email verification, deleted accounts, merged threads.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 06:24:13.783359

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _sqlite():
    return op.get_context().dialect.name == "sqlite"


def upgrade():
    # Single-use tokens behind the links in account emails (only a hash of the secret).
    op.create_table('account_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("purpose IN ('verify_email', 'reset_password', 'change_email')", name=op.f('ck_account_tokens_purpose_known')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_tokens'))
    )
    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_tokens_user_id'), ['user_id'], unique=False)

    # Suspensions and bans, with who, why and until when.
    op.create_table('suspensions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('moderator_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=True),
    sa.Column('lifted_at', sa.DateTime(), nullable=True),
    sa.Column('lifted_by_id', sa.Integer(), nullable=True),
    sa.Column('lift_reason', sa.Text(), nullable=False),
    sa.CheckConstraint("kind IN ('suspended', 'banned')", name=op.f('ck_suspensions_kind_known')),
    sa.ForeignKeyConstraint(['lifted_by_id'], ['users.id'], name=op.f('fk_suspensions_lifted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['moderator_id'], ['users.id'], name=op.f('fk_suspensions_moderator_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_suspensions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suspensions'))
    )
    with op.batch_alter_table('suspensions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_suspensions_user_id'), ['user_id'], unique=False)

    # New members' posts waiting for a moderator's approval.
    op.create_table('held_posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('board_id', sa.Integer(), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('is_update', sa.Boolean(), nullable=False),
    sa.Column('remind_after_months', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_held_posts_author_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['board_id'], ['boards.id'], name=op.f('fk_held_posts_board_id_boards'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], name=op.f('fk_held_posts_thread_id_threads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_held_posts'))
    )
    with op.batch_alter_table('held_posts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_held_posts_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_held_posts_board_id'), ['board_id'], unique=False)

    # Members' reports of posts and what moderators did about them.
    op.create_table('reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('handled_by_id', sa.Integer(), nullable=True),
    sa.Column('handled_at', sa.DateTime(), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=False),
    sa.CheckConstraint("status IN ('open', 'resolved', 'dismissed')", name=op.f('ck_reports_status_known')),
    sa.ForeignKeyConstraint(['handled_by_id'], ['users.id'], name=op.f('fk_reports_handled_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_reports_post_id_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], name=op.f('fk_reports_reporter_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_post_id'), ['post_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_reporter_id'), ['reporter_id'], unique=False)
        batch_op.create_index('ix_reports_status_created', ['status', 'created_at'], unique=False)

    # New columns on users and threads. On SQLite they are added in place with ALTER TABLE:
    # a batch rebuild of these tables would trip over (or, through ON DELETE CASCADE, run
    # through) the foreign keys that point at them in a populated database.
    # A merged thread points at the thread it went into.
    op.add_column('threads', sa.Column('merged_into_id', sa.Integer(), nullable=True))

    # Members: verified email, current suspension or ban, account deletion.
    op.add_column('users', sa.Column('email_verified_at', sa.DateTime(), nullable=True))
    if _sqlite():
        op.execute(
            "ALTER TABLE users ADD COLUMN restriction VARCHAR(10) CONSTRAINT ck_users_restriction_known "
            "CHECK (restriction IS NULL OR restriction IN ('suspended', 'banned'))"
        )
    else:
        op.add_column('users', sa.Column('restriction', sa.String(length=10), nullable=True))
        op.create_check_constraint(
            'restriction_known', 'users', "restriction IS NULL OR restriction IN ('suspended', 'banned')"
        )
    op.add_column('users', sa.Column('restricted_until', sa.DateTime(), nullable=True))
    op.add_column('users', sa.Column('deleted_at', sa.DateTime(), nullable=True))


def downgrade():
    users_columns = ('deleted_at', 'restricted_until', 'restriction', 'email_verified_at')
    if not _sqlite():
        op.drop_constraint(op.f('ck_users_restriction_known'), 'users', type_='check')
        for column in users_columns:
            op.drop_column('users', column)
        op.drop_column('threads', 'merged_into_id')
    else:
        # In place (ALTER TABLE DROP COLUMN, SQLite 3.35+), for the reason above; unless a later
        # batch rebuild of users turned the CHECK into a table constraint, which only a rebuild
        # can remove (SQLite then refuses to drop the column).
        bind = op.get_bind()
        try:
            with bind.begin_nested():
                for column in users_columns:
                    bind.exec_driver_sql(f"ALTER TABLE users DROP COLUMN {column}")
        except sa.exc.OperationalError:
            with op.batch_alter_table('users', recreate='always') as batch_op:
                batch_op.drop_constraint(op.f('ck_users_restriction_known'), type_='check')
                for column in users_columns:
                    batch_op.drop_column(column)
        op.execute("ALTER TABLE threads DROP COLUMN merged_into_id")

    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_status_created')
        batch_op.drop_index(batch_op.f('ix_reports_reporter_id'))
        batch_op.drop_index(batch_op.f('ix_reports_post_id'))

    op.drop_table('reports')
    with op.batch_alter_table('held_posts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_held_posts_board_id'))
        batch_op.drop_index(batch_op.f('ix_held_posts_author_id'))

    op.drop_table('held_posts')
    with op.batch_alter_table('suspensions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suspensions_user_id'))

    op.drop_table('suspensions')
    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_tokens_user_id'))

    op.drop_table('account_tokens')
