"""PostgreSQL full-text search tables for SEARCH_BACKEND=postgres (PostgreSQL only).

Creates the text search configuration ``cairn`` (the default parser; Snowball English
stemming without stop words, so "an", "gk", "vs" and "nf2" stay searchable; hyphenated
compounds are indexed as their parts, like the Whoosh backend does), the ``search_documents``
table with its GIN index, and the ``search_terms`` word list used for "did you mean".

Optional extensions, each installed only if the connecting role may do so:
``unaccent`` (accents folded inside the configuration, which lets highlighting find "Ménière"
for "meniere"; the backend folds accents in Python anyway) and ``pg_trgm`` (the trigram index
behind spelling suggestions; without it the backend offers no suggestions).

On SQLite (and any other database) this revision does nothing; the models mark both tables
``postgres_only`` so that comparisons with the models skip them there.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 09:00:00.000000

"""
from alembic import context, op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_STEMMED_TOKENS = "asciiword, word, numword, hword_asciipart, hword_part, hword_numpart"


def _try_extension(name):
    """``CREATE EXTENSION IF NOT EXISTS name`` inside a savepoint; False if not allowed."""
    if context.is_offline_mode():  # an SQL script: the DBA runs it with enough rights
        op.execute(f"CREATE EXTENSION IF NOT EXISTS {name}")
        return True
    bind = op.get_bind()
    try:
        with bind.begin_nested():
            bind.exec_driver_sql(f"CREATE EXTENSION IF NOT EXISTS {name}")
    except sa.exc.DBAPIError:
        return False
    return True


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    unaccent = _try_extension("unaccent")
    trigram = _try_extension("pg_trgm")

    op.execute("CREATE TEXT SEARCH DICTIONARY cairn_stem (TEMPLATE = snowball, Language = english)")
    op.execute("CREATE TEXT SEARCH CONFIGURATION cairn (COPY = simple)")
    op.execute(
        f"ALTER TEXT SEARCH CONFIGURATION cairn ALTER MAPPING FOR {_STEMMED_TOKENS} "
        f"WITH {'unaccent, ' if unaccent else ''}cairn_stem"
    )
    # "post-op" is indexed as "post" and "op" only (its parts), never as one word.
    op.execute("ALTER TEXT SEARCH CONFIGURATION cairn DROP MAPPING FOR asciihword, hword, numhword")

    op.create_table('search_documents',
    sa.Column('post_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('thread_title', sa.Text(), nullable=False),
    sa.Column('thread_slug', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('author', sa.Text(), nullable=False),
    sa.Column('board_slug', sa.Text(), nullable=False),
    sa.Column('board_name', sa.Text(), nullable=False),
    sa.Column('members_only', sa.Boolean(), nullable=False),
    sa.Column('is_first_post', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('treatments', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('symptoms', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('conditions', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('tsv', postgresql.TSVECTOR(), nullable=False),
    sa.PrimaryKeyConstraint('post_id', name=op.f('pk_search_documents'))
    )
    # The tsvector is read for every phrase check and ranked post: keep it in the row (MAIN);
    # the body, read only for the page's snippets, is the first to go out of line (EXTERNAL).
    op.execute("ALTER TABLE search_documents ALTER COLUMN tsv SET STORAGE MAIN, ALTER COLUMN body SET STORAGE EXTERNAL")
    op.create_index('ix_search_documents_tsv', 'search_documents', ['tsv'], unique=False, postgresql_using='gin')

    op.create_table('search_terms',
    sa.Column('word', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('word', name=op.f('pk_search_terms'))
    )
    if trigram:
        op.create_index('ix_search_terms_word_trgm', 'search_terms', ['word'], unique=False, postgresql_using='gin', postgresql_ops={'word': 'gin_trgm_ops'})


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_table('search_terms')
    op.drop_table('search_documents')
    op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS cairn")
    op.execute("DROP TEXT SEARCH DICTIONARY IF EXISTS cairn_stem")
    # unaccent / pg_trgm stay installed: other schemas or tools may rely on them.
