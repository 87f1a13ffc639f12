"""Private conversations between two or more members, and members' blocks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.base import utcnow


class Conversation(db.Model):
    """Never indexed, never in feeds: only participants read it (moderators once reported)."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Messages take positions 0, 1, 2, … like posts do.
    next_position: Mapped[int] = mapped_column(Integer, default=0)
    # A participant's report lets moderators read the conversation.
    reported_at: Mapped[datetime | None] = mapped_column(DateTime)
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    report_reason: Mapped[str] = mapped_column(Text, default="")

    author = relationship("User", foreign_keys=[author_id], lazy="raise")
    reported_by = relationship("User", foreign_keys=[reported_by_id], lazy="raise")

    @property
    def message_count(self) -> int:
        return self.next_position

    @property
    def last_position(self) -> int:
        return self.next_position - 1


class ConversationParticipant(db.Model):
    __tablename__ = "conversation_participants"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # The highest message position this member has seen; -1 for none.
    last_read_position: Mapped[int] = mapped_column(Integer, default=-1)
    joined_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(DateTime)

    user = relationship("User", lazy="raise")


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "position", name="uq_messages_conversation_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    # Rendered by forum.text.markup.render_markdown, the one sanitizing path.
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    author = relationship("User", lazy="raise")


class MemberBlock(db.Model):
    """``user`` blocked ``blocked``: they can no longer message or notify ``user``."""

    __tablename__ = "member_blocks"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    blocked_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    blocked = relationship("User", foreign_keys=[blocked_id], lazy="raise")
