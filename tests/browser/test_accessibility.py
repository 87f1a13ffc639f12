"""axe-core in headless Chromium: no serious or critical violations on the public pages, in
light and dark themes; and a phone-sized (360 px) thread page that reads without scrolling
sideways and works without JavaScript."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(os.environ.get("CAIRN_SCREENSHOTS", "/tmp/cairn-screenshots"))  # noqa: S108


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        hint = "run `npm install --no-audit --no-fund` (make test does)"
        if shutil.which("npm") is None:
            hint = "install Node.js and npm, then run `npm install --no-audit --no-fund`"
        pytest.skip(f"axe-core not found at {AXE}: {hint}")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def public_urls(browser, live_server) -> dict[str, str]:
    """The pages to check, found by following links from the board index like a visitor."""
    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    page.goto("/")
    board = page.locator("a.board-name").first.get_attribute("href")
    page.goto(board)
    thread = page.locator("a.thread-title").first.get_attribute("href")
    page.goto(thread)
    member = page.locator(".author-name a").first.get_attribute("href")
    context.close()
    return {
        "board index": "/",
        "board": board,
        "thread": thread,
        "member": member,
        "search": "/search?q=hearing",
        "login": "/login",
        "register": "/register",
    }


def serious_violations(page, axe_source: str) -> list[str]:
    page.add_script_tag(content=axe_source)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at "
        + ", ".join(json.dumps(n["target"]) for n in v["nodes"][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(
    "name", ["board index", "board", "thread", "member", "search", "login", "register"]
)
def test_no_serious_accessibility_violations(
    browser, live_server, public_urls, axe_source, name, scheme
):
    # bypass_csp: the page's own policy (rightly) refuses the injected checker.
    context = browser.new_context(base_url=live_server, bypass_csp=True, color_scheme=scheme)
    try:
        page = context.new_page()
        response = page.goto(public_urls[name])
        assert response is not None and response.status == 200
        violations = serious_violations(page, axe_source)
        assert not violations, f"{name} ({scheme}):\n" + "\n".join(violations)
    finally:
        context.close()


def test_thread_reads_on_a_360px_phone_without_javascript(browser, live_server, public_urls):
    context = browser.new_context(
        base_url=live_server,
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        java_script_enabled=False,
    )
    try:
        page = context.new_page()
        page.goto(public_urls["thread"])
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "thread-360.png"), full_page=False)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"the page scrolls sideways at 360 px ({width} px wide)"
        assert page.locator("h1").is_visible()
        assert page.locator(".post").first.is_visible()
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.textContent")
        assert re.search(r"Skip to content", focused or "")
    finally:
        context.close()
