"""One row of site-wide state: the generation of what pages show about members and boards."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db
from forum.models.base import utcnow


class SiteState(db.Model):
    """A single row (``id`` 1), created by the migrations.

    ``generation`` goes up by one in the same transaction as any change to what a page shows
    about its authors or boards (names, signatures, avatars, treatment histories and who may see
    them, deleted and suspended accounts, board names and visibility): cached pages are keyed by
    it, so such a change reaches every app server at its commit. ``forum.services.site_state``
    bumps it.
    """

    __tablename__ = "site_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
