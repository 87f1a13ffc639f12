"""Members' avatars (pages, account settings) and child boards (index, board page, crumbs)."""

from __future__ import annotations

import re

from forum.models import Board
from forum.web.security import CONTENT_SECURITY_POLICY
from tests.conftest import login, post_form
from tests.factories import make_board, make_thread, make_user
from tests.integration.test_html_validity import assert_valid_pages
from tests.integration.test_query_counts import statements_for

WREN = "https://img.example.org/wren.png"


def _child(session, parent: Board, name: str, **fields) -> Board:
    board = make_board(session, name, **fields)
    board.category_id = parent.category_id
    board.parent_id = parent.id
    session.commit()
    return board


def _img(page: str, src: str) -> str:
    match = re.search(r'<img class="avatar[^>]*src="' + re.escape(src) + '"[^>]*>', page)
    assert match, f"no avatar {src}"
    return match.group(0)


# -- avatars on pages --------------------------------------------------------------------------


def test_https_avatar_shows_beside_posts_and_on_the_member_page(client, session):
    wren = make_user(session, "wren", avatar_url=WREN)
    board = make_board(session)
    thread = make_thread(session, board, wren)
    for url in (f"/t/{thread.id}/{thread.slug}", "/u/wren"):
        page = client.get(url).get_data(as_text=True)
        img = _img(page, WREN)
        for attribute in (
            'loading="lazy"',
            'referrerpolicy="no-referrer"',
            'alt="wren’s avatar"',
            'width="',
            'height="',
        ):
            assert attribute in img, (url, attribute)
    # The policy that lets HTTPS images load (as in posts) is what the avatar relies on.
    assert "img-src 'self' https:" in CONTENT_SECURITY_POLICY


def test_no_avatar_or_an_http_one_shows_the_placeholder(client, session):
    make_user(session, "moss", avatar_url="http://img.example.org/moss.gif")
    make_user(session, "quill")
    for name in ("moss", "quill"):
        page = client.get(f"/u/{name}").get_data(as_text=True)
        assert "avatar-placeholder" in page
        assert '<img class="avatar' not in page
    assert "img.example.org" not in client.get("/u/moss").get_data(as_text=True)


def test_avatar_address_is_escaped(client, session):
    hostile = 'https://img.example.org/a.png"onerror="alert(1)'
    make_user(session, "mallory", avatar_url=hostile)
    page = client.get("/u/mallory").get_data(as_text=True)
    assert 'onerror="alert(1)' not in page and "&#34;onerror=&#34;" in page


# -- account settings --------------------------------------------------------------------------


def test_member_sets_and_removes_their_avatar(client, session):
    member = make_user(session, "fern")
    login(client, "fern")
    response = post_form(
        client,
        "/settings/account/avatar",
        {"avatar_url": f"  {WREN}  "},
        form_url="/settings/account",
    )
    assert response.status_code == 302
    session.refresh(member)
    assert member.avatar_url == WREN
    assert WREN in client.get("/settings/account").get_data(as_text=True)

    response = post_form(
        client, "/settings/account/avatar", {"avatar_url": WREN, "remove": "Remove avatar"},
        form_url="/settings/account",
    )  # fmt: skip
    assert response.status_code == 302
    session.refresh(member)
    assert member.avatar_url is None


def test_bad_avatar_addresses_get_a_clear_message(client, session):
    member = make_user(session, "fern")
    login(client, "fern")
    for value, message in (
        ("http://img.example.org/a.png", "starting with https://"),
        ("javascript:alert(1)", "starting with https://"),
        ("img.example.org/a.png", "starting with https://"),
        ("https://", "starting with https://"),
        ("https://img.example.org/a b.png", "can&#39;t contain spaces"),
        ("https://user:pw@img.example.org/a.png", "user name or password"),
        ("https://img.example.org:99999/a.png", "doesn&#39;t look like a web address"),
        ("https://img.example.org/" + "a" * 500, "at most 500 characters"),
    ):
        response = post_form(
            client, "/settings/account/avatar", {"avatar_url": value}, form_url="/settings/account"
        )
        assert response.status_code == 400, value
        assert message in response.get_data(as_text=True), value
    session.refresh(member)
    assert member.avatar_url is None


