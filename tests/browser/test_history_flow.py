"""A member pastes their signature, reviews what was read, and sees it on their page and posts."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_posting_flow import register


def test_paste_signature_review_accept_and_see_it_everywhere(page):
    register(page, "browser_hist")
    page.goto("/settings/history")
    page.fill(
        "textarea[name=text]",
        "dx 2/16 1.6 x 1.2 cm right AN. CK 4/16 at Lakeside. "
        "1 yr: 1.4 x 1.1, 2 yr: 1.2 x 1.0. Hearing aid fitted 2018.",
    )
    page.click("input[value='Read it']")
    rows = page.locator("table.proposals tbody tr")
    expect(rows).to_have_count(5)
    expect(rows.nth(1)).to_contain_text("CyberKnife")
    rows.nth(4).locator("input[type=checkbox]").uncheck()  # leave the hearing aid out
    page.click("input[value='Add the ticked events to my history']")
    expect(page.locator(".flash")).to_contain_text("Added 4 events")
    expect(page.locator("ol.timeline li")).to_have_count(4)
    expect(page.locator("figure.size-chart svg")).to_be_visible()

    page.check("input[name=visibility][value=public]")
    page.click("input[value='Save privacy and signature']")
    page.goto("/b/life-after-treatment")
    page.click("text=New thread")
    page.fill("input[name=title]", "Three years after CyberKnife")
    page.fill("textarea[name=body]", "Checking in with my story.")
    page.click("input[value='Post thread']")
    first = page.locator("article.post").first
    expect(first.locator(".history-sig")).to_contain_text("CyberKnife 4/16 at Lakeside")
    expect(first.locator(".post-context")).to_contain_text("after CyberKnife")

    page.goto("/u/browser_hist")
    expect(page.locator("table.size-table tbody tr")).to_have_count(3)
    assert page.locator("figure.size-chart svg title").count() >= 1
