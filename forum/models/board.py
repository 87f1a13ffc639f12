"""Categories group boards; boards hold threads."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db


class Category(db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer, default=0)

    boards: Mapped[list[Board]] = relationship(back_populates="category", order_by="Board.position")


class Board(db.Model):
    __tablename__ = "boards"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    # A child board (SMF's sub-boards) is listed under its parent; NULL for top-level boards.
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("boards.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(80))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    members_only: Mapped[bool] = mapped_column(Boolean, default=False)
    thread_count: Mapped[int] = mapped_column(Integer, default=0)
    post_count: Mapped[int] = mapped_column(Integer, default=0)
    last_post_id: Mapped[int | None] = mapped_column(
        ForeignKey(
            "posts.id", use_alter=True, ondelete="SET NULL", deferrable=True, initially="DEFERRED"
        )
    )

    category: Mapped[Category] = relationship(back_populates="boards")
    last_post = relationship("Post", foreign_keys=[last_post_id], lazy="raise")


class BoardModerator(db.Model):
    """A member who moderates one board without being a global moderator."""

    __tablename__ = "board_moderators"

    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
