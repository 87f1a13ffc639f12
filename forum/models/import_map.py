"""Where imported rows went: (source, kind, old id) → new id, kept after an import.

It makes imports idempotent and resumable (whatever is mapped is skipped) and answers old
links (``index.php?topic=12.0``) long after the import.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db

IMPORT_KINDS = ("category", "board", "member", "topic", "message", "pm_head", "pm")


class ImportMap(db.Model):
    __tablename__ = "import_map"
    __table_args__ = (Index("ix_import_map_kind_old", "kind", "old_id"),)

    # Which forum the row came from, e.g. "smf" (several imports can live side by side).
    source: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    old_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    new_id: Mapped[int] = mapped_column(Integer)
