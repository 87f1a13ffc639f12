"""SMF-shaped databases for the importer's tests and benchmark, with fictional data.

The tables carry the columns the importer reads, named and typed as in SMF's
``other/install_2-0_mysql.sql`` and ``install_2-1_mysql.sql`` (plus ``poster_ip`` and
``member_ip``, which must never be imported). Differences kept on purpose:

* 2.1 ``categories`` has ``description``; ``boards`` has ``deny_member_groups``;
  ``pm_recipients`` has ``in_inbox`` and no ``labels``; IPs are ``VARBINARY(16)`` (2.0: text).
* 2.0 passwords are sha1(lower(member_name) . password); 2.1's are bcrypt of the same.
* ``attachments`` and ``polls`` exist only to be counted (the importer skips them); one
  fixture variant drops them, as an SMF copy without them would be.
* Avatars: a gallery file name, an https and an http URL, an upload (an attachments row),
  and ``gravatar://`` (2.1) or a ``javascript:`` URL (2.0).
* Child boards: board 4 under 1, 6 (members only) under 4, and 5 under the redirect board 3.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass, field

import bcrypt
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    create_engine,
    insert,
    text,
)

PASSWORD = "lantern by the quay"
T0 = 1_230_768_000  # 2009-01-01 UTC
PLAIN_BODY = "Thanks &quot;all&quot;, it&#039;s good &amp; calm.<br />See you"  # message 5


def _tables(version: str, prefix: str) -> MetaData:
    md = MetaData()
    v21 = version == "2.1"
    ip = LargeBinary(16) if v21 else Text

    def table(name, *columns):
        return Table(prefix + name, md, *columns)

    def key(name):
        return Column(name, Integer, primary_key=True, autoincrement=True)

    def num(name, default=0):
        return Column(name, Integer, nullable=False, server_default=str(default))

    def chars(name, length=255):
        return Column(name, String(length), nullable=False, server_default="")

    table(
        "categories",
        key("id_cat"),
        num("cat_order"),
        chars("name"),
        *([Column("description", Text)] if v21 else []),
        num("can_collapse", 1),
    )
    table(
        "boards",
        key("id_board"),
        num("id_cat"),
        num("child_level"),
        num("id_parent"),
        num("board_order"),
        chars("member_groups"),
        *([chars("deny_member_groups")] if v21 else []),
        chars("name"),
        Column("description", Text),
        chars("redirect"),
        num("num_posts"),
    )
    table(
        "members",
        key("id_member"),
        chars("member_name", 80),
        num("date_registered"),
        num("posts"),
        num("id_group"),
        chars("real_name"),
        chars("passwd", 64),
        chars("email_address"),
        Column("signature", Text),
        chars("avatar"),
        chars("usertitle"),
        Column("member_ip", ip),
        chars("password_salt"),
    )
    table(
        "attachments",
        key("id_attach"),
        num("id_thumb"),
        num("id_msg"),
        num("id_member"),
        num("id_folder", 1),
        num("attachment_type"),
        chars("filename"),
        chars("file_hash", 40),
        chars("fileext", 8),
        num("size"),
        num("downloads"),
        num("width"),
        num("height"),
        chars("mime_type", 20),
        num("approved", 1),
    )
    table(
        "polls",
        key("id_poll"),
        chars("question"),
        num("voting_locked"),
        num("max_votes", 1),
        num("expire_time"),
        num("hide_results"),
        num("id_member"),
        chars("poster_name"),
    )
    table(
        "topics",
        key("id_topic"),
        Column("is_sticky", SmallInteger, server_default="0"),
        num("id_board"),
        num("id_first_msg"),
        num("id_last_msg"),
        num("id_member_started"),
        num("num_replies"),
        num("num_views"),
        Column("locked", SmallInteger, server_default="0"),
        num("approved", 1),
    )
    table(
        "messages",
        key("id_msg"),
        num("id_topic"),
        num("id_board"),
        num("poster_time"),
        num("id_member"),
        chars("subject"),
        chars("poster_name"),
        chars("poster_email"),
        Column("poster_ip", ip),
        num("modified_time"),
        chars("modified_name"),
        *([chars("modified_reason")] if v21 else []),
        Column("body", Text),
        num("approved", 1),
    )
    table(
        "personal_messages",
        key("id_pm"),
        num("id_pm_head"),
        num("id_member_from"),
        num("deleted_by_sender"),
        chars("from_name"),
        num("msgtime"),
        chars("subject"),
        Column("body", Text),
    )
    table(
        "pm_recipients",
        Column("id_pm", Integer, primary_key=True, autoincrement=False),
        Column("id_member", Integer, primary_key=True, autoincrement=False),
        *([] if v21 else [chars("labels", 60)]),
        num("bcc"),
        num("is_read"),
        num("is_new"),
        num("deleted"),
        *([num("in_inbox", 1)] if v21 else []),
    )
    return md


def smf_hash(version: str, member_name: str, password: str) -> str:
    secret = (member_name.lower() + password).encode()
    if version == "2.0":
        return hashlib.sha1(secret).hexdigest()  # noqa: S324 - SMF 2.0's own scheme
    return bcrypt.hashpw(secret, bcrypt.gensalt(4)).decode().replace("$2b$", "$2y$", 1)


@dataclass
class SmfFacts:
    """What the fixture put in, for the tests to check against."""

    version: str
    url: str
    prefix: str
    long_topic: int = 1
    long_topic_messages: int = 45
    quote_msg: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    avatar_gallery_name: str = "Actors/Harbour Master.jpg"


def build(
    engine: Engine, version: str, prefix: str = "smf_", *, extra_tables: bool = True
) -> SmfFacts:
    """Create the tables and the fictional forum in ``engine`` (``extra_tables``: also
    ``attachments`` and ``polls``)."""
    md = _tables(version, prefix)
    if not extra_tables:
        for name in ("attachments", "polls"):
            md.remove(md.tables[prefix + name])
    md.create_all(engine)
    t = md.tables
    v21 = version == "2.1"
    facts = SmfFacts(version, engine.url.render_as_string(hide_password=False), prefix)
    ip = b"\xc0\x00\x02\x01" if v21 else "192.0.2.1"
    with engine.begin() as conn:
        cat = {"id_cat": 1, "cat_order": 1, "name": "Finding &amp; sharing"}
        if v21:
            cat["description"] = ""
        conn.execute(
            insert(t[prefix + "categories"]),
            [cat, {**cat, "id_cat": 2, "cat_order": 2, "name": "Members"}],
        )
        board = {"id_cat": 1, "child_level": 0, "id_parent": 0, "redirect": "", "num_posts": 0}
        if v21:
            board["deny_member_groups"] = ""
        boards = [
            {
                **board,
                "id_board": 1,
                "board_order": 1,
                "member_groups": "-1,0,2",
                "name": "Newly diagnosed",
                "description": "Start [b]here[/b].",
            },
            {
                **board,
                "id_board": 2,
                "id_cat": 2,
                "board_order": 2,
                "member_groups": "0,2",
                "name": "Members' lounge",
                "description": "",
            },
            {
                **board,
                "id_board": 3,
                "board_order": 3,
                "member_groups": "-1,0",
                "name": "Our old wiki",
                "description": "",
                "redirect": "https://wiki.example.org/",
            },
            {
                **board,
                "id_board": 4,
                "board_order": 4,
                "member_groups": "-1,0",
                "child_level": 1,
                "id_parent": 1,
                "name": "Hearing after treatment",
                "description": "",
            },
            {
                **board,
                "id_board": 5,
                "board_order": 5,
                "member_groups": "-1,0",
                "child_level": 1,
                "id_parent": 3,
                "name": "Wiki notes",
                "description": "",
            },
            {
                **board,
                "id_board": 6,
                "board_order": 6,
                "member_groups": "0",
                "child_level": 2,
                "id_parent": 4,
                "name": "Tinnitus corner",
                "description": "",
            },
        ]
        conn.execute(insert(t[prefix + "boards"]), boards)
        member = {
            "avatar": "",
            "usertitle": "",
            "signature": "",
            "member_ip": ip,
            "password_salt": "",
            "id_group": 0,
        }
        members = [
            {
                **member,
                "id_member": 1,
                "member_name": "HarbourMaster",
                "real_name": "Harbour Master",
                "email_address": "harbour@example.org",
                "posts": 120,
                "id_group": 1,
                "usertitle": "Keeper of the light",
                "date_registered": T0,
                "avatar": facts.avatar_gallery_name,
            },
            {
                **member,
                "id_member": 2,
                "member_name": "wren",
                "real_name": "Wren Alder",
                "email_address": "wren@example.org",
                "posts": 30,
                "date_registered": T0 + 86400,
                "signature": "Diagnosed 2009 with 14mm left AN, Gamma Knife Nov 2010",
                "avatar": "https://img.example.org/wren.png",
            },
            {
                **member,
                "id_member": 3,
                "member_name": "quill",
                "real_name": "Quill",
                "email_address": "quill@example.org",
                "posts": 4,
                "date_registered": T0 + 2 * 86400,
            },
            {
                **member,
                "id_member": 4,
                "member_name": "twin",
                "real_name": "Wren Alder",
                "email_address": "WREN@example.org",
                "posts": 0,
                "date_registered": T0 + 3 * 86400,
                "avatar": "https://img.example.org/twin.png",
            },
            {
                **member,
                "id_member": 5,
                "member_name": "moss",
                "real_name": "Moss",
                "email_address": "moss@example.org",
                "posts": 0,
                "date_registered": T0 + 4 * 86400,
                "avatar": "http://img.example.org/moss.gif",
            },
            {
                **member,
                "id_member": 6,
                "member_name": "fern",
                "real_name": "Fern",
                "email_address": "fern@example.org",
                "posts": 0,
                "date_registered": T0 + 5 * 86400,
                "avatar": "gravatar://" if v21 else "javascript:alert(1)",
            },
        ]
        for m in members:
            m["passwd"] = smf_hash(version, m["member_name"], PASSWORD)
        conn.execute(insert(t[prefix + "members"]), members)

        msgs, topics, msg_id = [], [], 0

        def add_topic(tid, board_id, author, subject, n, **extra):
            nonlocal msg_id
            first = msg_id + 1
            for i in range(n):
                msg_id += 1
                poster = author if i % 2 == 0 else 3
                msgs.append(
                    {
                        "id_msg": msg_id,
                        "id_topic": tid,
                        "id_board": board_id,
                        "poster_time": T0 + tid * 100_000 + i * 60,
                        "id_member": poster,
                        "subject": subject if i == 0 else f"Re: {subject}",
                        "poster_name": "x",
                        "poster_email": "",
                        "poster_ip": ip,
                        "modified_time": 0,
                        "modified_name": "",
                        "body": f"Message {i} of topic {tid}: [i]hello[/i]",
                        "approved": 1,
                        **({"modified_reason": ""} if v21 else {}),
                    }
                )
            topics.append(
                {
                    "id_topic": tid,
                    "id_board": board_id,
                    "id_first_msg": first,
                    "id_last_msg": msg_id,
                    "id_member_started": author,
                    "num_replies": n - 1,
                    "num_views": 1000 + tid,
                    "is_sticky": 0,
                    "locked": 0,
                    "approved": 1,
                    **extra,
                }
            )

        add_topic(1, 1, 1, "Welcome &amp; ground rules", 45, is_sticky=1, locked=1)
        add_topic(2, 2, 2, "Gamma Knife or wait and scan?", 3)
        add_topic(3, 4, 3, "Hearing aids after surgery", 2)
        add_topic(4, 1, 3, "A spam topic", 1, approved=0)
        add_topic(5, 3, 3, "In the redirect board", 1)
        # BBCode cases and an edited message.
        msgs[1]["body"] = "[b]Bold[/b] and [url=https://example.org/a]a link[/url]"
        msgs[2]["body"] = (
            "[quote author=Harbour Master link=topic=1.msg1#msg1 date=1230768000]"
            "Be kind.[/quote]Agreed!"
        )
        msgs[4]["body"] = PLAIN_BODY
        msgs[2]["modified_time"] = T0 + 999
        msgs[2]["modified_name"] = "Harbour Master"
        msgs[46]["approved"] = 0  # topic 2's second message waits for approval forever
        facts.quote_msg = 3
        conn.execute(insert(t[prefix + "messages"]), msgs)
        conn.execute(insert(t[prefix + "topics"]), topics)

        pms = [
            {
                "id_pm": 1,
                "id_pm_head": 1,
                "id_member_from": 2,
                "deleted_by_sender": 0,
                "from_name": "Wren Alder",
                "msgtime": T0 + 500,
                "subject": "Your scan",
                "body": "How did the [b]MRI[/b] go?",
            },
            {
                "id_pm": 2,
                "id_pm_head": 1,
                "id_member_from": 3,
                "deleted_by_sender": 0,
                "from_name": "Quill",
                "msgtime": T0 + 600,
                "subject": "Re: Your scan",
                "body": "Stable!",
            },
            {
                "id_pm": 3,
                "id_pm_head": 3,
                "id_member_from": 99,
                "deleted_by_sender": 0,
                "from_name": "Gone",
                "msgtime": T0 + 700,
                "subject": "From a removed member",
                "body": "Hello",
            },
        ]
        conn.execute(insert(t[prefix + "personal_messages"]), pms)
        rec = {"bcc": 0, "is_read": 1, "is_new": 0, "deleted": 0}
        rec.update({"in_inbox": 1} if v21 else {"labels": "-1"})
        conn.execute(
            insert(t[prefix + "pm_recipients"]),
            [
                {**rec, "id_pm": 1, "id_member": 3},
                {**rec, "id_pm": 2, "id_member": 2},
                {**rec, "id_pm": 3, "id_member": 98},
            ],
        )
        if extra_tables:

            def attachment(id_attach, id_msg, id_member, kind, filename, mime, thumb=0):
                return {
                    "id_attach": id_attach,
                    "id_thumb": thumb,
                    "id_msg": id_msg,
                    "id_member": id_member,
                    "attachment_type": kind,
                    "filename": filename,
                    "mime_type": mime,
                    "size": 1000,
                }

            # Quill's uploaded avatar, two files in posts, and a thumbnail of one of them.
            conn.execute(
                insert(t[prefix + "attachments"]),
                [
                    attachment(1, 0, 3, 0, "avatar_3_1.png", "image/png"),
                    attachment(2, 2, 0, 0, "scan.jpg", "image/jpeg", thumb=3),
                    attachment(3, 2, 0, 3, "scan.jpg_thumb", "image/jpeg"),
                    attachment(4, 3, 0, 0, "letter.pdf", "application/pdf"),
                ],
            )
            poll = {"id_poll": 1, "question": "Which scan schedule?", "id_member": 2}
            conn.execute(insert(t[prefix + "polls"]), [{**poll, "poster_name": "Wren Alder"}])
    facts.counts = {
        "categories": 2,
        "boards": 5,
        "members": 5,
        "topics": 3,
        "messages": 45 + 2 + 2,
        "personal_messages": 2,
    }
    return facts


# Bodies for the benchmark, written the way SMF stores them. Every one is made unique with the
# message number, so nothing is converted once and reused.
BBCODE_BODY = (
    "[b]Update {n}:[/b] scan in [i]March[/i] showed no growth. [quote]Keep going[/quote] "
    "Thanks to everyone here, see [url=https://example.org/]this page[/url]."
) * 3
# A support forum's mix: half plain prose (a line break, quotes, apostrophes), the rest with a
# decimal, quotes, links, smileys or lists.
MIXED_BODIES = (
    "Had my scan number {n} today and it&#039;s stable, no growth at all!<br />"
    "The neurosurgeon said we&#039;ll keep watching and check again next year.<br /><br />"
    "Thanks everyone for the &quot;good vibes&quot; - it really helped.",
    "Hi all, a question about balance after radiation (post {n}).<br />Does it get better "
    "with time? I still feel wobbly when I turn my head quickly, mostly in the evening.<br />"
    "<br />Any tips welcome: exercises, physio, anything. Thank you so much.",
    "Ringing in my left ear again tonight, {n} days in a row now. My GP says it&#039;s "
    "nothing new but I worry. Does anyone else get it worse when tired?",
    "Same here. Some weeks are better than others; rest helps me more than anything else, "
    "and I keep a diary for the next appointment (number {n}).",
    "Welcome! You are not alone here. Ask anything, however small it seems.<br />"
    "We were all new once. Post {n}.",
    "My tumour was 1.8 cm at diagnosis and 1.6 cm on the last MRI, {n} months later.",
    BBCODE_BODY,
    "[quote author=Wren Alder link=topic=2.msg{n}#msg{n} date=1230768000]Does it get better?"
    "[/quote]It did for me, give it time :)",
    "Found this useful: https://www.example.org/guide-{n} - worth a read.",
    "Things that helped me:[list][*]rest[*]a notebook for questions ({n})[*]this forum[/list]",
)


def add_bulk(
    engine: Engine,
    version: str,
    messages: int,
    prefix: str = "smf_",
    per_topic: int = 25,
    chunk: int = 5000,
    bodies: str = "mixed",
) -> None:
    """Append ``messages`` fictional messages (in new topics on board 1) for the benchmark.

    ``bodies``: "mixed" (``MIXED_BODIES`` in turn) or "bbcode" (``BBCODE_BODY`` only).
    """
    md = _tables(version, prefix)
    t = md.tables
    templates = MIXED_BODIES if bodies == "mixed" else (BBCODE_BODY,)
    with engine.begin() as conn:
        start_topic = (conn.scalar(text(f"SELECT MAX(id_topic) FROM {prefix}topics")) or 0) + 1
        start_msg = (conn.scalar(text(f"SELECT MAX(id_msg) FROM {prefix}messages")) or 0) + 1
    topics, msgs = [], []
    for i in range(messages):
        tid, mid = start_topic + i // per_topic, start_msg + i
        if i % per_topic == 0:
            topics.append(
                {
                    "id_topic": tid,
                    "id_board": 1,
                    "id_first_msg": mid,
                    "id_last_msg": mid,
                    "id_member_started": 2,
                    "num_views": 7,
                }
            )
        msgs.append(
            {
                "id_msg": mid,
                "id_topic": tid,
                "id_board": 1,
                "poster_time": T0 + i,
                "id_member": 2 + i % 2,
                "subject": f"Bulk topic {tid}",
                "body": templates[i % len(templates)].format(n=mid),
            }
        )
        if len(msgs) >= chunk:
            with engine.begin() as conn:
                conn.execute(insert(t[prefix + "messages"]), msgs)
            msgs = []
    with engine.begin() as conn:
        if msgs:
            conn.execute(insert(t[prefix + "messages"]), msgs)
        conn.execute(insert(t[prefix + "topics"]), topics)


# ---------------------------------------------------------------------- where it lives


def mariadb_server_url() -> str | None:
    """TEST_MARIADB_URL, or the local server when 127.0.0.1:3306 answers; else None."""
    url = os.environ.get("TEST_MARIADB_URL")
    candidate = url or "mysql+pymysql://root@127.0.0.1:3306/"
    try:
        engine = create_engine(candidate, connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
    except Exception:  # no server: fall back to SQLite
        if url:
            raise
        return None
    return candidate


class SmfDatabase:
    """A throwaway SMF database: a uniquely named MariaDB database, or an SQLite file."""

    def __init__(self, tmp_path, server_url: str | None) -> None:
        self.server_url = server_url
        if server_url:
            self.name = f"cairn_smf_{uuid.uuid4().hex[:12]}"
            admin = create_engine(server_url)
            with admin.begin() as conn:
                conn.execute(text(f"CREATE DATABASE `{self.name}` CHARACTER SET utf8mb4"))
            admin.dispose()
            self.url = f"{server_url.rstrip('/')}/{self.name}?charset=utf8mb4"
        else:
            self.name = ""
            self.url = f"sqlite:///{tmp_path / 'smf.db'}"
        self.engine = create_engine(self.url)

    def drop(self) -> None:
        self.engine.dispose()
        if self.server_url:
            admin = create_engine(self.server_url)
            with admin.begin() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{self.name}`"))
            admin.dispose()
