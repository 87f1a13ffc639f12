"""What the templates show for treatment histories, computed once per page in the view."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from forum import current_vocabulary, policies
from forum.models import HistoryEvent, Post, User
from forum.text.charts import size_chart_svg, size_table_rows
from forum.text.histories import (
    compact_signature,
    context_line,
    event_summary,
    events_as_of,
    size_points,
    sort_events,
)


@dataclass
class PostHistory:
    signature: str  # the structured story as it stood when the post was written
    context: str | None  # "posted 6 months after Gamma Knife"
    grown_since: bool  # the member's history has more now: link to it


def post_histories(
    viewer, posts: list[Post], histories: dict[int, list[HistoryEvent]]
) -> dict[int, PostHistory]:
    """For each post whose author's history the viewer may see."""
    vocabulary = current_vocabulary()
    result: dict[int, PostHistory] = {}
    ordered = {uid: sort_events(events) for uid, events in histories.items()}
    # A member's posts on a page mostly tell the same story: say each one once.
    signatures: dict[tuple[int, ...], str] = {}
    for post in posts:
        author = post.author
        if author is None or not policies.can_view_history(viewer, author):
            continue
        events = ordered.get(author.id, [])
        day = post.created_at.date()
        then = events_as_of(events, day)
        told = tuple(id(e) for e in then)
        if told not in signatures:
            signatures[told] = compact_signature(then, vocabulary)
        result[post.id] = PostHistory(
            signature=signatures[told],
            context=context_line(then, day, vocabulary),
            grown_since=len(then) < len(events),  # histories.has_grown_since, from ``then``
        )
    return result


@dataclass
class Timeline:
    rows: list[tuple[HistoryEvent, str]]
    chart: Markup
    table: list


def timeline(member: User, events: list[HistoryEvent]) -> Timeline:
    vocabulary = current_vocabulary()
    ordered = sort_events(events)
    points = [(p.when, p.size_mm, p.label) for p in size_points(ordered)]
    svg = size_chart_svg(points, title=f"Tumour size over time for {member.username}",
                         id_prefix=f"size-{member.id}")
    return Timeline(
        rows=[(e, event_summary(e, vocabulary)) for e in ordered],
        # charts.size_chart_svg escapes every label and emits no script or handlers.
        chart=Markup(svg),  # noqa: S704
        table=size_table_rows(points) if len(points) >= 2 else [],
    )
