"""Write an SMF forum into Cairn in bulk, table by table, one commit per batch.

Every new row is recorded in ``import_map`` in the same transaction as the row itself, so a
second run skips what is mapped (idempotent) and an interrupted run continues where its last
committed batch ended (resumable). Old links are answered from the same table.
"""

from __future__ import annotations

import html
import multiprocessing
import re
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from forum.importers import smf_avatars
from forum.importers.bbcode import bbcode_to_markdown
from forum.importers.smf import GUESTS, SmfSource, from_unix, group_ids
from forum.importers.smf_convert import full_conversion, plain_body
from forum.importers.smf_passwords import smf_scheme
from forum.models import (
    Board,
    Category,
    Conversation,
    ConversationParticipant,
    ImportMap,
    Message,
    Post,
    Thread,
    User,
    utcnow,
)
from forum.services import validation
from forum.services.maintenance import recount_all
from forum.services.signature_parser import parse_signature
from forum.text.slugs import slugify

STEPS = ("categories", "boards", "members", "topics", "messages", "personal_messages")
ROLE_BY_GROUP = {1: "admin", 2: "moderator"}  # SMF's built-in Administrator, Global Moderator
_NOT_USERNAME = re.compile(r"[^A-Za-z0-9._-]+")


class Bar(Protocol):
    def update(self, n_steps: int) -> None: ...


Progress = Callable[[str, int], AbstractContextManager[Bar]]


class _NoBar:
    def update(self, n_steps: int) -> None:
        return None


def _no_progress(label: str, total: int) -> AbstractContextManager[Bar]:
    return nullcontext(_NoBar())


@dataclass
class ImportReport:
    version: str = ""
    created: Counter[str] = field(default_factory=Counter)
    already: Counter[str] = field(default_factory=Counter)
    skipped: Counter[tuple[str, str]] = field(default_factory=Counter)
    notes: Counter[str] = field(default_factory=Counter)
    indexed: int | None = None

    def lines(self) -> list[str]:
        out = [f"SMF {self.version} import"]
        for step in STEPS:
            out.append(
                f"  {step:<18} {self.created[step]:>7} imported, {self.already[step]:>7} "
                "already there"
            )
        out.append(f"  {'avatars':<18} {self.created['avatars']:>7} imported (their URLs)")
        out.append(f"  {'child boards':<18} {self.created['child boards']:>7} nested")
        for (step, reason), n in sorted(self.skipped.items()):
            out.append(f"  skipped {n} {step}: {reason}")
        for note, n in sorted(self.notes.items()):
            out.append(f"  note: {n} {note}")
        if self.indexed is not None:
            out.append(f"  search index rebuilt: {self.indexed} posts")
        return out


