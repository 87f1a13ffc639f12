"""Moderating threads and members through the real pages: lock, sticky, move, split, merge,
held posts, suspensions and bans, board moderators, spam rules, and the moderation log."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from forum.models import (
    Board,
    BoardModerator,
    HeldPost,
    ModerationAction,
    Notification,
    Post,
    PostRevision,
    Suspension,
    Thread,
    User,
    utcnow,
)
from forum.services import moderation, posting
from forum.services.errors import PermissionDenied, ValidationError
from tests.conftest import login, post_form
from tests.factories import make_admin, make_board, make_moderator, make_thread, make_user, posts_of


def board_moderator(session, board, username: str) -> User:
    user = make_user(session, username)
    session.add(BoardModerator(board_id=board.id, user_id=user.id))
    session.commit()
    return user


def log_actions(session) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(ModerationAction.action).order_by(ModerationAction.id)))


def fresh(session, model, ident):
    session.expire_all()
    return session.get(model, ident)


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


# -- thread state ------------------------------------------------------------------------------


def test_board_moderator_locks_and_unlocks_with_a_logged_reason(client, session):
    board = make_board(session)
    thread = make_thread(session, board, title="Heated")
    board_moderator(session, board, "boardmod")
    login(client, "boardmod")
    page = client.get(f"/t/{thread.id}/heated").get_data(as_text=True)
    assert "Moderator: lock, sticky" in page
    response = post_form(client, f"/t/{thread.id}/lock", {"reason": "cooling off"}, form_url="/")
    assert response.status_code == 302
    assert fresh(session, Thread, thread.id).is_locked
    entry = session.scalar(select(ModerationAction).order_by(ModerationAction.id.desc()))
    assert (entry.action, entry.target_id, entry.reason) == (
        "thread.lock",
        thread.id,
        "cooling off",
    )
    make_user(session, "latecomer")
    login(client, "latecomer")
    assert client.get(f"/t/{thread.id}/reply").status_code == 403
    login(client, "boardmod")
    assert post_form(client, f"/t/{thread.id}/unlock", {}, form_url="/").status_code == 302
    assert not fresh(session, Thread, thread.id).is_locked


def test_moderator_elsewhere_and_members_cannot_lock(client, session):
    board, other = make_board(session), make_board(session)
    thread = make_thread(session, board, title="Mine to keep")
    board_moderator(session, other, "elsewhere")
    login(client, "elsewhere")
    page = client.get(f"/t/{thread.id}/mine-to-keep").get_data(as_text=True)
    assert "Moderator: lock" not in page
    assert post_form(client, f"/t/{thread.id}/lock", {}, form_url="/").status_code == 403
    assert not fresh(session, Thread, thread.id).is_locked


def test_sticky_threads_come_first_on_their_board(client, session):
    board = make_board(session)
    first = make_thread(session, board, title="Old but important")
    make_thread(session, board, title="Newer chatter")
    make_moderator(session, "stickler")
    login(client, "stickler")
    assert post_form(client, f"/t/{first.id}/stick", {}, form_url="/").status_code == 302
    page = client.get(f"/b/{board.slug}").get_data(as_text=True)
    assert page.index("Old but important") < page.index("Newer chatter")
    assert "thread.sticky" in log_actions(session)


# -- moving, splitting, merging ----------------------------------------------------------------


def test_move_thread_updates_both_boards(client, session):
    source, target = make_board(session, "Source"), make_board(session, "Target")
    thread = make_thread(session, source, title="Wrong place", replies=2)
    make_moderator(session, "mover")
    login(client, "mover")
    assert "Target" in client.get(f"/t/{thread.id}/move").get_data(as_text=True)
    response = post_form(client, f"/t/{thread.id}/move", {"board_id": str(target.id)})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Thread, thread.id).board_id == target.id
    source, target = session.get(Board, source.id), session.get(Board, target.id)
    assert (source.thread_count, source.post_count, source.last_post_id) == (0, 0, None)
    assert (target.thread_count, target.post_count) == (1, 3)
    assert target.last_post_id == session.get(Thread, thread.id).last_post_id
    assert "thread.move" in log_actions(session)


def test_board_moderator_moves_only_between_their_boards(client, session):
    mine, theirs = make_board(session), make_board(session)
    thread = make_thread(session, mine, title="Stay")
    mod = board_moderator(session, mine, "halfmover")
    login(client, "halfmover")
    # The only other board isn't theirs: the form says so, and a forged choice is refused.
    assert "no other board you moderate" in text(client.get(f"/t/{thread.id}/move"))
    response = post_form(client, f"/t/{thread.id}/move", {"board_id": str(theirs.id)})
    assert response.status_code == 400
    with pytest.raises(PermissionDenied):
        moderation.move_thread(session, mod, thread, mine, theirs)


def test_split_moves_a_post_and_later_ones_into_a_new_thread(client, session):
    board = make_board(session)
    author = make_user(session, "splitter_author")
    thread = make_thread(session, board, author, title="Two topics", replies=3)
    posts = posts_of(session, thread)
    make_moderator(session, "splitter")
    login(client, "splitter")
    response = post_form(
        client,
        f"/p/{posts[2].id}/split",
        {"title": "The second topic", "board_id": str(board.id), "reason": "off topic"},
    )
    assert response.status_code == 302
    session.expire_all()
    new = session.scalar(select(Thread).where(Thread.title == "The second topic"))
    assert response.headers["Location"] == f"/t/{new.id}/the-second-topic"
    moved = posts_of(session, new)
    assert [p.id for p in moved] == [posts[2].id, posts[3].id]
    assert [p.position for p in moved] == [0, 1]
    assert new.first_post_id == posts[2].id and new.post_count == 2 and new.next_position == 2
    old = session.get(Thread, thread.id)
    assert old.post_count == 2 and old.last_post_id == posts[1].id
    assert session.get(Board, board.id).thread_count == 2
    assert session.get(Board, board.id).post_count == 4
    # Permalinks of moved posts lead to the new thread.
    assert client.get(f"/p/{posts[3].id}").headers["Location"].startswith(f"/t/{new.id}/")
    assert {"thread.split", "thread.split_into"} <= set(log_actions(session))


def test_split_refuses_the_opening_post_and_bad_titles(client, session):
    board = make_board(session)
    thread = make_thread(session, board, title="Whole", replies=1)
    first, reply = posts_of(session, thread)
    make_moderator(session, "carefulsplit")
    login(client, "carefulsplit")
    response = post_form(client, f"/p/{first.id}/split", {"title": "x", "board_id": str(board.id)})
    assert response.status_code == 400 and "Split at a reply" in text(response)
    response = post_form(client, f"/p/{reply.id}/split", {"title": "", "board_id": str(board.id)})
    assert response.status_code == 400 and "give the thread a title" in text(response)
    assert session.scalar(select(func.count()).select_from(Thread)) == 1


def test_merge_appends_posts_and_old_links_redirect(client, session):
    board = make_board(session)
    target = make_thread(session, board, title="Main thread", replies=1)
    source = make_thread(session, board, title="Duplicate", replies=1)
    watcher = make_user(session, "merge_watcher")
    from forum.services import watching

    watching.set_thread_watch(session, watcher, source, board, "watching")
    make_moderator(session, "merger")
    login(client, "merger")
    response = post_form(
        client, f"/t/{source.id}/merge", {"target": f"http://localhost/t/{target.id}/main-thread"}
    )
    assert response.status_code == 302
    session.expire_all()
    merged = posts_of(session, target)
    assert [p.position for p in merged] == [0, 1, 2, 3]
    target_row = session.get(Thread, target.id)
    assert target_row.post_count == 4 and target_row.next_position == 4
    source_row = session.get(Thread, source.id)
    assert source_row.merged_into_id == target.id and source_row.deleted_at is not None
    assert session.get(Board, board.id).thread_count == 1
    assert session.get(Board, board.id).post_count == 4
    make_user(session, "visitorish")
    login(client, "visitorish")
    response = client.get(f"/t/{source.id}/duplicate")
    assert response.status_code == 301
    assert response.headers["Location"] == f"/t/{target.id}/main-thread"
    from forum.models import ThreadWatch

    assert session.get(ThreadWatch, (watcher.id, target.id)) is not None


def test_merge_needs_a_real_other_thread(client, session):
    board = make_board(session)
    thread = make_thread(session, board, title="Alone")
    make_moderator(session, "lonely_merger")
    login(client, "lonely_merger")
    for target, message in (
        ("", "number or address"),
        ("999999", "no thread number 999999"),
        (str(thread.id), "merged into itself"),
    ):
        response = post_form(client, f"/t/{thread.id}/merge", {"target": target})
        assert response.status_code == 400, target
        assert message in text(response)


# -- moderators' edits, deletions and restores -------------------------------------------------


def test_board_moderator_edits_deletes_and_restores_on_their_board_only(client, session):
    board, other = make_board(session), make_board(session)
    author = make_user(session, "writer")
    thread = make_thread(session, board, author, title="Here", replies=1)
    elsewhere = make_thread(session, other, author, title="There", body="Elsewhere body")
    reply = posts_of(session, thread)[1]
    board_moderator(session, board, "localmod")
    login(client, "localmod")
    assert 'name="reason"' in client.get(f"/p/{reply.id}/edit").get_data(as_text=True)
    response = post_form(
        client, f"/p/{reply.id}/edit", {"body": "Tidied.", "reason": "removed a phone number"}
    )
    assert response.status_code == 302
    revision = session.scalar(select(PostRevision).where(PostRevision.post_id == reply.id))
    assert revision.body == "Reply number 1."
    assert post_form(client, f"/p/{reply.id}/delete", {}, form_url="/").status_code == 302
    assert fresh(session, Post, reply.id).deleted_at is not None
    assert post_form(client, f"/p/{reply.id}/restore", {}, form_url="/").status_code == 302
    assert fresh(session, Post, reply.id).deleted_at is None
    assert log_actions(session) == ["post.edit", "post.delete", "post.restore"]
    entry = session.scalar(select(ModerationAction).where(ModerationAction.action == "post.edit"))
    assert entry.reason == "removed a phone number"
    kinds = session.scalars(select(Notification.kind).where(Notification.user_id == author.id))
    assert set(kinds) == {"moderation"}
    other_post = posts_of(session, elsewhere)[0]
    assert client.get(f"/p/{other_post.id}/edit").status_code == 403
    assert post_form(client, f"/p/{other_post.id}/delete", {}, form_url="/").status_code == 403


def test_moderators_see_and_restore_a_deleted_thread_from_the_queue(client, session):
    board = make_board(session)
    author = make_user(session, "regretful")
    thread = make_thread(session, board, author, title="Taken down")
    first = posts_of(session, thread)[0]
    posting.delete_post(session, author, first, thread, board)
    board_moderator(session, board, "restorer_b")
    login(client, "restorer_b")
    page = client.get("/moderation").get_data(as_text=True)
    assert "Taken down" in page and f"/p/{first.id}/restore" in page
    assert (
        post_form(client, f"/p/{first.id}/restore", {}, form_url="/moderation").status_code == 302
    )
    assert fresh(session, Thread, thread.id).deleted_at is None
    assert fresh(session, Board, board.id).thread_count == 1


# -- held posts --------------------------------------------------------------------------------


@pytest.fixture
def approvals(app, monkeypatch):
    monkeypatch.setitem(app.config, "APPROVAL_POST_COUNT", 2)


def test_new_members_first_posts_wait_for_approval(client, session, approvals):
    board = make_board(session)
    thread = make_thread(session, board, make_user(session, "oldtimer", post_count=50))
    make_user(session, "newbie")
    login(client, "newbie")
    response = post_form(client, f"/t/{thread.id}/reply", {"body": "Hello, I'm new here."})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "read by a moderator" in unescape(page)
    assert "Waiting for a moderator" in unescape(page) and "Hello, I" in page
    assert fresh(session, Thread, thread.id).post_count == 1
    response = post_form(client, f"/b/{board.slug}/new", {"title": "My story", "body": "Long."})
    assert response.status_code == 302 and response.headers["Location"] == f"/b/{board.slug}"
    assert session.scalar(select(func.count()).select_from(HeldPost)) == 2
    # Nobody else sees them.
    make_user(session, "bystander")
    login(client, "bystander")
    assert "Hello, I" not in client.get(f"/t/{thread.id}").get_data(as_text=True)
    assert "My story" not in client.get(f"/b/{board.slug}").get_data(as_text=True)
    # A board moderator approves one and rejects the other.
    board_moderator(session, board, "approver")
    login(client, "approver")
    queue = client.get("/moderation").get_data(as_text=True)
    assert "Hello, I" in queue and "New thread: My story" in queue
    reply_held, thread_held = session.scalars(select(HeldPost).order_by(HeldPost.id)).all()
    response = post_form(client, f"/moderation/held/{reply_held.id}/approve", {}, form_url="/")
    assert response.status_code == 302
    response = post_form(
        client, f"/moderation/held/{thread_held.id}/reject", {"reason": "Spam"}, form_url="/"
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Thread, thread.id).post_count == 2
    assert session.scalar(select(func.count()).select_from(HeldPost)) == 0
    assert session.scalar(select(User.post_count).where(User.username == "newbie")) == 1
    assert {"post.approve", "post.reject"} <= set(log_actions(session))
    texts = session.scalars(
        select(Notification.text)
        .join(User, User.id == Notification.user_id)
        .where(User.username == "newbie")
    ).all()
    assert any("approved your post" in t for t in texts)
    assert any("didn't approve" in t and "Spam" in t for t in texts)


def test_approving_a_held_thread_publishes_it(client, session, approvals):
    board = make_board(session)
    newbie = make_user(session, "fresh_face")
    held = posting.start_thread(
        session, newbie, board, "First thread", "Body", rules=posting.PostingRules(2)
    )
    assert isinstance(held, HeldPost)
    admin = make_admin(session)
    post = moderation.approve(session, admin, held)
    session.expire_all()
    thread = session.get(Thread, post.thread_id)
    assert (thread.title, thread.author_id, thread.first_post_id) == (
        "First thread",
        newbie.id,
        post.id,
    )
    assert session.get(Board, board.id).thread_count == 1


def test_moderators_and_members_with_posts_are_never_held(session):
    board = make_board(session)
    rules = posting.PostingRules(approval_post_count=3)
    regular = make_user(session, post_count=3)
    mod = board_moderator(session, board, "heldmod")
    for who in (regular, mod, make_moderator(session)):
        assert isinstance(
            posting.start_thread(session, who, board, "T", f"B {who.id}", rules=rules), Thread
        )


# -- spam rules --------------------------------------------------------------------------------


def test_new_members_may_post_only_a_few_links(client, session):
    board = make_board(session)
    make_user(session, "linker")
    login(client, "linker")
    body = "See https://a.example https://b.example and https://c.example"
    response = post_form(client, f"/b/{board.slug}/new", {"title": "Links", "body": body})
    assert response.status_code == 400
    assert "at most 2 links" in text(response)
    # Links inside the forum don't count.
    body = "See [this](/t/1) and [that](/p/2), https://a.example and https://b.example"
    response = post_form(client, f"/b/{board.slug}/new", {"title": "Links", "body": body})
    assert response.status_code == 302


def test_the_same_text_twice_in_a_row_is_refused(client, session):
    board = make_board(session)
    thread = make_thread(session, board)
    make_user(session, "repeater")
    login(client, "repeater")
    assert post_form(client, f"/t/{thread.id}/reply", {"body": "Same words"}).status_code == 302
    response = post_form(client, f"/t/{thread.id}/reply", {"body": "  Same   words \n"})
    assert response.status_code == 400 and "posted exactly this" in text(response)
    assert post_form(client, f"/t/{thread.id}/reply", {"body": "Other words"}).status_code == 302
    assert fresh(session, Thread, thread.id).post_count == 3


# -- suspensions and bans ----------------------------------------------------------------------


def test_suspended_members_read_but_cannot_post_and_see_why(client, session):
    board = make_board(session)
    thread = make_thread(session, board, title="Open thread")
    member = make_user(session, "hothead")
    make_moderator(session, "warden")
    login(client, "warden")
    assert "Suspend or ban" in client.get("/u/hothead").get_data(as_text=True)
    response = post_form(
        client, "/u/hothead/suspend", {"kind": "suspended", "days": "7", "reason": "Insults"}
    )
    assert response.status_code == 302
    session.expire_all()
    member = session.get(User, member.id)
    assert member.restriction == "suspended"
    assert timedelta(days=6) < member.restricted_until - utcnow() <= timedelta(days=7)
    login(client, "hothead")  # suspended members still log in
    page = text(client.get(f"/t/{thread.id}/open-thread"))
    assert "Your account is suspended until" in page and 'name="body"' not in page
    assert client.get(f"/t/{thread.id}/reply").status_code == 403
    assert (
        post_form(client, f"/t/{thread.id}/reply", {"body": "x"}, form_url="/").status_code == 403
    )
    assert client.get(f"/b/{board.slug}/new").status_code == 403
    assert "Insults" in text(client.get("/settings/account"))
    assert "user.suspend" in log_actions(session)


def test_expired_suspensions_end_by_themselves(session):
    member = make_user(session, restriction="suspended", restricted_until=utcnow() - timedelta(1))
    board = make_board(session)
    assert isinstance(posting.start_thread(session, member, board, "Back", "Hello"), Thread)


def test_bans_log_out_and_refuse_login_until_lifted(client, session):
    make_user(session, "spammer")
    login(client, "spammer")
    admin = make_admin(session, "chief")
    member = session.scalar(select(User).where(User.username == "spammer"))
    moderation.suspend(session, admin, member, kind="banned", reason="Spam", days=None)
    assert "Log in" in client.get("/").get_data(as_text=True)  # the session ended
    response = post_form(
        client, "/login", {"username": "spammer", "password": "correct horse battery"}
    )
    assert response.status_code == 400 and "This account is banned." in text(response)
    login(client, "chief")
    assert (
        post_form(client, "/u/spammer/lift", {"reason": "Appeal"}, form_url="/").status_code == 302
    )
    login(client, "spammer")
    records = session.scalars(select(Suspension)).all()
    assert len(records) == 1 and records[0].lifted_at is not None
    assert records[0].lift_reason == "Appeal"


def test_who_may_suspend_whom(session):
    admin, mod, member = make_admin(session), make_moderator(session), make_user(session)
    board = make_board(session)
    local = board_moderator(session, board, "localonly")
    with pytest.raises(PermissionDenied):
        moderation.suspend(session, local, member, kind="suspended", reason="x", days=1)
    with pytest.raises(PermissionDenied):
        moderation.suspend(session, mod, admin, kind="banned", reason="x", days=1)
    with pytest.raises(PermissionDenied):
        moderation.suspend(session, mod, make_moderator(session), kind="banned", reason="x", days=1)
    with pytest.raises(PermissionDenied):
        moderation.suspend(session, mod, mod, kind="banned", reason="x", days=1)
    moderation.suspend(session, admin, mod, kind="suspended", reason="Break", days=1)
    from forum import policies

    assert not policies.is_global_moderator(mod)  # a suspended moderator moderates nothing


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "suspended", "days": "3", "reason": ""}, "reason", "Please say why"),
        ({"kind": "suspended", "days": "0", "reason": "x"}, "days", "from 1 to 3650"),
        ({"kind": "suspended", "days": "soon", "reason": "x"}, "days", "Not a valid integer"),
        ({"kind": "exiled", "days": "3", "reason": "x"}, "kind", "Not a valid choice"),
    ],
)
def test_suspension_form_explains_bad_input(client, session, data, field, message):
    make_user(session, "target_member")
    make_moderator(session, "careful_warden")
    login(client, "careful_warden")
    response = post_form(client, "/u/target_member/suspend", data)
    assert response.status_code == 400
    assert message in text(response)
    assert session.scalar(select(func.count()).select_from(Suspension)) == 0


# -- board moderators --------------------------------------------------------------------------


def test_admins_choose_board_moderators_and_it_takes_effect(client, session):
    board = make_board(session, "Hearing loss")
    thread = make_thread(session, board, title="Aids")
    make_user(session, "helper")
    make_admin(session, "boss")
    login(client, "boss")
    response = post_form(
        client, "/moderation/moderators", {"board_id": str(board.id), "username": "HELPER"}
    )
    assert response.status_code == 302
    response = post_form(
        client, "/moderation/moderators", {"board_id": str(board.id), "username": "nobody"}
    )
    assert response.status_code == 400 and "no member called" in text(response)
    login(client, "helper")
    assert "Moderation" in client.get("/").get_data(as_text=True)
    assert client.get("/moderation").status_code == 200
    assert post_form(client, f"/t/{thread.id}/lock", {}, form_url="/").status_code == 302
    assert client.get("/moderation/moderators").status_code == 403
    login(client, "boss")
    helper = session.scalar(select(User).where(User.username == "helper"))
    url = f"/moderation/moderators/{board.id}/{helper.id}/remove"
    assert post_form(client, url, {}, form_url="/moderation/moderators").status_code == 302
    login(client, "helper")
    assert client.get("/moderation").status_code == 403
    assert {"board.moderator_add", "board.moderator_remove"} <= set(log_actions(session))


def test_services_honour_board_moderators_without_a_request(session):
    board = make_board(session)
    thread = make_thread(session, board, replies=1)
    mod = board_moderator(session, board, "servicemod")
    reply = posts_of(session, thread)[1]
    posting.edit_post(session, mod, reply, thread, board, "Edited by the board moderator")
    moderation.set_sticky(session, mod, thread, board, True)
    assert fresh(session, Thread, thread.id).is_sticky


def test_moderation_log_shows_the_actions_to_board_moderators(client, session):
    board = make_board(session)
    thread = make_thread(session, board, title="Logged")
    mod = board_moderator(session, board, "logreader")
    moderation.set_locked(session, mod, thread, board, True, "because")
    login(client, "logreader")
    page = text(client.get("/moderation/log"))
    assert "Locked:" in page and "because" in page and "thread.lock" not in page
    make_user(session, "curious")
    login(client, "curious")
    assert client.get("/moderation/log").status_code == 403


def test_every_logged_action_has_words_on_the_log_page():
    import re
    from pathlib import Path

    from forum.services.moderation_log import ACTION_LABELS, action_label

    source = "\n".join(p.read_text() for p in Path("forum/services").glob("*.py"))
    logged = set(re.findall(r'"((?:board|outcome|post|report|thread|user)\.[a-z_]+)"', source))
    logged |= {f"report.{d}" for d in ("resolve", "dismiss", "delete")}
    assert logged and logged <= set(ACTION_LABELS), logged - set(ACTION_LABELS)
    assert action_label("thread.something_new") == "Thread: something new"


def test_reasons_are_checked(session):
    board = make_board(session)
    thread = make_thread(session, board)
    with pytest.raises(ValidationError):
        moderation.set_locked(session, make_moderator(session), thread, board, True, "a\x00b")
