"""The PostgreSQL search backend's storage: one row per indexed post, plus a word list.

Only ``forum.search.postgres_backend`` reads or writes these tables; everything else goes
through the :class:`forum.search.backend.SearchBackend` protocol.

**PostgreSQL only.**  Both tables use PostgreSQL types (``tsvector``, text arrays, GIN
indexes) and exist only there: migration ``0003`` returns early on any other database.  They
are marked with ``info={"postgres_only": True}``; the two places that compare models with a
database -- ``migrations/env.py`` (autogenerate) and ``tests/integration/test_migrations.py``
(which runs on SQLite) -- leave tables carrying that flag out of the comparison unless the
database is PostgreSQL.  A flag on the table, rather than a naming rule, keeps the exception
visible where the table is defined and costs nothing to reuse for another table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db

POSTGRES_ONLY = {"postgres_only": True}


class SearchDocument(db.Model):
    """A post as the PostgreSQL backend indexes it (a copy of ``SearchDoc``).

    ``tsv`` holds the analysed text (text search configuration ``cairn``: Snowball English
    stemming, no stop words) with weights: thread title A, body B, outcome summary C, and D
    for short words written in capitals ("AN", "VS"), stored as ``'an!'`` so that only
    synonym expansion can reach them.  ``thread_title`` and ``body`` are kept as written, for
    the results page and highlighted snippets.
    """

    __tablename__ = "search_documents"
    __table_args__ = (
        # Deliberately the only index besides the primary key: a b-tree on created_at or
        # thread_id tempts the planner into walking it and reading every post's tsvector.
        Index("ix_search_documents_tsv", "tsv", postgresql_using="gin"),
        {"info": POSTGRES_ONLY},
    )

    post_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    thread_id: Mapped[int] = mapped_column(Integer)
    thread_title: Mapped[str] = mapped_column(Text)
    thread_slug: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(Text)
    board_slug: Mapped[str] = mapped_column(Text)
    board_name: Mapped[str] = mapped_column(Text)
    members_only: Mapped[bool] = mapped_column(Boolean)
    is_first_post: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(10))
    outcome: Mapped[str | None] = mapped_column(String(20))
    treatments: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    symptoms: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    conditions: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    tsv: Mapped[str] = mapped_column(TSVECTOR)


class SearchTerm(db.Model):
    """Every word (folded, unstemmed, letters only) seen in indexed posts, for "did you mean".

    Filled as posts are added, emptied by a rebuild; words of deleted posts linger until the
    next rebuild, which is harmless (candidates are counted against ``search_documents``).
    The trigram index exists only when the ``pg_trgm`` extension could be installed.
    """

    __tablename__ = "search_terms"
    __table_args__ = (
        Index(
            "ix_search_terms_word_trgm",
            "word",
            postgresql_using="gin",
            postgresql_ops={"word": "gin_trgm_ops"},
        ),
        {"info": POSTGRES_ONLY},
    )

    word: Mapped[str] = mapped_column(Text, primary_key=True)
