"""Moderation and account settings work in a browser without JavaScript: a member reports a
post, a moderator deletes it from the queue and locks the thread; a member changes their
username and logs out everywhere."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

DEMO_PASSWORD = "cairn-demo-2024"


@pytest.fixture
def no_js(browser, live_server):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    yield context.new_page()
    context.close()


def log_in(page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("input[type=submit]")
    expect(page.locator(".flash").first).to_contain_text("Welcome back")


def test_report_queue_delete_and_lock_without_javascript(no_js):
    page = no_js
    log_in(page, "marisol")
    page.goto("/b/newly-diagnosed")
    page.locator("td a").first.click()
    thread_url = page.url
    page.fill("textarea[name=body]", "Buy miracle drops, no surgery needed!")
    page.click("input[value='Post reply']")
    page.click("button:has-text('Log out')")

    page.goto("/register")
    page.fill("input[name=username]", "careful_reader")
    page.fill("input[name=email]", "careful@example.org")
    page.fill("input[name=password]", "a long enough password")
    page.fill("input[name=confirm]", "a long enough password")
    page.click("input[type=submit]")
    page.goto(thread_url)
    page.locator("article.post").last.locator("text=Report").click()
    page.fill("textarea[name=reason]", "Selling a fake cure.")
    page.click("input[type=submit]")
    expect(page.locator(".flash").first).to_contain_text("The moderators will look")
    page.click("button:has-text('Log out')")

    log_in(page, "wren_h")
    page.get_by_role("link", name="Moderation", exact=True).click()
    item = page.locator(".queue-item").filter(has_text="Buy miracle drops")
    expect(item).to_contain_text("Selling a fake cure.")
    item.locator("input[name=note]").fill("Spam")
    item.locator("input[value='Delete the post and resolve']").click()
    expect(page.locator(".flash").first).to_contain_text("1 report resolved, post deleted")
    expect(page.locator(".queue-item").filter(has_text="Buy miracle drops")).to_have_count(0)

    page.goto(thread_url)
    page.locator("summary:has-text('Moderator: lock')").click()
    page.fill("input#lock-reason", "Resting this thread")
    page.click("button:has-text('Lock')")
    expect(page.locator(".meta .badge").first).to_have_text("Locked")
    page.goto("/moderation/log")
    expect(page.locator("table.moderation-log")).to_contain_text("Resting this thread")


def test_account_settings_without_javascript(no_js):
    page = no_js
    page.goto("/register")
    page.fill("input[name=username]", "settings_sam")
    page.fill("input[name=email]", "sam@example.org")
    page.fill("input[name=password]", "a long enough password")
    page.fill("input[name=confirm]", "a long enough password")
    page.click("input[type=submit]")
    page.get_by_role("link", name="Settings", exact=True).click()
    expect(page.locator("h1")).to_have_text("Account settings")
    page.fill("input[name=username]", "settings_samuel")
    page.click("input[value='Change username']")
    expect(page.locator(".flash").first).to_contain_text("Your username is now settings_samuel")
    page.fill("#current_password", "wrong password")
    page.locator("form[action$='/password'] input[name=password]").fill("another long password")
    page.locator("form[action$='/password'] input[name=confirm]").fill("another long password")
    page.click("input[value='Change password']")
    expect(page.locator("form[action$='/password'] .error")).to_contain_text(
        "isn't your current password"
    )
    page.click("button:has-text('Log out everywhere')")
    expect(page.locator(".flash").first).to_contain_text("logged out everywhere")
    log_in(page, "settings_samuel", "a long enough password")
