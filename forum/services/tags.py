"""Thread tags: terms from the history vocabularies, set by the author, curated by moderators."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum import policies
from forum.models import TAG_KINDS, Board, Thread, ThreadTag, User, utcnow
from forum.services import moderation_log
from forum.services.errors import NotFound, PermissionDenied, ValidationError
from forum.services.search_queue import enqueue
from forum.vocabulary import Vocabulary

MAX_PER_KIND = 6
KIND_PLURALS = {"condition": "conditions", "treatment": "treatments", "symptom": "symptoms"}


def thread_tags(session: Session, thread: Thread) -> list[ThreadTag]:
    return list(
        session.scalars(
            select(ThreadTag)
            .where(ThreadTag.thread_id == thread.id)
            .order_by(ThreadTag.kind, ThreadTag.slug)
        )
    )


def set_tags(
    session: Session,
    actor: User,
    thread: Thread,
    board: Board,
    tags: Mapping[str, Iterable[str]],
    vocabulary: Vocabulary,
    *,
    reason: str = "",
) -> list[ThreadTag]:
    """Replace the thread's tags with ``tags`` (kind -> slugs; a missing kind means none).

    New slugs must be vocabulary terms; a tag whose term has since left the vocabulary may be
    kept. A moderator changing someone else's tags is written to the moderation log.
    """
    if thread.deleted_at is not None:
        raise NotFound("There is no thread at that address.")
    if not policies.can_tag_thread(actor, thread, board):
        raise PermissionDenied("Only the thread's author or a moderator can change its tags.")
    unknown_kinds = set(tags) - set(TAG_KINDS)
    if unknown_kinds:
        raise ValidationError({"form": f"Unknown kind of tag: {', '.join(sorted(unknown_kinds))}."})
    current = thread_tags(session, thread)
    have = {(t.kind, t.slug) for t in current}
    errors: dict[str, str] = {}
    wanted: set[tuple[str, str]] = set()
    for kind in TAG_KINDS:
        slugs = list(dict.fromkeys(s.strip() for s in tags.get(kind, ()) if s and s.strip()))
        if len(slugs) > MAX_PER_KIND:
            errors[kind] = f"Choose at most {MAX_PER_KIND} {KIND_PLURALS[kind]}."
        for slug in slugs:
            if vocabulary.get(kind, slug) is None and (kind, slug) not in have:
                errors[kind] = f"“{slug[:60]}” is not one of the {KIND_PLURALS[kind]} we know."
            wanted.add((kind, slug))
    as_moderator = actor.id != thread.author_id
    try:
        reason = moderation_log.clean_reason(reason)
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationError(errors)

    added, removed = sorted(wanted - have), sorted(have - wanted)
    if not added and not removed:
        return current
    for tag in current:
        if (tag.kind, tag.slug) in removed:
            session.delete(tag)
    session.add_all(ThreadTag(thread_id=thread.id, kind=k, slug=s) for k, s in added)
    thread.changed_at = utcnow()
    if as_moderator:
        moderation_log.record(
            session, actor, "thread.tags", "thread", thread.id, reason,
            {"added": [f"{k}:{s}" for k, s in added], "removed": [f"{k}:{s}" for k, s in removed]},
        )
    enqueue(session, "thread", thread.id)
    session.commit()
    return thread_tags(session, thread)