class SmfImporter:
    """``run()`` imports everything; each step can also run alone (tests, resume)."""

    def __init__(
        self,
        session: Session,
        source: SmfSource,
        *,
        vocabulary=None,
        label: str = "smf",
        batch_size: int = 500,
        progress: Progress = _no_progress,
        on_batch: Callable[[str, int], None] | None = None,
        day_first: bool = False,
        workers: int = 1,
        avatar_base_url: str | None = None,
    ) -> None:
        if avatar_base_url and (problem := smf_avatars.base_url_problem(avatar_base_url)):
            raise ValueError(problem)
        self.avatar_base_url = avatar_base_url or None
        self.session = session
        self.source = source
        self.vocabulary = vocabulary
        self.label = label
        self.batch_size = batch_size
        self.progress = progress
        self.on_batch = on_batch
        self.day_first = day_first
        # Converting and sanitizing bodies is most of the time: spread it over processes.
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self.report = ImportReport(version=source.version)
        self._batches = 0

    # ------------------------------------------------------------------ plumbing

    def run(self, search_backend=None) -> ImportReport:
        try:
            for step in STEPS:
                getattr(self, f"import_{step}")()
        finally:
            self.close()
        self.finish(search_backend)
        return self.report

    def close(self) -> None:
        """Stop the worker processes, if any (``run`` does it itself)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def _convert(self, rows: list[dict[str, Any]]) -> None:
        """BBCode ``body`` → Markdown ``body`` + sanitized ``body_html``, in place. Plain
        prose is answered here at once; only the rest goes to the worker processes."""
        rest = []
        for row in rows:
            plain = plain_body(row["body"])
            if plain is None:
                rest.append(row)
            else:
                row["body"], row["body_html"] = plain
        bodies = [row["body"] for row in rest]
        if self.workers > 1 and len(bodies) > 1:
            if self._pool is None:
                context = multiprocessing.get_context("fork")
                self._pool = ProcessPoolExecutor(self.workers, mp_context=context)
            chunk = max(1, len(bodies) // (self.workers * 4))
            converted = list(self._pool.map(full_conversion, bodies, chunksize=chunk))
        else:
            converted = [full_conversion(body) for body in bodies]
        for row, (markdown, html_) in zip(rest, converted, strict=True):
            row["body"], row["body_html"] = markdown, html_

    def _mapped(self, kind: str, old_ids: Iterable[int]) -> dict[int, int]:
        old_ids = list(old_ids)
        if not old_ids:
            return {}
        rows = self.session.execute(
            select(ImportMap.old_id, ImportMap.new_id).where(
                ImportMap.source == self.label,
                ImportMap.kind == kind,
                ImportMap.old_id.in_(old_ids),
            )
        )
        return dict(rows.all())

    def _insert(self, model, rows: list[dict[str, Any]]) -> list[int]:
        if not rows:
            return []
        result = self.session.execute(
            insert(model).returning(model.id, sort_by_parameter_order=True), rows
        )
        return list(result.scalars())

    def _record(self, kind: str, pairs: Iterable[tuple[int, int]]) -> None:
        rows = [
            {"source": self.label, "kind": kind, "old_id": old, "new_id": new} for old, new in pairs
        ]
        if rows:
            self.session.execute(insert(ImportMap), rows)

    def _commit(self, step: str) -> None:
        self.session.commit()
        self._batches += 1
        if self.on_batch is not None:
            self.on_batch(step, self._batches)

    def _batches_of(self, step: str, rows_iter, total: int, key: str, kind: str, write) -> None:
        """Run ``write(new_rows, mapped)`` per batch, skipping rows already mapped."""
        with self.progress(step, total) as bar:
            for rows in rows_iter:
                try:
                    mapped = self._mapped(kind, (r[key] for r in rows))
                    self.report.already[step] += len(mapped)
                    write([r for r in rows if r[key] not in mapped])
                    self._commit(step)
                except BaseException:
                    self.session.rollback()
                    raise
                bar.update(len(rows))

    def _skip(self, step: str, reason: str, n: int = 1) -> None:
        self.report.skipped[(step, reason)] += n

    # ------------------------------------------------------------------ steps

    def import_categories(self) -> None:
        def write(rows):
            ids = self._insert(
                Category,
                [
                    {"name": _text(r["name"])[:80] or "Category", "position": r["cat_order"]}
                    for r in rows
                ],
            )
            self._record("category", zip((r["id_cat"] for r in rows), ids, strict=True))
            self.report.created["categories"] += len(ids)

        src = self.source
        batches = src.batches(
            "categories", "id_cat", ["id_cat", "cat_order", "name"], self.batch_size
        )
        self._batches_of(
            "categories", batches, src.count("categories"), "id_cat", "category", write
        )

    def import_boards(self) -> None:
        slugs = set(self.session.scalars(select(Board.slug)))

        def write(rows):
            categories = self._mapped("category", {r["id_cat"] for r in rows})
            keep, values = [], []
            for r in rows:
                if (r.get("redirect") or "").strip():
                    self._skip("boards", "redirect boards (a link elsewhere, not a board)")
                    continue
                if r["id_cat"] not in categories:
                    self._skip("boards", "their category was not imported")
                    continue
                name = _text(r["name"])[:80] or f"Board {r['id_board']}"
                slug = _unique(slugify(name, fallback="board", max_len=70), slugs)
                allowed = group_ids(r.get("member_groups"))
                denied = group_ids(r.get("deny_member_groups"))
                keep.append(r)
                values.append(
                    {
                        "category_id": categories[r["id_cat"]],
                        "name": name,
                        "slug": slug,
                        "description": bbcode_to_markdown(r.get("description") or ""),
                        "position": r["board_order"],
                        "members_only": GUESTS not in allowed or GUESTS in denied,
                    }
                )
            ids = self._insert(Board, values)
            self._record("board", zip((r["id_board"] for r in keep), ids, strict=True))
            self.report.created["boards"] += len(ids)

        columns = [
            "id_board",
            "id_cat",
            "id_parent",
            "board_order",
            "member_groups",
            "deny_member_groups",
            "name",
            "description",
            "redirect",
        ]
        batches = self.source.batches("boards", "id_board", columns, self.batch_size)
        self._batches_of("boards", batches, self.source.count("boards"), "id_board", "board", write)
        self._nest_boards()

    def _nest_boards(self) -> None:
        """Child boards under their parents, once every board exists (a child may come first).
        Only boards still without a parent are touched: a re-run changes nothing."""
        for rows in self.source.batches(
            "boards", "id_board", ["id_board", "id_parent"], self.batch_size
        ):
            children = [r for r in rows if r["id_parent"]]
            mapped = self._mapped(
                "board", {r["id_board"] for r in children} | {r["id_parent"] for r in children}
            )
            ours = [mapped[r["id_board"]] for r in children if r["id_board"] in mapped]
            nested = set(
                self.session.scalars(
                    select(Board.id).where(Board.id.in_(ours), Board.parent_id.is_not(None))
                )
            )
            changes = []
            for r in children:
                child = mapped.get(r["id_board"])
                if child is None or child in nested:
                    continue
                if r["id_parent"] not in mapped:
                    self.report.notes["child boards at the top level (parent not imported)"] += 1
                    continue
                changes.append({"id": child, "parent_id": mapped[r["id_parent"]]})
            if changes:
                self.session.execute(update(Board), changes)
            self.report.created["child boards"] += len(changes)
            self.session.commit()

    def import_members(self) -> None:
        taken_names = set(self.session.scalars(select(User.username_key)))
        taken_emails = set(self.session.scalars(select(User.email_key)))

        def write(rows):
            keep, values = [], []
            for r in rows:
                email = _text(r["email_address"]).strip()
                key = validation.email_key(email)
                if not email or key in taken_emails:
                    reason = "no email address" if not email else "email already has an account"
                    self._skip("members", reason)
                    continue
                taken_emails.add(key)
                username = _unique_username(_username(r), taken_names)
                if username != _text(r["real_name"]).strip():
                    self.report.notes["display names adjusted to Cairn's username rules"] += 1
                legacy = r["passwd"] if smf_scheme(r["passwd"] or "") else None
                if legacy is None:
                    self.report.notes["members without an SMF password hash (must reset)"] += 1
                signature = bbcode_to_markdown(r.get("signature") or "")[:2000]
                pending = bool(signature) and bool(
                    self.vocabulary
                    and parse_signature(signature, self.vocabulary, day_first=self.day_first)
                )
                self.report.notes["members with a signature history to review"] += pending
                created = from_unix(r["date_registered"]) or utcnow()
                avatar, why_not = smf_avatars.avatar_url(
                    _text(r.get("avatar")), self.avatar_base_url
                )
                if why_not:
                    self._skip("avatars", why_not)
                self.report.created["avatars"] += avatar is not None
                keep.append(r)
                values.append(
                    {
                        "username": username,
                        "username_key": validation.username_key(username),
                        "email": email,
                        "email_key": key,
                        "password_hash": None,
                        "legacy_password_hash": legacy,
                        "legacy_member_name": (r["member_name"] or "")[:80] or None,
                        "role": ROLE_BY_GROUP.get(r.get("id_group") or 0, "member"),
                        "custom_title": _text(r.get("usertitle"))[:60],
                        "signature": signature,
                        "signature_review_pending": pending,
                        "avatar_url": avatar,
                        "post_count": r.get("posts") or 0,
                        "created_at": created,
                        "session_token": "",
                    }
                )
            ids = self._insert(User, values)
            self._record("member", zip((r["id_member"] for r in keep), ids, strict=True))
            self.report.created["members"] += len(ids)

        columns = [
            "id_member",
            "member_name",
            "real_name",
            "passwd",
            "email_address",
            "date_registered",
            "posts",
            "id_group",
            "usertitle",
            "signature",
            "avatar",
        ]
        batches = self.source.batches("members", "id_member", columns, self.batch_size)
        self._batches_of(
            "members", batches, self.source.count("members"), "id_member", "member", write
        )

    def import_topics(self) -> None:
        def write(rows):
            boards = self._mapped("board", {r["id_board"] for r in rows})
            members = self._mapped("member", {r["id_member_started"] for r in rows})
            keep, values = [], []
            for r in rows:
                if r["id_board"] not in boards:
                    self._skip("topics", "their board was not imported")
                    continue
                if r.get("approved") == 0:
                    self._skip("topics", "never approved by a moderator")
                    continue
                title = _text(r["subject"]).strip()[:200] or "(no subject)"
                when = from_unix(r["poster_time"]) or utcnow()
                keep.append(r)
                values.append(
                    {
                        "board_id": boards[r["id_board"]],
                        "author_id": members.get(r["id_member_started"]),
                        "title": title,
                        "slug": slugify(title, max_len=200),
                        "created_at": when,
                        "last_post_at": when,
                        "changed_at": when,
                        "view_count": r["num_views"] or 0,
                        "is_sticky": bool(r["is_sticky"]),
                        "is_locked": bool(r["locked"]),
                    }
                )
            ids = self._insert(Thread, values)
            self._record("topic", zip((r["id_topic"] for r in keep), ids, strict=True))
            self.report.created["topics"] += len(ids)

        self._batches_of(
            "topics",
            self.source.topics(self.batch_size),
            self.source.count("topics"),
            "id_topic",
            "topic",
            write,
        )

    def import_messages(self) -> None:
        next_position: dict[int, int] = {}

        def write(rows):
            topics = self._mapped("topic", {r["id_topic"] for r in rows})
            members = self._mapped("member", {r["id_member"] for r in rows if r["id_member"]})
            editors = self._editors({_text(r["modified_name"]) for r in rows if r["modified_time"]})
            unknown = set(topics.values()) - next_position.keys()
            if unknown:
                next_position.update(dict.fromkeys(unknown, 0))
                found = self.session.execute(
                    select(Post.thread_id, func.max(Post.position) + 1)
                    .where(Post.thread_id.in_(unknown))
                    .group_by(Post.thread_id)
                )
                next_position.update(dict(found.all()))
            keep, values = [], []
            for r in rows:
                if r["id_topic"] not in topics:
                    self._skip("messages", "their topic was not imported")
                    continue
                if r.get("approved") == 0:
                    self._skip("messages", "never approved by a moderator")
                    continue
                thread_id = topics[r["id_topic"]]
                author = members.get(r["id_member"]) if r["id_member"] else None
                if author is None:
                    self.report.notes["posts by guests or removed members, shown unattributed"] += 1
                edited = from_unix(r["modified_time"])
                keep.append(r)
                values.append(
                    {
                        "thread_id": thread_id,
                        "author_id": author,
                        "position": next_position[thread_id],
                        "body": r["body"] or "",  # converted below, the whole batch at once
                        "created_at": from_unix(r["poster_time"]) or utcnow(),
                        "edited_at": edited,
                        "edited_by_id": editors.get(_text(r["modified_name"])) if edited else None,
                    }
                )
                next_position[thread_id] += 1
            self._convert(values)
            ids = self._insert(Post, values)
            self._record("message", zip((r["id_msg"] for r in keep), ids, strict=True))
            self.report.created["messages"] += len(ids)

        columns = [
            "id_msg",
            "id_topic",
            "poster_time",
            "id_member",
            "body",
            "modified_time",
            "modified_name",
            "approved",
        ]  # poster_ip is never read
        batches = self.source.batches("messages", "id_msg", columns, self.batch_size)
        self._batches_of(
            "messages", batches, self.source.count("messages"), "id_msg", "message", write
        )

    def _editors(self, names: set[str]) -> dict[str, int]:
        """SMF records the editor's display name; find those members among the imported."""
        if not names:
            return {}
        keys = {validation.username_key(_username({"real_name": n})): n for n in names}
        rows = self.session.execute(
            select(User.username_key, User.id).where(User.username_key.in_(keys))
        )
        return {keys[key]: uid for key, uid in rows}

    def import_personal_messages(self) -> None:
        def write(rows):
            if not rows:
                return
            recipients = self.source.recipients([r["id_pm"] for r in rows])
            people = {r["id_member_from"] for r in rows} | {x["id_member"] for x in recipients}
            members = self._mapped("member", people)
            heads = self._mapped("pm_head", {r["id_pm_head"] or r["id_pm"] for r in rows})
            by_pm: dict[int, set[int]] = {}
            for x in recipients:
                if x["id_member"] in members:
                    by_pm.setdefault(x["id_pm"], set()).add(members[x["id_member"]])
            convs = {
                c.id: c
                for c in self.session.scalars(
                    select(Conversation).where(Conversation.id.in_(heads.values()))
                )
            }
            found = self.session.execute(
                select(
                    ConversationParticipant.conversation_id, ConversationParticipant.user_id
                ).where(ConversationParticipant.conversation_id.in_(heads.values()))
            )
            joined = {(conv_id, user_id) for conv_id, user_id in found}
            new_heads, messages, keep = [], [], []
            for r in rows:
                head = r["id_pm_head"] or r["id_pm"]
                sender = members.get(r["id_member_from"])
                people_here = by_pm.get(r["id_pm"], set()) | ({sender} if sender else set())
                if not people_here:
                    self._skip("personal_messages", "no participant was imported")
                    continue
                when = from_unix(r["msgtime"]) or utcnow()
                if head not in heads:
                    conv = Conversation(
                        subject=_text(r["subject"])[:200] or "(no subject)",
                        author_id=sender,
                        created_at=when,
                        last_message_at=when,
                        next_position=0,
                    )
                    self.session.add(conv)
                    self.session.flush()
                    heads[head] = conv.id
                    convs[conv.id] = conv
                    new_heads.append((head, conv.id))
                conv = convs[heads[head]]
                for uid in sorted(people_here):
                    if (conv.id, uid) not in joined:
                        joined.add((conv.id, uid))
                        self.session.add(
                            ConversationParticipant(
                                conversation_id=conv.id, user_id=uid, joined_at=conv.created_at
                            )
                        )
                messages.append(
                    {
                        "conversation_id": conv.id,
                        "author_id": sender,
                        "position": conv.next_position,
                        "body": r["body"] or "",
                        "created_at": when,
                    }
                )
                conv.next_position += 1
                conv.last_message_at = max(conv.last_message_at, when)
                keep.append(r)
            self.session.flush()
            self._record("pm_head", new_heads)
            self._convert(messages)
            ids = self._insert(Message, messages)
            self._record("pm", zip((r["id_pm"] for r in keep), ids, strict=True))
            self.report.created["personal_messages"] += len(ids)

        columns = ["id_pm", "id_pm_head", "id_member_from", "msgtime", "subject", "body"]
        batches = self.source.batches("personal_messages", "id_pm", columns, self.batch_size)
        self._batches_of(
            "personal_messages",
            batches,
            self.source.count("personal_messages"),
            "id_pm",
            "pm",
            write,
        )

    # ------------------------------------------------------------------ the end

    def finish(self, search_backend=None) -> None:
        """Counters, members' SMF post counts, read marks of imported mail, the search index;
        the report counts what is not imported (uploaded files, polls)."""
        self._count_not_imported()
        recount_all(self.session)
        member_ids = select(ImportMap.new_id).where(
            ImportMap.source == self.label, ImportMap.kind == "member"
        )
        with self.progress("post counts", self.source.count("members")) as bar:
            for rows in self.source.batches(
                "members", "id_member", ["id_member", "posts"], self.batch_size
            ):
                mapped = self._mapped("member", (r["id_member"] for r in rows))
                counts = [  # SMF's count includes posts Cairn never saw (deleted, unapproved)
                    {"id": mapped[r["id_member"]], "post_count": r["posts"] or 0}
                    for r in rows
                    if r["id_member"] in mapped
                ]
                if counts:
                    self.session.execute(update(User), counts)
                self.session.commit()
                bar.update(len(rows))
        # Mail from the old forum counts as read: SMF's read flags are per copy, not per position.
        conv_ids = select(ImportMap.new_id).where(
            ImportMap.source == self.label, ImportMap.kind == "pm_head"
        )
        self.session.execute(
            update(ConversationParticipant)
            .where(
                ConversationParticipant.conversation_id.in_(conv_ids),
                ConversationParticipant.user_id.in_(member_ids),
            )
            .values(
                last_read_position=select(Conversation.next_position - 1)
                .where(Conversation.id == ConversationParticipant.conversation_id)
                .scalar_subquery()
            )
            .execution_options(synchronize_session=False)
        )
        self.session.commit()
        if search_backend is not None:
            from forum.services import indexing

            with self.progress("search index", indexing.visible_post_count(self.session)) as bar:
                done = [0]

                def advance(count: int) -> None:
                    bar.update(count - done[0])
                    done[0] = count

                self.report.indexed = indexing.reindex(self.session, search_backend, advance)

    def _count_not_imported(self) -> None:
        files = self.source.attachment_counts()
        if files["avatars"]:
            self._skip("avatars", smf_avatars.UPLOADED, files["avatars"])
        if files["attachments"]:
            reason = "files attached to posts (the files are not in the database)"
            self._skip("attachments", reason, files["attachments"])
        polls = self.source.count("polls") if self.source.has("polls") else 0
        if polls:
            self._skip("polls", "Cairn has no polls (their topics and posts are imported)", polls)


# ---------------------------------------------------------------------- helpers


def _text(value: Any) -> str:
    """SMF stores names, subjects and titles HTML-escaped (htmlspecialchars)."""
    return html.unescape(str(value or ""))


def _username(row: dict[str, Any]) -> str:
    """Cairn's username from SMF's display name (or login name), within Cairn's rules."""
    for candidate in (row.get("real_name"), row.get("member_name")):
        name = _NOT_USERNAME.sub("_", _text(candidate).strip()).strip("._-")[:25]
        if len(name) >= 3:
            return name
    return f"member{row.get('id_member', '')}"[:25]


def _unique_username(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while validation.username_key(candidate) in taken:
        n += 1
        suffix = f"_{n}"
        candidate = name[: 25 - len(suffix)] + suffix
    taken.add(validation.username_key(candidate))
    return candidate


def _unique(slug: str, taken: set[str]) -> str:
    candidate, n = slug, 1
    while candidate in taken:
        n += 1
        candidate = f"{slug}-{n}"
    taken.add(candidate)
    return candidate
