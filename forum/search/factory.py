"""Choosing and building the configured search backend (``SEARCH_BACKEND``)."""

from __future__ import annotations

from flask import Flask, current_app

from forum.search.backend import SearchBackend
from forum.vocabulary import Vocabulary

EXTENSION_KEY = "cairn_search"


def _lookup(vocabulary: Vocabulary):
    def lookup(kind: str, text: str) -> str | None:
        term = vocabulary.lookup(kind, text)
        return term.slug if term else None

    return lookup


def build_backend(app: Flask, vocabulary: Vocabulary) -> SearchBackend:
    name = app.config["SEARCH_BACKEND"]
    if name == "whoosh":
        from forum.search.whoosh_backend import WhooshBackend

        return WhooshBackend(
            app.config["SEARCH_INDEX_DIR"],
            synonyms=vocabulary.synonym_groups(),
            vocabulary_lookup=_lookup(vocabulary),
        )
    if name == "postgres":
        from forum.extensions import db
        from forum.search.postgres_backend import PostgresBackend

        with app.app_context():
            engine = db.engine  # the app's pool; the backend takes its own connections
        if engine.dialect.name != "postgresql":
            raise ValueError("SEARCH_BACKEND=postgres needs a PostgreSQL DATABASE_URL")
        return PostgresBackend(
            engine, synonyms=vocabulary.synonym_groups(), vocabulary_lookup=_lookup(vocabulary)
        )
    raise ValueError(f"SEARCH_BACKEND must be 'whoosh' or 'postgres', not {name!r}")


def search_backend() -> SearchBackend:
    """The app's backend, built on first use (so commands like ``db upgrade`` never open it)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    backend = app.extensions.get(EXTENSION_KEY)
    if backend is None:
        from forum import current_vocabulary

        backend = app.extensions[EXTENSION_KEY] = build_backend(app, current_vocabulary())
    return backend
