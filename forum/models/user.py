"""Members and their roles."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, DateTime, Integer, String, Text, false, true
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db
from forum.models.base import utcnow

ROLES = ("member", "moderator", "admin")
VISIBILITIES = ("public", "members", "private")
EMAIL_MODES = ("immediate", "daily", "never")
AVATAR_URL_MAX = 500


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('member', 'moderator', 'admin')", name="role_known"),
        CheckConstraint(
            "history_visibility IN ('public', 'members', 'private')", name="visibility_known"
        ),
        CheckConstraint("email_mode IN ('immediate', 'daily', 'never')", name="email_mode_known"),
        CheckConstraint(
            "restriction IS NULL OR restriction IN ('suspended', 'banned')",
            name="restriction_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    # Case-folded username: uniqueness and look-ups ignore case.
    username_key: Mapped[str] = mapped_column(String(80), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # A hash carried over from another forum (e.g. SMF), replaced at first successful login.
    legacy_password_hash: Mapped[str | None] = mapped_column(String(255))
    # The login name on the old forum: SMF's hashes are salted with it, and members may type it.
    legacy_member_name: Mapped[str | None] = mapped_column(String(80), index=True)
    # Imported members whose old signature read as a history: asked to keep, edit or discard.
    signature_review_pending: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    role: Mapped[str] = mapped_column(String(16), default="member")
    custom_title: Mapped[str] = mapped_column(String(60), default="")
    signature: Mapped[str] = mapped_column(Text, default="")
    # An http(s) URL of the member's picture (imported from SMF or set in account settings);
    # rendered small, lazy-loaded and without a referrer. NULL: the neutral placeholder.
    avatar_url: Mapped[str | None] = mapped_column(String(AVATAR_URL_MAX))
    history_visibility: Mapped[str] = mapped_column(String(10), default="members")
    profile_indexable: Mapped[bool] = mapped_column(Boolean, default=False)
    in_memoriam: Mapped[bool] = mapped_column(Boolean, default=False)
    memorial_line: Mapped[str] = mapped_column(String(120), default="")
    post_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_active_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Bumped to log out every session ("log out everywhere", password change).
    session_token: Mapped[str] = mapped_column(String(32), default="")
    anniversary_reminders: Mapped[bool] = mapped_column(Boolean, default=False)
    # Notification emails: each one at once, a daily digest, or none (unsubscribe sets "never").
    email_mode: Mapped[str] = mapped_column(
        String(10), default="immediate", server_default="immediate"
    )
    # Watch the threads one starts or replies to.
    auto_watch: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Set when the member followed the link we emailed to their current address.
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The member's current suspension or ban (the record is in ``suspensions``): "suspended"
    # or "banned", until ``restricted_until`` (NULL: until lifted). Ask ``forum.policies``.
    restriction: Mapped[str | None] = mapped_column(String(10))
    restricted_until: Mapped[datetime | None] = mapped_column(DateTime)
    # Set when the member deleted their account; the row stays for "former member" posts.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)

    @property
    def is_moderator(self) -> bool:
        """Global moderator or admin. Ask ``forum.policies`` for permission questions."""
        return self.role in ("moderator", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def __repr__(self) -> str:
        return f"<User {self.username}>"
