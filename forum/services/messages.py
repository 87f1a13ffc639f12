"""Private conversations: starting, replying, reading, leaving, reporting; blocking members.

Messages are Markdown rendered through the same sanitizer as posts. They are never queued for
the search index, and never appear in feeds, sitemaps or public pages. Moderators read a
conversation only after one of its participants reported it.
"""

from __future__ import annotations

import re

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from forum import policies
from forum.models import (
    Conversation,
    ConversationParticipant,
    MemberBlock,
    Message,
    Notification,
    User,
    utcnow,
)
from forum.services import notifications, validation
from forum.services.errors import NotFound, PermissionDenied, ValidationError
from forum.services.upserts import insert
from forum.text.markup import render_markdown

REPORT_REASON_MAX = 500
SUBJECT_MAX = 200


def parse_recipients(text: str) -> list[str]:
    """Usernames separated by commas or spaces, with or without a leading @; each once."""
    names: list[str] = []
    seen: set[str] = set()
    for raw in re.split(r"[,\s;]+", text or ""):
        name = raw.strip().lstrip("@")
        if name and validation.username_key(name) not in seen:
            seen.add(validation.username_key(name))
            names.append(name)
    return names


def start_conversation(
    session: Session,
    actor: User,
    to: str,
    subject: str,
    body: str,
    *,
    min_posts: int = 0,
    max_recipients: int = 10,
) -> Conversation:
    if not policies.is_member(actor):
        raise PermissionDenied("Log in to send private messages.")
    if not policies.can_send_messages(actor):
        raise PermissionDenied("While your account is suspended you can't send messages.")
    errors: dict[str, str] = {}
    names = [n for n in parse_recipients(to) if validation.username_key(n) != actor.username_key]
    recipients: list[User] = []
    if not names:
        errors["to"] = "Who is it for? Give at least one other member's username."
    elif len(names) > max_recipients:
        errors["to"] = f"A conversation can include at most {max_recipients} other members."
    else:
        # Only names that could be usernames reach the database (PostgreSQL refuses NUL bytes).
        keys = {validation.username_key(n): n for n in names if validation.USERNAME_RE.fullmatch(n)}
        unknown = [n for n in names if not validation.USERNAME_RE.fullmatch(n)]
        recipients = list(
            session.scalars(
                select(User).where(User.username_key.in_(keys), User.deleted_at.is_(None))
            )
        )
        missing = [keys[k] for k in sorted(set(keys) - {u.username_key for u in recipients})]
        if unknown:
            errors["to"] = (
                f"Some of those can't be usernames: usernames are {validation.USERNAME_RULE}."
            )
        elif missing:
            errors["to"] = "No member is called " + ", ".join(missing) + "."
    try:
        subject = validation.clean_line(subject, "subject", "The subject", SUBJECT_MAX)
        if not subject:
            errors["subject"] = "Please give the conversation a subject."
    except ValidationError as exc:
        errors.update(exc.errors)
    try:
        body = validation.clean_body(body)
    except ValidationError as exc:
        errors.update(exc.errors)
    if recipients and "to" not in errors:
        blockers = _blockers(session, actor, [u.id for u in recipients])
        if blockers:
            names_text = ", ".join(u.username for u in recipients if u.id in blockers)
            errors["to"] = f"You can't send messages to {names_text}."
        elif not policies.can_message_freely(actor, min_posts) and not all(
            policies.is_global_moderator(u) for u in recipients
        ):
            errors["to"] = (
                f"New members can start private conversations once they have written {min_posts} "
                "posts in the forum. Until then you can write to the moderators, and reply when "
                "someone writes to you."
            )
    if errors:
        raise ValidationError(errors)

    now = utcnow()
    conversation = Conversation(
        subject=subject, author_id=actor.id, created_at=now, last_message_at=now, next_position=1
    )
    session.add(conversation)
    session.flush()
    session.add(
        ConversationParticipant(
            conversation_id=conversation.id, user_id=actor.id, last_read_position=0, joined_at=now
        )
    )
    for user in recipients:
        session.add(
            ConversationParticipant(
                conversation_id=conversation.id,
                user_id=user.id,
                last_read_position=-1,
                joined_at=now,
            )
        )
    session.add(_message(conversation.id, actor, 0, body, now))
    _notify(session, actor, conversation, [u.id for u in recipients])
    session.commit()
    return conversation


def reply(
    session: Session,
    actor: User,
    conversation: Conversation,
    participant: ConversationParticipant | None,
    body: str,
) -> Message:
    if not policies.can_reply_conversation(actor, participant):
        if policies.is_active_participant(actor, participant):
            raise PermissionDenied("While your account is suspended you can't send messages.")
        raise PermissionDenied("You are not in this conversation.")
    body = validation.clean_body(body)
    others = list(
        session.scalars(
            select(ConversationParticipant.user_id).where(
                ConversationParticipant.conversation_id == conversation.id,
                ConversationParticipant.left_at.is_(None),
                ConversationParticipant.user_id != actor.id,
            )
        )
    )
    if _blockers(session, actor, others):
        raise PermissionDenied("You can no longer reply in this conversation.")
    now = utcnow()
    position = (
        session.execute(
            update(Conversation)
            .where(Conversation.id == conversation.id)
            .values(next_position=Conversation.next_position + 1, last_message_at=now)
            .returning(Conversation.next_position)
        ).scalar_one()
        - 1
    )
    message = _message(conversation.id, actor, position, body, now)
    session.add(message)
    session.execute(
        update(ConversationParticipant)
        .where(
            ConversationParticipant.conversation_id == conversation.id,
            ConversationParticipant.user_id == actor.id,
        )
        .values(last_read_position=position)
    )
    _notify(session, actor, conversation, others)
    session.commit()
    return message


