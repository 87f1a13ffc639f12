"""Read a live SMF 2.0 or 2.1 database (SQLAlchemy Core only; nothing is written there).

Tables and columns, as in SMF's ``other/install_2-0_mysql.sql`` and ``install_2-1_mysql.sql``:

* ``categories`` (id_cat, cat_order, name; 2.1 adds ``description``)
* ``boards`` (id_board, id_cat, id_parent, board_order, member_groups, name, description,
  redirect; 2.1 adds ``deny_member_groups``). ``member_groups`` is a comma list of group ids
  that may see the board; ``-1`` is guests, ``0`` regular members.
* ``members`` (id_member, member_name = login name, real_name = display name, passwd,
  email_address, date_registered, posts, id_group, usertitle, signature, avatar).
  2.0 ``passwd`` is sha1(strtolower(member_name) . password); 2.1 bcrypt of the same.
* ``topics`` (id_topic, id_board, id_first_msg, is_sticky, locked, num_views, approved).
  A topic has no subject of its own: it is its first message's.
* ``messages`` (id_msg, id_topic, poster_time, id_member, subject, poster_name, body,
  modified_time, modified_name, approved). ``poster_ip`` (tinytext in 2.0, varbinary in 2.1)
  is never selected.
* ``personal_messages`` (id_pm, id_pm_head, id_member_from, msgtime, subject, body) and
  ``pm_recipients`` (id_pm, id_member, bcc, is_read, deleted; 2.0 also ``labels``, 2.1
  ``in_inbox``).

Read only to count what is not imported, when they exist: ``attachments`` (id_attach, id_msg,
id_member, attachment_type: 3 is a thumbnail; a row with ``id_member`` set is an uploaded
avatar) and ``polls``. Their files live on the old server's disk, not in the database.

``members.avatar`` is an http(s) URL, a file name in the server's avatar gallery (relative to
its ``avatar_url`` setting), ``gravatar://…`` (2.1), or empty. ``boards.id_parent`` is the
parent board of a child board (0: none).

Times are Unix timestamps (UTC). Only columns present in both versions are relied on, except
``deny_member_groups`` which is read when it exists.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, MetaData, Table, create_engine, func, select

TABLES = (
    "categories",
    "boards",
    "members",
    "topics",
    "messages",
    "personal_messages",
    "pm_recipients",
)
OPTIONAL_TABLES = ("attachments", "polls")
GUESTS = -1


def from_unix(value: Any) -> datetime | None:
    """SMF's Unix time as Cairn's naive UTC datetime; 0 means "never"."""
    if not value:
        return None
    return datetime.fromtimestamp(int(value), UTC).replace(tzinfo=None)


def group_ids(text: str | None) -> set[int]:
    return {int(part) for part in (text or "").split(",") if part.strip().lstrip("-").isdigit()}


class SmfSource:
    """One SMF database, its tables under ``prefix``, read in primary-key batches."""

    def __init__(self, url: str | Engine, prefix: str = "smf_") -> None:
        self.engine = url if isinstance(url, Engine) else create_engine(url)
        self.prefix = prefix
        self.metadata = MetaData()
        wanted = {prefix + name for name in (*TABLES, *OPTIONAL_TABLES)}
        self.metadata.reflect(self.engine, only=lambda name, _meta: name in wanted)
        missing = [n for n in TABLES if prefix + n not in self.metadata.tables]
        if missing:
            raise ValueError(f"Not an SMF database: tables {', '.join(missing)} are missing.")

    def table(self, name: str) -> Table:
        return self.metadata.tables[self.prefix + name]

    @property
    def version(self) -> str:
        """ "2.1" or "2.0", judged by columns 2.1 added."""
        return "2.1" if "in_inbox" in self.table("pm_recipients").c else "2.0"

    def count(self, name: str) -> int:
        with self.engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(self.table(name))) or 0

    def has(self, name: str) -> bool:
        return self.prefix + name in self.metadata.tables

    def attachment_counts(self) -> dict[str, int]:
        """Uploaded avatars and posts' attachments (thumbnails not counted): none without
        the table."""
        if not self.has("attachments"):
            return {"avatars": 0, "attachments": 0}
        a = self.table("attachments")
        not_thumbnail = a.c.attachment_type != 3
        with self.engine.connect() as conn:
            avatars = conn.scalar(
                select(func.count()).where(a.c.id_member > 0, a.c.id_msg == 0, not_thumbnail)
            )
            files = conn.scalar(select(func.count()).where(a.c.id_msg > 0, not_thumbnail))
        return {"avatars": avatars or 0, "attachments": files or 0}

    def batches(
        self, name: str, key: str, columns: Sequence[str], size: int, *, after: int = 0
    ) -> Iterator[list[dict[str, Any]]]:
        """Rows of ``name`` in ``key`` order, ``size`` at a time (keyset pagination)."""
        table = self.table(name)
        cols = [table.c[c] for c in columns if c in table.c]
        while True:
            with self.engine.connect() as conn:
                rows = [
                    dict(r._mapping)
                    for r in conn.execute(
                        select(*cols).where(table.c[key] > after).order_by(table.c[key]).limit(size)
                    )
                ]
            if not rows:
                return
            yield rows
            after = rows[-1][key]

    def topics(self, size: int) -> Iterator[list[dict[str, Any]]]:
        """Topics with their first message's subject, time and author."""
        t, m = self.table("topics"), self.table("messages")
        after = 0
        while True:
            query = (
                select(
                    t.c.id_topic,
                    t.c.id_board,
                    t.c.is_sticky,
                    t.c.locked,
                    t.c.num_views,
                    t.c.approved,
                    t.c.id_member_started,
                    m.c.subject,
                    m.c.poster_time,
                )
                .outerjoin(m, m.c.id_msg == t.c.id_first_msg)
                .where(t.c.id_topic > after)
                .order_by(t.c.id_topic)
                .limit(size)
            )
            with self.engine.connect() as conn:
                rows = [dict(r._mapping) for r in conn.execute(query)]
            if not rows:
                return
            yield rows
            after = rows[-1]["id_topic"]

    def recipients(self, pm_ids: Sequence[int]) -> list[dict[str, Any]]:
        r = self.table("pm_recipients")
        with self.engine.connect() as conn:
            return [
                dict(row._mapping)
                for row in conn.execute(
                    select(r.c.id_pm, r.c.id_member, r.c.is_read).where(r.c.id_pm.in_(pm_ids))
                )
            ]

    def dispose(self) -> None:
        self.engine.dispose()
