"""Two members in two browsers: mentions, quotes, "new" marks, private messages and their mails."""

from __future__ import annotations

import re
import time
from email import message_from_bytes, policy
from pathlib import Path

from playwright.sync_api import expect

BOARD = "/b/newly-diagnosed"


def register(page, username: str, password: str = "a long enough password") -> None:  # noqa: S107
    page.goto("/register")
    page.fill("input[name=username]", username)
    page.fill("input[name=email]", f"{username}@example.org")
    page.fill("input[name=password]", password)
    page.fill("input[name=confirm]", password)
    page.click("input[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text(f"Welcome to the community, {username}")


def log_in(page, username: str, password: str = "cairn-demo-2024") -> None:  # noqa: S107
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("input[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text(f"Welcome back, {username}")


def badge(page, label: str):
    return page.locator(".account-nav a.inbox-link", has_text=label).locator(".inbox-count")


def mails_to(folder_glob: list[Path], address: str) -> list:
    """Notification mails (they carry List-Unsubscribe; account mails don't) to ``address``."""
    found = []
    for path in folder_glob:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["To"] == address and message["List-Unsubscribe"]:
            found.append(message)
    return found


def wait_for_mails(base: Path, address: str, count: int, timeout: float = 30.0) -> list:
    deadline = time.monotonic() + timeout
    while True:
        found = mails_to(sorted(base.glob("live[0-9]*/mail/*.eml")), address)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_two_members_mention_quote_and_message_each_other(browser, live_server, tmp_path_factory):
    one = browser.new_context(base_url=live_server)
    two = browser.new_context(base_url=live_server)
    alma, petra = one.new_page(), two.new_page()

    # Petra (a demo member) chooses a daily digest and watches the board.
    log_in(petra, "petra.v")
    petra.goto("/settings/notifications")
    petra.check("input[value=daily]")
    petra.click("input[value='Save settings']")
    expect(petra.locator(".flash-success")).to_contain_text("settings are saved")
    petra.goto(BOARD)
    petra.click("text=Watch this board")
    expect(petra.locator(".flash-info")).to_contain_text("notified of new threads")

    # Alma (new here, emails straight away) starts a thread that mentions Petra.
    register(alma, "bt_alma")
    alma.goto(BOARD)
    alma.click("text=New thread")
    alma.fill("input[name=title]", "Anyone else told to watch and wait at 9 mm?")
    alma.fill("textarea[name=body]", "Hello @petra.v, how did your first year go?")
    alma.click("input[value='Post thread']")
    expect(alma.locator("article.post").first.locator(".post-body a")).to_have_attribute(
        "href", "/u/petra.v"
    )

    # Petra sees one notification (the mention) and a "New" mark, and follows it.
    petra.goto(BOARD)
    expect(badge(petra, "Notifications")).to_contain_text("1")
    row = petra.locator("tr", has_text="Anyone else told to watch and wait")
    expect(row.locator(".new-posts")).to_be_visible()
    petra.click(".account-nav >> text=Notifications")
    petra.click("text=bt_alma mentioned you in “Anyone else told to watch and wait at 9 mm?”")
    expect(petra.locator("h1")).to_contain_text("Anyone else told to watch and wait")
    expect(badge(petra, "Notifications")).to_have_count(0)

    # Petra quotes Alma's post in a reply.
    petra.locator("article.post").first.locator("text=Quote").click()
    expect(petra.locator("textarea[name=body]")).to_have_value(
        re.compile(r"^> \*\*\[bt_alma wrote\]")
    )
    petra.locator("textarea[name=body]").press("End")
    petra.locator("textarea[name=body]").type("\nThe first year was the hardest; it got easier.")
    petra.click("input[value='Post reply']")
    expect(petra.locator("article.post")).to_have_count(2)
    petra.goto(BOARD)
    expect(
        petra.locator("tr", has_text="Anyone else told to watch").locator(".new-posts")
    ).to_have_count(0)

    # Alma: a notification for the quote, a "New" mark that jumps to Petra's reply.
    alma.goto(BOARD)
    expect(badge(alma, "Notifications")).to_contain_text("1")
    alma.locator("tr", has_text="Anyone else told to watch").locator(".new-posts").click()
    expect(alma).to_have_url(re.compile(r"#post-\d+$"))
    reply_id = alma.url.rsplit("#post-", 1)[1]
    expect(alma.locator(f"#post-{reply_id}")).to_contain_text("it got easier")
    alma.goto("/notifications")
    expect(alma.locator(".notification-list")).to_contain_text("petra.v quoted you in")

    # Petra writes to Alma privately; Alma answers; both see the unread marks.
    petra.goto("/u/bt_alma")
    petra.click("text=Send a private message")
    petra.fill("input[name=subject]", "Coffee chat?")
    petra.fill("textarea[name=body]", "Happy to talk **privately** about hearing aids.")
    petra.click("input[value='Send message']")
    expect(petra.locator(".flash-success")).to_contain_text("Your message is sent")

    alma.goto("/")
    expect(badge(alma, "Messages")).to_contain_text("1")
    alma.click(".account-nav >> text=Messages")
    alma.click("text=Coffee chat?")
    expect(alma.locator("article.message strong")).to_have_text("privately")
    expect(badge(alma, "Messages")).to_have_count(0)
    alma.fill("textarea[name=body]", "Yes please! Thursday?")
    alma.click("input[value='Send reply']")
    expect(alma.locator("article.message")).to_have_count(2)

    petra.goto("/")
    expect(badge(petra, "Messages")).to_contain_text("1")
    petra.click(".account-nav >> text=Messages")
    expect(petra.locator("tr.unread")).to_contain_text("Coffee chat?")
    petra.click("text=Coffee chat?")
    expect(petra.locator("article.message").nth(1)).to_contain_text("Yes please! Thursday?")

    # Mail, as each chose: Alma at once (the quote, the message), Petra nothing until the digest.
    # Mail leaves right after each response, with no cron pass: nothing here sends it.
    base = tmp_path_factory.getbasetemp()
    to_alma = wait_for_mails(base, "bt_alma@example.org", 2)
    subjects = sorted(m["Subject"] for m in to_alma)
    assert subjects == [
        "petra.v quoted you in “Anyone else told to watch and wait at 9 mm?”",
        "petra.v sent you a private message",
    ]
    for mail in to_alma:
        assert "/unsubscribe/" in mail.get_content() and mail["List-Unsubscribe"]
        assert "privately" not in mail.get_content()
    assert mails_to(sorted(base.glob("live[0-9]*/mail/*.eml")), "petra.v@example.org") == []
    one.close()
    two.close()
