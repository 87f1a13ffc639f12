"""Members and their roles."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db
from forum.models.base import utcnow

ROLES = ("member", "moderator", "admin")
VISIBILITIES = ("public", "members", "private")


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('member', 'moderator', 'admin')", name="role_known"),
        CheckConstraint(
            "history_visibility IN ('public', 'members', 'private')", name="visibility_known"
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
    role: Mapped[str] = mapped_column(String(16), default="member")
    custom_title: Mapped[str] = mapped_column(String(60), default="")
    signature: Mapped[str] = mapped_column(Text, default="")
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
