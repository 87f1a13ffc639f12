"""Cairn's data: typed SQLAlchemy models, one module per domain object."""

from forum.models.base import utcnow
from forum.models.board import Board, BoardModerator, Category
from forum.models.history import EVENT_KINDS, SIDES, HistoryEvent
from forum.models.moderation import ModerationAction
from forum.models.post import Post, PostRevision
from forum.models.reminder import UpdateReminder
from forum.models.search_queue import SearchQueueEntry
from forum.models.thread import OUTCOMES, TAG_KINDS, Thread, ThreadTag
from forum.models.user import ROLES, VISIBILITIES, User

__all__ = [
    "EVENT_KINDS",
    "OUTCOMES",
    "ROLES",
    "SIDES",
    "TAG_KINDS",
    "VISIBILITIES",
    "Board",
    "BoardModerator",
    "Category",
    "HistoryEvent",
    "ModerationAction",
    "Post",
    "PostRevision",
    "SearchQueueEntry",
    "Thread",
    "ThreadTag",
    "UpdateReminder",
    "User",
    "utcnow",
]
