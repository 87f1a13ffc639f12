"""A member's treatment history: adding, editing and removing events, privacy, and signatures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.orm import Session

from forum.models import EVENT_KINDS, SIDES, VISIBILITIES, HistoryEvent, User
from forum.services import validation
from forum.services.errors import NotFound, PermissionDenied, ValidationError
from forum.services.search_queue import enqueue
from forum.services.signature_parser import ProposedEvent, parse_signature
from forum.text.dates import PartialDate, parse_partial_date
from forum.vocabulary import Vocabulary

MAX_EVENTS = 200
MAX_SIZE_MM = 150.0
VOCABULARY_FIELD = {"diagnosis": "condition", "treatment": "treatment", "symptom": "symptom"}


@dataclass
class EventInput:
    """What a member typed into the event form (strings as submitted)."""

    kind: str = ""
    date: str = ""
    end_date: str = ""
    condition: str = ""
    treatment: str = ""
    symptom: str = ""
    label_text: str = ""
    side: str = ""
    size1: str = ""
    size2: str = ""
    size3: str = ""
    place: str = ""
    note: str = ""


def _require_owner(actor: User, owner: User) -> None:
    if actor is None or actor.id != owner.id:
        raise PermissionDenied("Only the member can change their own history.")


def _date(value: str, field: str, *, day_first: bool, required: bool) -> PartialDate | None:
    value = (value or "").strip()
    validation.clean_line(value, field, "The date", 40)
    if not value:
        if required:
            raise ValidationError(
                {field: "Please give a date: a year (2009), a month (5/09) or a day."}
            )
        return None
    parsed = parse_partial_date(value, day_first=day_first)
    if parsed is None:
        raise ValidationError(
            {field: "That date wasn't understood. Try 2009, 5/09, Nov '08 or 10/1/09."}
        )
    return PartialDate(parsed.year, parsed.month, parsed.day, value)


def _size(value: str, field: str) -> float | None:
    value = (value or "").strip().replace(",", ".")
    if not value:
        return None
    try:
        size = float(value)
    except ValueError:
        raise ValidationError(
            {field: "Sizes are numbers in millimetres, like 12 or 8.5."}
        ) from None
    if not 0 < size <= MAX_SIZE_MM:
        raise ValidationError({field: f"Sizes are between 0 and {MAX_SIZE_MM:g} mm."})
    return round(size, 1)


def _apply(event: HistoryEvent, data: EventInput, vocabulary: Vocabulary, day_first: bool) -> None:
    """Validate ``data`` completely, then copy it onto ``event`` (all or nothing)."""
    errors: dict[str, str] = {}

    def check(fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ValidationError as exc:
            errors.update(exc.errors)
            return None

    kind = data.kind if data.kind in EVENT_KINDS else None
    if kind is None:
        errors["kind"] = "Choose what kind of event this is."
    when = check(_date, data.date, "date", day_first=day_first, required=kind != "note")
    ended = check(_date, data.end_date, "end_date", day_first=day_first, required=False)
    if when and ended and ended < when:
        errors["end_date"] = "The end date is before the start date."
    slugs: dict[str, str | None] = {"condition": None, "treatment": None, "symptom": None}
    for field in slugs:
        value = (getattr(data, field) or "").strip()
        if value:
            if vocabulary.get(field, value) is None:
                errors[field] = "Choose an entry from the list (or write it in “Other”)."
            else:
                slugs[field] = value
    label_text = check(validation.clean_line, data.label_text, "label_text", "“Other”", 120) or ""
    needed = VOCABULARY_FIELD.get(kind or "")
    if needed and not slugs[needed] and not label_text:
        errors[needed] = f"Choose a {needed} from the list, or write it in “Other”."
    side = (data.side or "").strip() or None
    if side is not None and side not in SIDES:
        errors["side"] = "Side is left, right or both."
    sizes = [check(_size, getattr(data, f"size{i}"), f"size{i}") for i in (1, 2, 3)]
    place = check(validation.clean_line, data.place, "place", "The place", 120) or ""
    note = check(validation.clean_line, data.note, "note", "The note", 500) or ""
    if kind == "note" and not note:
        errors["note"] = "Write the note."
    if errors:
        raise ValidationError(errors)

    event.kind = kind
    event.year, event.month, event.day = (when.year, when.month, when.day) if when else (None,) * 3
    event.date_text = when.text if when else ""
    if ended:
        event.end_year, event.end_month, event.end_day = ended.year, ended.month, ended.day
        event.end_date_text = ended.text
    else:
        event.end_year = event.end_month = event.end_day = None
        event.end_date_text = ""
    event.condition, event.treatment, event.symptom = (
        slugs["condition"], slugs["treatment"], slugs["symptom"]
    )
    event.label_text = label_text
    event.side = side
    event.size1_mm, event.size2_mm, event.size3_mm = sorted(
        (s for s in sizes if s is not None), reverse=True
    ) + [None] * (3 - len([s for s in sizes if s is not None]))
    event.place = place
    event.note = note


def add_event(
    session: Session, actor: User, owner: User, data: EventInput, vocabulary: Vocabulary,
    *, day_first: bool = False,
) -> HistoryEvent:
    _require_owner(actor, owner)
    if _count(session, owner) >= MAX_EVENTS:
        raise ValidationError(f"A history can hold at most {MAX_EVENTS} events.")
    event = HistoryEvent(user_id=owner.id)
    _apply(event, data, vocabulary, day_first)
    session.add(event)
    enqueue(session, "user", owner.id)
    session.commit()
    return event


def update_event(
    session: Session, actor: User, event_id: int, data: EventInput, vocabulary: Vocabulary,
    *, day_first: bool = False,
) -> HistoryEvent:
    event = _own_event(session, actor, event_id)
    _apply(event, data, vocabulary, day_first)
    enqueue(session, "user", actor.id)
    session.commit()
    return event


def delete_event(session: Session, actor: User, event_id: int) -> None:
    event = _own_event(session, actor, event_id)
    session.delete(event)
    enqueue(session, "user", actor.id)
    session.commit()


def _own_event(session: Session, actor: User, event_id: int) -> HistoryEvent:
    event = session.get(HistoryEvent, event_id)
    if event is None or actor is None or event.user_id != actor.id:
        raise NotFound("There is no such event in your history.")
    return event


def _count(session: Session, owner: User) -> int:
    from sqlalchemy import func, select

    return session.scalar(
        select(func.count()).select_from(HistoryEvent).where(HistoryEvent.user_id == owner.id)
    ) or 0


def propose(text: str, vocabulary: Vocabulary, *, day_first: bool = False) -> list[ProposedEvent]:
    """Events read from a pasted signature, for the member to review. Nothing is stored."""
    text = validation.clean_line(text.replace("\r\n", "\n").replace("\n", " "), "text",
                                 "The signature", 2000)
    return parse_signature(text, vocabulary, day_first=day_first)


def event_from_proposal(owner: User, proposal: ProposedEvent) -> HistoryEvent:
    when = proposal.date
    sizes = sorted(proposal.size_mm, reverse=True)[:3]
    sizes += [None] * (3 - len(sizes))
    return HistoryEvent(
        user_id=owner.id,
        kind=proposal.kind,
        year=when.year if when else None,
        month=when.month if when else None,
        day=when.day if when else None,
        date_text=(when.text or when.display())[:40] if when else "",
        condition=proposal.condition if proposal.kind == "diagnosis" else None,
        treatment=proposal.treatment,
        symptom=proposal.symptom,
        side=proposal.side,
        size1_mm=sizes[0], size2_mm=sizes[1], size3_mm=sizes[2],
        place=(proposal.place or "")[:120],
        note=(proposal.note or proposal.text)[:500] if proposal.kind == "note" else "",
        label_text="",
    )


def accept_proposals(
    session: Session, actor: User, owner: User, proposals: Sequence[ProposedEvent]
) -> list[HistoryEvent]:
    """Store the proposals the member kept, all together or not at all."""
    _require_owner(actor, owner)
    if _count(session, owner) + len(proposals) > MAX_EVENTS:
        raise ValidationError(f"A history can hold at most {MAX_EVENTS} events.")
    events = [event_from_proposal(owner, p) for p in proposals]
    session.add_all(events)
    enqueue(session, "user", owner.id)
    session.commit()
    return events


def import_signature_history(
    session: Session, owner: User, text: str, vocabulary: Vocabulary, *, day_first: bool = False
) -> list[HistoryEvent]:
    """Trusted bulk path (demo data, imports): parse and store every proposed event."""
    proposals = parse_signature(text, vocabulary, day_first=day_first)
    events = [event_from_proposal(owner, p) for p in proposals]
    session.add_all(events)
    return events


def clear_history(session: Session, actor: User, owner: User) -> None:
    _require_owner(actor, owner)
    session.execute(delete(HistoryEvent).where(HistoryEvent.user_id == owner.id))
    enqueue(session, "user", owner.id)
    session.commit()


def update_privacy(
    session: Session, actor: User, owner: User, *, visibility: str, indexable: bool, signature: str
) -> User:
    """Who sees the history and signature, whether search engines may index the profile."""
    _require_owner(actor, owner)
    errors: dict[str, str] = {}
    if visibility not in VISIBILITIES:
        errors["visibility"] = "Choose who can see your history."
    try:
        signature = validation.clean_line(
            signature, "signature", "The signature", validation.SIGNATURE_MAX
        )
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationError(errors)
    owner.history_visibility = visibility
    owner.profile_indexable = indexable
    owner.signature = signature
    enqueue(session, "user", owner.id)
    session.commit()
    return owner
