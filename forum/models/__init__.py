"""Cairn's data: typed SQLAlchemy models, one module per domain object."""

from forum.models.account_token import TOKEN_PURPOSES, AccountToken
from forum.models.base import utcnow
from forum.models.board import Board, BoardModerator, Category
from forum.models.conversation import Conversation, ConversationParticipant, MemberBlock, Message
from forum.models.held_post import HeldPost
from forum.models.history import EVENT_KINDS, SIDES, HistoryEvent
from forum.models.import_map import ImportMap
from forum.models.moderation import ModerationAction
from forum.models.notification import NOTIFICATION_KINDS, Notification
from forum.models.outbox import OutboxMail
from forum.models.post import Post, PostRevision
from forum.models.read_mark import BoardReadMark, ReadMark
from forum.models.reminder import UpdateReminder
from forum.models.report import REPORT_STATUSES, Report
from forum.models.search_document import SearchDocument, SearchTerm  # noqa: F401 (tables)
from forum.models.search_queue import SearchQueueEntry
from forum.models.site_state import SiteState
from forum.models.suspension import RESTRICTIONS, Suspension
from forum.models.thread import OUTCOMES, TAG_KINDS, Thread, ThreadTag
from forum.models.user import EMAIL_MODES, ROLES, VISIBILITIES, User
from forum.models.watch import BoardWatch, ThreadWatch

__all__ = [
    "EMAIL_MODES",
    "EVENT_KINDS",
    "NOTIFICATION_KINDS",
    "OUTCOMES",
    "REPORT_STATUSES",
    "RESTRICTIONS",
    "ROLES",
    "SIDES",
    "TAG_KINDS",
    "TOKEN_PURPOSES",
    "VISIBILITIES",
    "AccountToken",
    "Board",
    "BoardModerator",
    "BoardReadMark",
    "BoardWatch",
    "Category",
    "Conversation",
    "ConversationParticipant",
    "HeldPost",
    "HistoryEvent",
    "ImportMap",
    "MemberBlock",
    "Message",
    "ModerationAction",
    "Notification",
    "OutboxMail",
    "Post",
    "PostRevision",
    "ReadMark",
    "Report",
    "SearchQueueEntry",
    "SiteState",
    "Suspension",
    "Thread",
    "ThreadTag",
    "ThreadWatch",
    "UpdateReminder",
    "User",
    "utcnow",
]
