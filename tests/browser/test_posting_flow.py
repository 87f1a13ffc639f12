"""A newcomer registers, starts a thread, replies, quotes, edits, and reads it back in Chromium."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def register(page, username: str, password: str = "a long enough password") -> None:  # noqa: S107
    page.goto("/register")
    page.fill("input[name=username]", username)
    page.fill("input[name=email]", f"{username}@example.org")
    page.fill("input[name=password]", password)
    page.fill("input[name=confirm]", password)
    page.click("input[type=submit]")
    expect(page.locator(".flash")).to_contain_text(f"Welcome to the community, {username}")


def test_register_post_reply_quote_edit_and_read_back(page):
    register(page, "browser_bea")

    page.goto("/b/newly-diagnosed")
    page.click("text=New thread")
    page.fill("input[name=title]", "Hearing test results, what do the numbers mean?")
    page.fill("textarea[name=body]", "My audiogram shows a **dip** on the right side.")
    page.click("input[value=Preview]")
    expect(page.locator(".preview strong")).to_have_text("dip")
    page.click("input[value='Post thread']")

    expect(page.locator("h1")).to_contain_text("Hearing test results")
    expect(page).to_have_url(re.compile(r"/t/\d+/hearing-test-results-what-do-the-numbers-mean$"))
    first = page.locator("article.post").first
    expect(first.locator(".post-body strong")).to_have_text("dip")

    page.fill("textarea[name=body]", "Adding: the dip is around 4 kHz.")
    page.click("input[value='Post reply']")
    expect(page.locator("article.post")).to_have_count(2)
    expect(page.locator("article.post").nth(1)).to_contain_text("Reply #1")

    page.locator("article.post").first.locator("text=Quote").click()
    expect(page.locator("textarea[name=body]")).to_have_value(
        re.compile(r"^> \*\*\[browser_bea wrote\]")
    )
    page.locator("textarea[name=body]").press("End")
    page.locator("textarea[name=body]").type("\nThat quote is mine.")
    page.click("input[value='Post reply']")
    third = page.locator("article.post").nth(2)
    expect(third.locator("blockquote")).to_contain_text("dip")

    third.locator("text=Edit").click()
    page.fill("textarea[name=body]", "Edited: quoting myself was silly.")
    page.click("input[value='Save changes']")
    third = page.locator("article.post").nth(2)
    expect(third.locator(".post-body")).to_have_text("Edited: quoting myself was silly.")
    expect(third.locator(".edited")).to_contain_text("by browser_bea")


def test_visitor_reads_demo_thread_without_javascript(browser, live_server):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    page.goto("/")
    page.click("text=Radiation treatment (GK/CK/FSR)")
    page.click("text=Dizzy spells nine months after FSR")
    expect(page.locator(".outcome-banner")).to_contain_text("Vertigo spells faded")
    expect(page.locator("article.post")).to_have_count(6)
    expect(page.locator(".join-box")).to_contain_text("Join to reply")
    context.close()