def _message(conversation_id: int, actor: User, position: int, body: str, now) -> Message:
    return Message(
        conversation_id=conversation_id,
        author_id=actor.id,
        position=position,
        body=body,
        body_html=str(render_markdown(body)),
        created_at=now,
    )


def _notify(session: Session, actor: User, conversation: Conversation, user_ids: list[int]) -> None:
    notifications.deliver(
        session,
        [
            notifications.Event(uid, "message", actor.id, conversation_id=conversation.id)
            for uid in user_ids
        ],
    )


def _blockers(session: Session, actor: User, user_ids: list[int]) -> set[int]:
    """Which of ``user_ids`` blocked ``actor``."""
    if not user_ids:
        return set()
    return set(
        session.scalars(
            select(MemberBlock.user_id).where(
                MemberBlock.user_id.in_(user_ids), MemberBlock.blocked_id == actor.id
            )
        )
    )


def record_read(session: Session, user: User, conversation_id: int, position: int) -> None:
    """The participant saw the conversation up to ``position``; call after rendering.

    Ends the page's read transaction first, so on SQLite the writes are a short transaction.
    """
    now = utcnow()
    user_id = user.id  # read before the commit expires it
    session.commit()
    session.execute(
        update(ConversationParticipant)
        .where(
            ConversationParticipant.conversation_id == conversation_id,
            ConversationParticipant.user_id == user_id,
            ConversationParticipant.last_read_position < position,
        )
        .values(last_read_position=position)
    )
    session.execute(
        update(Notification)
        .where(
            Notification.user_id == user_id,
            Notification.conversation_id == conversation_id,
            Notification.read_at.is_(None),
        )
        .values(read_at=now)
    )
    session.commit()


def leave(
    session: Session, actor: User, conversation: Conversation, participant: ConversationParticipant
) -> None:
    """Leave: the conversation disappears from the member's list and sends them nothing more."""
    if not policies.is_active_participant(actor, participant):
        raise NotFound("There is no conversation at that address.")
    participant.left_at = utcnow()
    session.execute(
        update(Notification)
        .where(
            Notification.user_id == actor.id,
            Notification.conversation_id == conversation.id,
            Notification.read_at.is_(None),
        )
        .values(read_at=participant.left_at)
    )
    session.commit()


def report(
    session: Session,
    actor: User,
    conversation: Conversation,
    participant: ConversationParticipant | None,
    reason: str,
) -> None:
    """A participant asks the moderators to look: from now on they can read it."""
    if not policies.can_report_conversation(actor, participant):
        raise PermissionDenied("Only the conversation's members can report it.")
    reason = validation.clean_line(reason, "reason", "The reason", REPORT_REASON_MAX)
    conversation.reported_at = utcnow()
    conversation.reported_by_id = actor.id
    conversation.report_reason = reason
    session.commit()


def clear_report(session: Session, actor: User, conversation: Conversation) -> None:
    """A moderator dealt with the report: the conversation is private again."""
    if not policies.can_review_reported_conversations(actor):
        raise PermissionDenied("Only moderators handle reports.")
    conversation.reported_at = None
    conversation.reported_by_id = None
    conversation.report_reason = ""
    session.commit()


def block(session: Session, actor: User, username: str) -> User:
    """``username`` can no longer message ``actor``, nor notify them by mention, quote or reply."""
    if not policies.is_member(actor):
        raise PermissionDenied("Log in to block members.")
    username = (username or "").strip()
    member = None
    if validation.USERNAME_RE.fullmatch(username):
        member = session.scalar(
            select(User).where(User.username_key == validation.username_key(username))
        )
    if member is None:
        raise ValidationError({"username": "There is no member with that name."})
    if member.id == actor.id:
        raise ValidationError({"username": "You can't block yourself."})
    if policies.is_global_moderator(member):
        raise ValidationError(
            {"username": "Moderators can't be blocked; report a problem instead."}
        )
    session.execute(
        insert(session, MemberBlock)
        .values(user_id=actor.id, blocked_id=member.id)
        .on_conflict_do_nothing(index_elements=["user_id", "blocked_id"])
    )
    session.commit()
    return member


def unblock(session: Session, actor: User, user_id: int) -> None:
    session.execute(
        delete(MemberBlock).where(
            MemberBlock.user_id == actor.id, MemberBlock.blocked_id == user_id
        )
    )
    session.commit()
