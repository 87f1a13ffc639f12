"""Importing an SMF 2.0 / 2.1 forum: counts, BBCode, legacy passwords, old links, re-runs."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from forum import current_vocabulary
from forum.importers import smf_avatars
from forum.importers.smf import SmfSource
from forum.importers.smf_convert import full_conversion
from forum.importers.smf_writer import STEPS, SmfImporter
from forum.models import (
    Board,
    Category,
    Conversation,
    ConversationParticipant,
    HistoryEvent,
    ImportMap,
    Message,
    Post,
    Thread,
    User,
)
from tests.conftest import login, logout, post_form
from tests.smf_fixtures import PASSWORD, PLAIN_BODY, SmfDatabase, build, mariadb_server_url

SERVER = mariadb_server_url()


@pytest.fixture(params=["2.0", "2.1"])
def smf(request, tmp_path):
    database = SmfDatabase(tmp_path, SERVER)
    try:
        facts = build(database.engine, request.param)
        source = SmfSource(database.engine, facts.prefix)
        yield facts, source
    finally:
        database.drop()


def _importer(app, session, source, **kw) -> SmfImporter:
    with app.app_context():
        vocabulary = current_vocabulary()
    return SmfImporter(session, source, vocabulary=vocabulary, batch_size=kw.pop("batch", 7), **kw)


def _counts(session) -> dict[str, int]:
    models = {
        "categories": Category,
        "boards": Board,
        "members": User,
        "topics": Thread,
        "messages": Post,
        "personal_messages": Message,
        "conversations": Conversation,
        "participants": ConversationParticipant,
        "map": ImportMap,
    }
    return {k: session.scalar(select(func.count()).select_from(m)) for k, m in models.items()}


def _new(session, kind: str, old: int) -> int:
    return session.scalar(
        select(ImportMap.new_id).where(ImportMap.kind == kind, ImportMap.old_id == old)
    )


def test_import_counts_fields_and_idempotency(app, session, smf):
    facts, source = smf
    assert source.version == facts.version
    report = _importer(app, session, source).run()
    for step in STEPS:
        assert report.created[step] == facts.counts[step], step
    assert report.skipped[("boards", "redirect boards (a link elsewhere, not a board)")] == 1
    assert report.skipped[("topics", "never approved by a moderator")] == 1
    assert report.skipped[("members", "email already has an account")] == 1
    assert report.skipped[("personal_messages", "no participant was imported")] == 1
    assert any("avatar" in line for line in report.lines())

    lounge = session.get(Board, _new(session, "board", 2))
    assert lounge.members_only and lounge.name == "Members' lounge"
    assert not session.get(Board, _new(session, "board", 1)).members_only
    assert session.get(Category, _new(session, "category", 1)).name == "Finding & sharing"

    harbour = session.get(User, _new(session, "member", 1))
    assert (harbour.username, harbour.legacy_member_name) == ("Harbour_Master", "HarbourMaster")
    assert harbour.role == "admin" and harbour.custom_title == "Keeper of the light"
    assert harbour.post_count == 120 and harbour.password_hash is None
    assert harbour.legacy_password_hash and harbour.created_at.year == 2009
    wren = session.get(User, _new(session, "member", 2))
    assert wren.signature_review_pending and "Gamma Knife" in wren.signature
    assert not harbour.signature_review_pending

    welcome = session.get(Thread, _new(session, "topic", 1))
    assert welcome.title == "Welcome & ground rules"
    assert (welcome.is_sticky, welcome.is_locked, welcome.view_count) == (True, True, 1001)
    assert welcome.post_count == 45 and welcome.author_id == harbour.id
    posts = session.scalars(
        select(Post).where(Post.thread_id == welcome.id).order_by(Post.position)
    )
    posts = list(posts)
    assert [p.position for p in posts] == list(range(45))
    assert posts[0].created_at.year == 2009
    # BBCode became Markdown; a quote's link to an old message goes through the legacy links.
    assert posts[1].body == "**Bold** and [a link](https://example.org/a)"
    assert "/index.php?msg=1" in posts[2].body and "Be kind." in posts[2].body
    assert posts[2].edited_at is not None and posts[2].edited_by_id == harbour.id
    assert "<strong>Bold</strong>" in posts[1].body_html
    # Plain prose takes the importer's fast path, with the same result as the full one.
    assert posts[4].body == 'Thanks "all", it\'s good & calm.\\\nSee you'
    assert (
        posts[4].body_html == "<p>Thanks &quot;all&quot;, it's good &amp; calm.<br>\nSee you</p>\n"
    )
    assert (posts[4].body, posts[4].body_html) == full_conversion(PLAIN_BODY)
    assert posts[3].author_id == _new(session, "member", 3)

    conv = session.get(Conversation, _new(session, "pm_head", 1))
    assert conv.subject == "Your scan" and conv.next_position == 2
    bodies = session.scalars(
        select(Message.body).where(Message.conversation_id == conv.id).order_by(Message.position)
    )
    assert list(bodies) == ["How did the **MRI** go?", "Stable!"]
    marks = session.scalars(
        select(ConversationParticipant.last_read_position).where(
            ConversationParticipant.conversation_id == conv.id
        )
    )
    assert sorted(marks) == [1, 1]

    # IP addresses never come across (2.0 stores them as text, 2.1 as packed bytes).
    from forum.extensions import db

    for table in db.metadata.sorted_tables:
        if not table.info.get("postgres_only"):
            dump = repr(session.execute(select(table)).all())
            assert "192.0.2.1" not in dump and "\\xc0\\x00\\x02\\x01" not in dump, table.name

    before = _counts(session)
    again = _importer(app, session, source).run()
    assert _counts(session) == before
    assert sum(again.created.values()) == 0
    assert again.already["messages"] == facts.counts["messages"]


def test_resume_after_a_forced_stop(app, session, smf):
    facts, source = smf

    class Stop(Exception):
        pass

    def stop_in_the_messages(step: str, n: int) -> None:
        if n == 10:  # 1 batch each of categories, boards, members; 2 of topics; 5 of messages
            raise Stop(step)

    with pytest.raises(Stop):
        _importer(app, session, source, batch=4, on_batch=stop_in_the_messages).run()
    partial = _counts(session)
    assert 0 < partial["messages"] < facts.counts["messages"]

    report = _importer(app, session, source, batch=4).run()
    counts = _counts(session)
    for step in STEPS:
        assert counts[step] == facts.counts[step], step
    assert report.already["categories"] == facts.counts["categories"]
    # Positions continued where the stopped run left them.
    welcome = _new(session, "topic", 1)
    positions = session.scalars(select(Post.position).where(Post.thread_id == welcome))
    assert sorted(positions) == list(range(45))


def test_bodies_converted_by_worker_processes_match(app, session, smf):
    facts, source = smf
    report = _importer(app, session, source, workers=2).run()
    assert report.created["messages"] == facts.counts["messages"]
    welcome = _new(session, "topic", 1)
    second = session.scalar(select(Post).where(Post.thread_id == welcome, Post.position == 1))
    assert second.body == "**Bold** and [a link](https://example.org/a)"
    assert "<strong>Bold</strong>" in second.body_html
    plain = session.scalar(select(Post).where(Post.thread_id == welcome, Post.position == 4))
    assert (plain.body, plain.body_html) == full_conversion(PLAIN_BODY)  # done in this process


def test_legacy_login_rehashes_and_asks_for_the_signature_review(app, session, client, smf):
    _facts, source = smf
    _importer(app, session, source).run()
    harbour_id = _new(session, "member", 1)

    # The old login name (not the display name) with the old password.
    login(client, "HarbourMaster", PASSWORD)
    session.expire_all()
    harbour = session.get(User, harbour_id)
    assert harbour.legacy_password_hash is None and harbour.password_hash
    assert not harbour.password_hash.startswith(("$2", "sha1"))
    login(client, "Harbour_Master", PASSWORD)  # the new hash works under the new name
    logout(client)

    response = post_form(client, "/login", {"username": "wren", "password": "wrong"})
    assert response.status_code == 400
    response = post_form(
        client, "/login", {"username": "wren", "password": PASSWORD}, form_url="/login"
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/welcome/signature")
    page = client.get("/welcome/signature").get_data(as_text=True)
    assert "We read this from your old signature" in page and "Gamma Knife" in page

    response = post_form(
        client,
        "/welcome/signature",
        {"keep": ["0", "1"], "save": "Keep"},
        form_url="/welcome/signature",
    )
    assert response.status_code == 302
    wren_id = _new(session, "member", 2)
    session.expire_all()
    wren = session.get(User, wren_id)
    assert not wren.signature_review_pending
    assert "Gamma Knife" in wren.signature  # the free text stays
    events = session.scalars(select(HistoryEvent).where(HistoryEvent.user_id == wren_id)).all()
    assert {e.kind for e in events} == {"diagnosis", "treatment"}
    assert client.get("/welcome/signature").status_code == 302  # asked once


def test_discarding_the_signature_review(app, session, client, smf):
    _facts, source = smf
    _importer(app, session, source).run()
    login(client, "wren", PASSWORD)
    response = post_form(client, "/welcome/signature", {"discard": "Discard"})
    assert response.status_code == 302
    session.expire_all()
    wren = session.get(User, _new(session, "member", 2))
    assert not wren.signature_review_pending and "Gamma Knife" in wren.signature
    assert session.scalar(select(func.count()).where(HistoryEvent.user_id == wren.id)) == 0


def test_old_links_redirect_permanently(app, session, client, smf):
    _facts, source = smf
    _importer(app, session, source).run()
    per_page = app.config["POSTS_PER_PAGE"]
    welcome = session.get(Thread, _new(session, "topic", 1))
    base = f"/t/{welcome.id}/{welcome.slug}"

    def where(url: str) -> str:
        response = client.get(url)
        assert response.status_code == 301, (url, response.status_code)
        return response.headers["Location"]

    assert where("/index.php?topic=1.0") == base
    assert where(f"/index.php?topic=1.{2 * per_page}") == f"{base}?page=3"
    msg40 = _new(session, "message", 40)
    assert (
        where("/index.php?topic=1.msg40#msg40") == f"{base}?page={39 // per_page + 1}#post-{msg40}"
    )
    assert where("/index.php?msg=40") == f"{base}?page={39 // per_page + 1}#post-{msg40}"
    board = session.get(Board, _new(session, "board", 1))
    assert where("/index.php?board=1.0") == f"/b/{board.slug}"
    assert where("/index.php?action=profile;u=1") == "/u/Harbour_Master"
    assert where("/index.php?action=profile&u=1") == "/u/Harbour_Master"

    for gone in (
        "/index.php?topic=4.0",
        "/index.php?msg=99999",
        "/index.php?board=3.0",
        "/index.php?action=profile;u=4",
    ):
        response = client.get(gone)
        assert response.status_code == 404
        assert "old forum" in response.get_data(as_text=True)
    # Members-only topics stay hidden from visitors.
    lounge_topic = _new(session, "topic", 2)
    assert client.get("/index.php?topic=2.0").status_code in (403, 404), lounge_topic


def test_cli_imports_reports_and_builds_the_search_index(app, smf):
    facts, _source = smf
    result = app.test_cli_runner().invoke(
        args=["forum", "import-smf", "--source", facts.url, "--prefix", facts.prefix]
    )
    assert result.exit_code == 0, result.output
    assert f"SMF {facts.version} import" in result.output
    assert "messages" in result.output and "skipped 1 boards" in result.output
    assert "search index rebuilt" in result.output


# -- avatars, child boards, what is not imported ---------------------------------------------


def test_avatars_imported_and_skipped_with_reasons(app, session, smf):
    facts, source = smf
    report = _importer(app, session, source).run()
    avatar = {
        old: session.get(User, _new(session, "member", old)).avatar_url for old in (1, 2, 3, 5, 6)
    }
    assert avatar[2] == "https://img.example.org/wren.png"
    assert avatar[5] == "http://img.example.org/moss.gif"  # kept, but pages don't show it
    assert avatar[1] is None and avatar[3] is None and avatar[6] is None
    assert report.created["avatars"] == 2
    assert report.skipped[("avatars", smf_avatars.NO_BASE_URL)] == 1  # Harbour's gallery file
    assert report.skipped[("avatars", smf_avatars.UPLOADED)] == 1  # Quill's upload
    fern = smf_avatars.GRAVATAR if facts.version == "2.1" else smf_avatars.BAD_URL
    assert report.skipped[("avatars", fern)] == 1
    lines = "\n".join(report.lines())
    assert "skipped 2 attachments: files attached to posts" in lines  # the thumbnail isn't one
    assert "skipped 1 polls: Cairn has no polls" in lines
    assert "avatars                  2 imported" in lines


def test_gallery_avatars_resolve_against_the_base_url(app, session, smf):
    _facts, source = smf
    base = "https://old.example.org/avatars/"
    report = _importer(app, session, source, avatar_base_url=base).run()
    harbour = session.get(User, _new(session, "member", 1))
    assert harbour.avatar_url == "https://old.example.org/avatars/Actors/Harbour%20Master.jpg"
    assert report.created["avatars"] == 3
    assert report.skipped[("avatars", smf_avatars.NO_BASE_URL)] == 0
    with pytest.raises(ValueError, match="--avatar-base-url"):
        _importer(app, session, source, avatar_base_url="ftp://old.example.org/avatars")


@pytest.mark.parametrize(
    ("value", "url", "reason"),
    [
        ("", None, None),
        ("blank.gif", None, None),
        ("https://a.example/x.png", "https://a.example/x.png", None),
        ("HTTP://a.example/x.png", "HTTP://a.example/x.png", None),
        ("https://a.example/x y.png", None, smf_avatars.BAD_URL),
        ("javascript:alert(1)", None, smf_avatars.BAD_URL),
        ("//evil.example/x.png", None, smf_avatars.BAD_URL),
        ("../../etc/passwd", None, smf_avatars.BAD_URL),
        ("gravatar://", None, smf_avatars.GRAVATAR),
        ("gravatar://someone@example.org", None, smf_avatars.GRAVATAR),
        ("Cats/Tabby cat.png", "https://b.example/av/Cats/Tabby%20cat.png", None),
        ("x" * 600 + ".png", None, smf_avatars.BAD_URL),
    ],
)
def test_avatar_values(value, url, reason):
    assert smf_avatars.avatar_url(value, "https://b.example/av") == (url, reason)


def test_child_boards_nest_redirect_and_stay_idempotent(app, session, client, smf):
    _facts, source = smf
    report = _importer(app, session, source, batch=2).run()
    boards = {old: session.get(Board, _new(session, "board", old)) for old in (1, 2, 4, 5, 6)}
    assert boards[4].parent_id == boards[1].id and boards[6].parent_id == boards[4].id
    assert boards[1].parent_id is None and boards[2].parent_id is None
    assert boards[5].parent_id is None  # its parent is the redirect board, not imported
    assert report.created["child boards"] == 2
    assert report.notes["child boards at the top level (parent not imported)"] == 1

    response = client.get("/index.php?board=4.0")
    assert response.status_code == 301 and response.headers["Location"] == f"/b/{boards[4].slug}"
    page = client.get(f"/b/{boards[4].slug}").get_data(as_text=True)
    assert f'href="/b/{boards[1].slug}"' in page  # the parent in the breadcrumbs
    assert boards[6].name not in page  # members only
    index = client.get("/").get_data(as_text=True)
    assert "Sub-boards:" in index and boards[4].name in index

    before = _counts(session)
    again = _importer(app, session, source, batch=2).run()
    assert _counts(session) == before
    assert again.created["child boards"] == 0 and again.created["avatars"] == 0
    session.expire_all()
    assert session.get(Board, boards[6].id).parent_id == boards[4].id


def test_source_without_attachments_or_polls_tables(app, session, tmp_path):
    database = SmfDatabase(tmp_path, SERVER)
    try:
        facts = build(database.engine, "2.1", extra_tables=False)
        report = _importer(app, session, SmfSource(database.engine, facts.prefix)).run()
    finally:
        database.drop()
    assert report.created["messages"] == facts.counts["messages"]
    assert not any(step in ("attachments", "polls") for step, _ in report.skipped)


def test_cli_explains_bad_options_without_a_traceback(app, smf, tmp_path):
    facts, _source = smf
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["forum", "import-smf", "--source", facts.url, "--avatar-base-url", "old/avatars"]
    )
    assert result.exit_code != 0 and "--avatar-base-url" in result.output
    assert "Traceback" not in result.output
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    result = runner.invoke(args=["forum", "import-smf", "--source", empty])
    assert result.exit_code != 0 and "Not an SMF database" in result.output
    result = runner.invoke(args=["forum", "import-smf", "--source", "nonsense://x"])
    assert result.exit_code != 0 and "Can't read the SMF database" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
