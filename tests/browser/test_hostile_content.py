"""Hostile content never runs: a member puts script tags, event handlers, javascript: links and
nested or broken markup in thread titles, post bodies, their signature and treatment history;
a moderator gets one in a memorial line and reads another in a report. Every page that shows
them is rendered in headless Chromium, with the Content-Security-Policy switched off (so the
sanitizer alone must stop them), and checked: no script ran, no dialog opened, no handler
attribute, script element, frame or javascript: URL survived. The same pages with the real
CSP raise no CSP violation: the forum itself has no inline script or style.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

MARK = "window.__pwned = (window.__pwned || 0) + 1"
PAYLOADS = [
    f"<script>{MARK}</script>",
    f'<img src=x onerror="{MARK}">',
    f"<svg onload='{MARK}'><circle r=5></svg>",
    f"<a href=\"javascript:{MARK}\">a javascript: link</a>",
    f"[markdown javascript link](javascript:{MARK})",
    f'![image](x" onerror="{MARK})',
    f'"><script>{MARK}</script><"',
    f"<<script>script>{MARK}<</script>/script>",
    f"<scr<script>ipt>{MARK}</scr</script>ipt>",
    f'<iframe src="javascript:{MARK}"></iframe>',
    f"<details open ontoggle='{MARK}'>details</details>",
    f"</textarea><script>{MARK}</script>",
    f"</script><script>{MARK}</script>",
    f'<math><mtext><table><mglyph><style><img src=x onerror="{MARK}">',
    f"<p style=\"background:url('javascript:{MARK}')\">styled",
    f"<b onmouseover='{MARK}'>bold<i>unclosed",
    f"<a href='jav&#x09;ascript:{MARK}'>encoded</a>",
]
TITLES = [
    f"<script>{MARK}</script> title",
    f'"><img src=x onerror="{MARK}"> title',
    f"</script><script>{MARK}</script> json-ld",
]
INSPECT = """() => {
  const problems = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith('on')) problems.push(`${el.tagName} ${name}`);
      if (['href', 'src', 'action', 'formaction', 'xlink:href', 'data'].includes(name)
          && /^\\s*javascript:/i.test(attr.value.replace(/[\\s\\u0000-\\u001f]/g, ''))) {
        problems.push(`${el.tagName} ${name}=${attr.value}`);
      }
      if (name === 'style') problems.push(`${el.tagName} style`);
    }
  }
  for (const el of document.querySelectorAll('script:not([type="application/ld+json"])')) {
    problems.push('script element');
  }
  for (const el of document.querySelectorAll('iframe, object, embed, frame, svg script')) {
    problems.push(el.tagName + ' element');
  }
  return {problems, pwned: window.__pwned || 0};
}"""
PASSWORD = "a long enough password"


@pytest.fixture
def hostile(browser, live_server):
    """A context with the CSP switched off, recording dialogs and CSP complaints."""
    context = browser.new_context(base_url=live_server, bypass_csp=True)
    dialogs: list[str] = []
    context.on("page", lambda p: p.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss())))
    page = context.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    yield page, dialogs
    context.close()


def check(page, dialogs, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    for element in page.locator("details").all():  # ontoggle fires when opened
        if element.is_visible():
            element.evaluate("el => { el.open = true; }")
    page.mouse.move(10, 10)
    page.wait_for_timeout(50)
    found = page.evaluate(INSPECT)
    assert found["pwned"] == 0, f"a script ran on {url}"
    assert not dialogs, f"a dialog opened on {url}: {dialogs}"
    assert not found["problems"], f"{url}: {found['problems']}"


def log_in(page, username: str, password: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("input[type=submit]")
    expect(page.locator(".flash").first).to_contain_text("Welcome back")


def log_out(page) -> None:
    page.click("button:has-text('Log out')")


def test_hostile_content_never_runs(hostile, browser, live_server):
    page, dialogs = hostile
    # A new member writes everything they can.
    page.goto("/register")
    page.fill("input[name=username]", "hostile_hana")
    page.fill("input[name=email]", "hana@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=confirm]", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator(".flash").first).to_contain_text("Welcome to the community")

    body = "\n\n".join(PAYLOADS)
    thread_urls = []
    for i, title in enumerate(TITLES):
        page.goto("/b/newly-diagnosed/new")
        page.fill("input[name=title]", title)
        page.fill("textarea[name=body]", body + f"\n\nThread {i}.")
        page.click("input[value='Post thread']")
        expect(page.locator("h1")).to_contain_text("title" if i < 2 else "json-ld")
        thread_urls.append(re.sub(r"^https?://[^/]+", "", page.url))
    # The preview renders the same text without saving it.
    page.goto("/b/newly-diagnosed/new")
    page.fill("input[name=title]", TITLES[0])
    page.fill("textarea[name=body]", body)
    page.click("input[value=Preview]")
    found = page.evaluate(INSPECT)
    assert found == {"problems": [], "pwned": 0} and not dialogs, found

    page.goto("/settings/history")
    privacy = page.locator("form[action$='/settings/history/privacy']")
    privacy.locator("input[value=public]").check()
    privacy.locator("input[name=signature]").fill(PAYLOADS[1][:150])
    privacy.locator("input[type=submit]").click()
    expect(page.locator(".flash").first).to_be_visible()
    event = page.locator("form[action$='/settings/history/events']")
    event.locator("select[name=kind]").select_option("note")
    event.locator("input[name=date]").fill("2021")
    event.locator("textarea[name=note]").fill(PAYLOADS[0] + " " + PAYLOADS[3])
    event.locator("input[name=place]").fill(PAYLOADS[5][:110])
    event.locator("input[type=submit]").click()
    expect(page.locator(".flash").first).to_contain_text("Event added")
    first_post = page.goto(thread_urls[0]) and page.locator("article.post").first
    post_id = first_post.get_attribute("id").removeprefix("post-")
    for url in [*thread_urls, "/b/newly-diagnosed", "/u/hostile_hana", "/settings/history",
                f"/p/{post_id}/edit"]:  # fmt: skip
        check(page, dialogs, url)
    # Editing keeps a revision with the hostile text; moderators read it as source.
    page.goto(f"/p/{post_id}/edit")
    page.fill("textarea[name=body]", "Edited. " + PAYLOADS[11])
    page.click("input[value='Save changes']")
    log_out(page)

    # Another member reports the post with a hostile reason.
    log_in(page, "marisol", "cairn-demo-2024")
    page.goto(f"/p/{post_id}/report")
    page.fill("textarea[name=reason]", PAYLOADS[6] + "\n" + PAYLOADS[12])
    page.click("input[type=submit]")
    expect(page.locator(".flash").first).to_contain_text("Thank you")
    log_out(page)

    # A moderator writes a hostile memorial line, then reads the queue and the revisions.
    log_in(page, "wren_h", "cairn-demo-2024")
    page.goto("/u/hostile_hana")
    page.locator("summary:has-text('in memoriam')").click()
    page.check("input[name=remembered]")
    page.fill("input[name=memorial_line]", PAYLOADS[10][:110])
    page.click("form[action$='/memoriam'] input[type=submit]")
    for url in ["/moderation", "/u/hostile_hana", thread_urls[0], f"/p/{post_id}/revisions",
                "/moderation/log"]:  # fmt: skip
        check(page, dialogs, url)
    queue = page.goto("/moderation") and page.locator(".report-reason").first
    expect(queue).to_contain_text("<script>")  # shown as text, exactly as written


def test_the_real_csp_finds_nothing_inline_to_block(browser, live_server):
    """With the CSP on, pages raise no CSP violation: no inline script, handler or style."""
    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    complaints: list[str] = []
    page.on(
        "console",
        lambda m: complaints.append(m.text) if "Content Security Policy" in m.text else None,
    )
    for url in ["/", "/b/newly-diagnosed", "/login", "/register", "/outcomes", "/search?q=scan"]:
        response = page.goto(url)
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.goto("/b/newly-diagnosed")
    page.locator("td a, .thread-title a").first.click()
    assert page.locator("script[type='application/ld+json']").count() == 1
    assert not complaints, complaints
    context.close()
