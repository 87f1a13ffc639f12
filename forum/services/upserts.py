"""``INSERT … ON CONFLICT`` for the two databases Cairn runs on (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy.orm import Session


def insert(session: Session, model):
    """The dialect's ``insert()``, which has ``on_conflict_do_update`` / ``…_do_nothing``."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(model)
