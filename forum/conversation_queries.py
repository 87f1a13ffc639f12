"""The read side of private conversations: each page in a fixed number of queries.

Private conversations are read only here and in ``forum.services.messages``: nothing else (search,
feeds, sitemaps, public pages) ever selects from them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased, joinedload

from forum import policies
from forum.inbox_queries import check_page, pages_for
from forum.models import Conversation, ConversationParticipant, MemberBlock, Message, User
from forum.services.errors import NotFound


@dataclass
class ConversationRow:
    conversation: Conversation
    participant: ConversationParticipant
    others: list[str]

    @property
    def unread(self) -> bool:
        return self.conversation.last_position > self.participant.last_read_position

    @property
    def first_unread_position(self) -> int:
        return self.participant.last_read_position + 1


@dataclass
class ConversationsPage:
    rows: list[ConversationRow]
    page: int
    pages: int


def conversations_page(session: Session, user: User, page: int, per_page: int) -> ConversationsPage:
    """The member's conversations, latest first, with the other members' names: three queries."""
    mine = and_(
        ConversationParticipant.user_id == user.id, ConversationParticipant.left_at.is_(None)
    )
    total = (
        session.scalar(select(func.count()).select_from(ConversationParticipant).where(mine)) or 0
    )
    pages = pages_for(total, per_page)
    check_page(page, pages)
    rows = session.execute(
        select(Conversation, ConversationParticipant)
        .join(ConversationParticipant, ConversationParticipant.conversation_id == Conversation.id)
        .where(mine)
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    names: dict[int, list[str]] = {c.id: [] for c, _ in rows}
    if names:
        for conversation_id, username in session.execute(
            select(ConversationParticipant.conversation_id, User.username)
            .join(User, User.id == ConversationParticipant.user_id)
            .where(
                ConversationParticipant.conversation_id.in_(names),
                ConversationParticipant.user_id != user.id,
            )
            .order_by(User.username_key)
        ):
            names[conversation_id].append(username)
    return ConversationsPage([ConversationRow(c, p, names[c.id]) for c, p in rows], page, pages)


@dataclass
class ConversationPage:
    conversation: Conversation
    participant: ConversationParticipant | None  # the viewer's, when they take part
    participants: list[ConversationParticipant]
    messages: list[Message]
    page: int
    pages: int
    # Messages after this position show as new (the viewer's mark before this view).
    unread_after: int = 2**31

    @property
    def advance_to(self) -> int | None:
        """The view moves the viewer's read mark here (participants only)."""
        if self.participant is None or self.participant.left_at or not self.messages:
            return None
        last = self.messages[-1].position
        return last if last > self.participant.last_read_position else None


def conversation_page(
    session: Session, viewer, conversation_id: int, page: int | None, per_page: int
) -> ConversationPage:
    """A conversation for a participant (or a moderator once reported): three queries.

    ``page`` None opens the page with the viewer's first unread message.
    """
    row = session.execute(
        select(Conversation, ConversationParticipant)
        .options(joinedload(Conversation.reported_by))
        .outerjoin(
            ConversationParticipant,
            and_(
                ConversationParticipant.conversation_id == Conversation.id,
                ConversationParticipant.user_id == viewer.id,
            ),
        )
        .where(Conversation.id == conversation_id)
    ).first()
    if row is None or not policies.can_read_conversation(viewer, row[0], row[1]):
        raise NotFound("There is no conversation at that address.")
    conversation, participant = row
    pages = pages_for(conversation.next_position, per_page)
    if page is None:
        unread_from = participant.last_read_position + 1 if participant else 0
        page = min(unread_from // per_page + 1, pages)
    check_page(page, pages)
    participants = list(
        session.scalars(
            select(ConversationParticipant)
            .options(joinedload(ConversationParticipant.user))
            .where(ConversationParticipant.conversation_id == conversation.id)
            .order_by(ConversationParticipant.joined_at, ConversationParticipant.user_id)
        )
    )
    messages = list(
        session.scalars(
            select(Message)
            .options(joinedload(Message.author))
            .where(
                Message.conversation_id == conversation.id,
                Message.position >= (page - 1) * per_page,
                Message.position < page * per_page,
            )
            .order_by(Message.position)
        )
    )
    if participant is not None and participant.left_at is not None:
        participant = None  # a moderator who once took part and left reads as a moderator
    unread_after = participant.last_read_position if participant is not None else 2**31
    return ConversationPage(
        conversation, participant, participants, messages, page, pages, unread_after
    )


def load_conversation(
    session: Session, viewer, conversation_id: int
) -> tuple[Conversation, ConversationParticipant | None]:
    """For the write actions: the conversation and the viewer's participation (one query)."""
    row = session.execute(
        select(Conversation, ConversationParticipant)
        .outerjoin(
            ConversationParticipant,
            and_(
                ConversationParticipant.conversation_id == Conversation.id,
                ConversationParticipant.user_id == viewer.id,
            ),
        )
        .where(Conversation.id == conversation_id)
    ).first()
    if row is None or not policies.can_read_conversation(viewer, row[0], row[1]):
        raise NotFound("There is no conversation at that address.")
    return row[0], row[1]


def reported_conversations(session: Session) -> list[tuple[Conversation, str | None]]:
    """For moderators: the conversations a participant reported, newest report first."""
    reporter = aliased(User)
    return [
        (c, name)
        for c, name in session.execute(
            select(Conversation, reporter.username)
            .outerjoin(reporter, reporter.id == Conversation.reported_by_id)
            .where(Conversation.reported_at.is_not(None))
            .order_by(Conversation.reported_at.desc())
        )
    ]


def blocked_members(session: Session, user: User) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(MemberBlock, MemberBlock.blocked_id == User.id)
            .where(MemberBlock.user_id == user.id)
            .order_by(User.username_key)
        )
    )
