"""schema.org markup for thread pages (DiscussionForumPosting), per Google's forum guidance."""

from __future__ import annotations

from flask import url_for

from forum.queries import MemberPage, ThreadPage
from forum.services.indexing import plain_text
from forum.text.markup import json_ld, text_excerpt


def _iso(moment) -> str:
    return moment.isoformat(timespec="seconds") + "Z"


def _person(post) -> dict:
    if post.author_id is None or post.author is None:
        return {"@type": "Person", "name": "Former member"}
    return {
        "@type": "Person",
        "name": post.author.username,
        "url": url_for("members.show", username=post.author.username, _external=True),
    }


def _posting(post, url: str, *, headline: str | None = None) -> dict:
    item: dict = {
        "@type": "DiscussionForumPosting" if headline else "Comment",
        "author": _person(post),
        "datePublished": _iso(post.created_at),
        # Stored HTML is render_markdown's sanitized output: its text needs no second parse.
        "text": plain_text(post.body_html),
        "url": url,
    }
    if headline:
        item["headline"] = headline
    if post.edited_at:
        item["dateModified"] = _iso(post.edited_at)
    return item


def thread_json_ld(page: ThreadPage):
    thread = page.thread
    first_url = url_for("threads.show", thread_id=thread.id, slug=thread.slug, _external=True)
    first = page.first_post
    if first is None or first.deleted_at:
        return None
    data = _posting(first, first_url, headline=thread.title)
    data["@context"] = "https://schema.org"
    data["mainEntityOfPage"] = first_url
    data["interactionStatistic"] = [
        {
            "@type": "InteractionCounter",
            "interactionType": "https://schema.org/CommentAction",
            "userInteractionCount": thread.reply_count,
        },
        {
            "@type": "InteractionCounter",
            "interactionType": "https://schema.org/ViewAction",
            "userInteractionCount": thread.view_count,
        },
    ]
    data["comment"] = [
        _posting(p, url_for("threads.permalink", post_id=p.id, _external=True))
        for p in page.posts
        if p.position > 0 and not p.deleted_at
    ]
    return json_ld(data)


def thread_social(page: ThreadPage) -> dict:
    """OpenGraph / Twitter card values and the meta description, from the opening post.

    Only what the page itself shows: a deleted opening post gives no description.
    """
    thread = page.thread
    first = page.first_post
    description = ""
    if first is not None and not first.deleted_at:
        description = text_excerpt(plain_text(first.body_html), 160)
    return {
        "type": "article",
        "title": thread.title,
        "description": description or f"A thread in {page.board.name}.",
        "url": url_for(
            "threads.show",
            thread_id=thread.id,
            slug=thread.slug,
            page=page.page if page.page > 1 else None,
            _external=True,
        ),
    }


def member_json_ld(page: MemberPage):
    """schema.org ProfilePage for a member page (no history: that follows its own visibility)."""
    member = page.member
    url = url_for("members.show", username=member.username, _external=True)
    person: dict = {
        "@type": "Person",
        "name": member.username,
        "identifier": str(member.id),
        "url": url,
        "interactionStatistic": {
            "@type": "InteractionCounter",
            "interactionType": "https://schema.org/WriteAction",
            "userInteractionCount": member.post_count,
        },
    }
    if member.custom_title:
        person["description"] = member.custom_title
    return json_ld(
        {
            "@context": "https://schema.org",
            "@type": "ProfilePage",
            "dateCreated": _iso(member.created_at),
            "mainEntity": person,
        }
    )