def test_suspended_member_may_remove_but_not_set_an_avatar(client, session):
    member = make_user(session, "fern", restriction="suspended", avatar_url=WREN)
    login(client, "fern")
    response = post_form(
        client, "/settings/account/avatar", {"avatar_url": WREN}, form_url="/settings/account"
    )
    assert response.status_code == 403
    response = post_form(
        client,
        "/settings/account/avatar",
        {"remove": "Remove avatar"},
        form_url="/settings/account",
    )
    assert response.status_code == 302
    session.refresh(member)
    assert member.avatar_url is None


# -- child boards ------------------------------------------------------------------------------


def test_index_lists_child_boards_under_their_parent(client, session):
    parent = make_board(session, "Newly diagnosed")
    _child(session, parent, "Hearing after treatment")
    _child(session, parent, "Staff room", members_only=True)
    page = client.get("/").get_data(as_text=True)
    row = page[page.index("Newly diagnosed") :]
    row = row[: row.index("</tr>")]
    assert "Sub-boards:" in row and "Hearing after treatment" in row
    assert "Staff room" not in page  # members only: visitors don't see it
    assert page.count('class="board-name"') == 1  # the children have no rows of their own

    make_user(session, "reader")
    login(client, "reader")
    assert "Staff room" in client.get("/").get_data(as_text=True)


def test_child_of_a_hidden_parent_stands_at_the_top_level(client, session):
    parent = make_board(session, "Lounge", members_only=True)
    _child(session, parent, "Open notes")
    page = client.get("/").get_data(as_text=True)
    assert "Lounge" not in page and 'class="board-name" href="/b/open-notes"' in page


def test_board_page_lists_children_and_breadcrumbs_show_the_parents(client, session):
    top = make_board(session, "Newly diagnosed")
    middle = _child(session, top, "Hearing after treatment")
    leaf = _child(session, middle, "Tinnitus corner")
    page = client.get(f"/b/{middle.slug}").get_data(as_text=True)
    crumbs = page[
        page.index('class="breadcrumbs"') : page.index("</nav>", page.index("breadcrumbs"))
    ]
    assert f'href="/b/{top.slug}"' in crumbs and "Hearing after treatment" in crumbs
    assert "Sub-boards" in page and f'href="/b/{leaf.slug}"' in page

    page = client.get(f"/b/{leaf.slug}").get_data(as_text=True)
    crumbs = page[
        page.index('class="breadcrumbs"') : page.index("</nav>", page.index("breadcrumbs"))
    ]
    assert crumbs.index(top.slug) < crumbs.index(middle.slug)
    assert "Sub-boards" not in page


def test_child_boards_keep_the_query_counts_fixed(client, session, count_queries):
    authors = [make_user(session, f"author{i}") for i in range(2)]
    parent = make_board(session, "Parent")
    child = _child(session, parent, "Child")
    make_thread(session, child, authors[0], replies=1)
    make_thread(session, parent, authors[1])
    small = {
        "index": statements_for(client, count_queries, "/"),
        "board": statements_for(client, count_queries, f"/b/{parent.slug}"),
    }
    for i in range(4):
        grandchild = _child(session, child, f"Grandchild {i}")
        make_thread(session, grandchild, authors[i % 2])
        _child(session, parent, f"Child {i}")
    large = {
        "index": statements_for(client, count_queries, "/"),
        "board": statements_for(client, count_queries, f"/b/{parent.slug}"),
    }
    assert large == small
    assert statements_for(client, count_queries, f"/b/{grandchild.slug}") == small["board"]


def test_pages_with_avatars_and_child_boards_are_valid_html(client, session, tmp_path):
    wren = make_user(session, "wren", avatar_url=WREN)
    make_user(session, "moss")
    parent = make_board(session, "Newly diagnosed")
    child = _child(session, parent, "Hearing after treatment")
    _child(session, child, "Tinnitus corner")
    thread = make_thread(session, child, wren, replies=1)
    login(client, "wren")
    pages = {
        "index": "/",
        "parent": f"/b/{parent.slug}",
        "child": f"/b/{child.slug}",
        "thread": f"/t/{thread.id}/{thread.slug}",
        "member-avatar": "/u/wren",
        "member-placeholder": "/u/moss",
        "settings": "/settings/account",
    }
    assert_valid_pages(client, pages, tmp_path)
