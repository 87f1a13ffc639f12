"""A member resolves their thread, a moderator tags and features it, and a visitor finds it."""

from __future__ import annotations

import re

import feedparser
from playwright.sync_api import expect

DEMO_PASSWORD = "cairn-demo-2024"
TITLE = "Just diagnosed with a 1 cm AN, where do I even start?"
SUMMARY = "Chose Gamma Knife; first scan a year later shows no growth"


def log_in(page, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator(".account-nav")).to_contain_text(username)


def log_out(page) -> None:
    page.click("text=Log out")


def test_member_resolves_moderator_features_visitor_finds_it(page, browser, live_server):
    # A member comes back to her thread, posts an update and marks the thread resolved with it.
    log_in(page, "marisol")
    page.goto("/b/newly-diagnosed")
    page.click(f"text={TITLE}")
    page.fill("textarea[name=body]", "A year on: I chose Gamma Knife and the first scan shows "
                                     "no growth. Thank you all for the patience.")
    page.check("input[name=is_update]")
    page.click("input[value='Post reply']")
    expect(page.locator(".updates-box").first).to_contain_text("What happened next")
    page.click("text=Mark resolved: tell how it turned out")
    update_choice = page.locator(".outcome-choice", has_text="A year on")
    expect(update_choice.locator("input[type=radio]")).to_be_checked()
    page.check("input[name=outcome][value=improved]")
    page.fill("input[name=summary]", SUMMARY)
    page.click("input[value='Save outcome']")
    expect(page.locator(".outcome-banner")).to_contain_text(SUMMARY)
    log_out(page)

    # A moderator tags it and features it on the Outcomes page, saying why.
    log_in(page, "wren_h")
    page.goto("/b/newly-diagnosed")
    page.click(f"text={TITLE}")
    page.click("text=Add tags (condition, treatment, symptom)")
    page.check("input[name=condition][value=acoustic-neuroma]")
    page.check("input[name=treatment][value=gamma-knife]")
    page.check("input[name=symptom][value=tinnitus]")
    page.fill("input[name=reason]", "Tagged for the Outcomes page")
    page.click("input[value='Save tags']")
    expect(page.locator(".thread-tags").first).to_contain_text("Gamma Knife")
    page.fill("#feature-reason", "A calm first-year story for newcomers")
    page.click("text=Feature on the Outcomes page")
    expect(page.locator(".outcome-banner")).to_contain_text("Featured story")
    page.goto("/moderation/log")
    expect(page.locator(".moderation-log")).to_contain_text("A calm first-year story")
    log_out(page)

    # A visitor, without JavaScript, filters the Outcomes page and opens the story.
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    visitor = context.new_page()
    visitor.goto("/")
    visitor.click(".account-nav >> text=Outcomes")
    visitor.select_option("select[name=treatment]", "gamma-knife")
    visitor.select_option("select[name=outcome]", "improved")
    visitor.click("input[value=Filter]")
    expect(visitor).to_have_url(re.compile(r"/outcomes\?.*treatment=gamma-knife"))
    rows = visitor.locator("table.outcomes tbody tr")
    expect(rows).to_have_count(2)  # ours and the demo's five-year Gamma Knife story
    expect(rows.first).to_contain_text("Featured")  # featured stories come first
    expect(rows.first).to_contain_text(SUMMARY)
    rows.first.locator("a.thread-title").click()
    expect(visitor.locator("h1")).to_contain_text(TITLE)
    expect(visitor.locator(".outcome-banner")).to_contain_text(SUMMARY)
    highlighted = visitor.locator("article.post.outcome-post")
    expect(highlighted).to_have_count(1)
    expect(highlighted).to_contain_text("A year on: I chose Gamma Knife")
    visitor.click("text=Read the post that tells the outcome")
    expect(visitor).to_have_url(re.compile(r"#post-\d+$"))
    expect(visitor.locator("text=The author posted an update →").first).to_be_visible()

    # The feed of that selection is valid Atom for a real feed parser.
    response = visitor.request.get("/outcomes.atom?treatment=gamma-knife&outcome=improved")
    assert response.ok
    feed = feedparser.parse(response.body())
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert any(entry.title == f"Improved: {TITLE}" and entry.summary == SUMMARY
               for entry in feed.entries)
    context.close()
