"""The HTML login form in headless Chromium: a cookie session the page's scripts cannot
read, a CSRF-protected write from the page, and logout."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright, expect

from auth.app import create_app
from demo.server import ServerThread
from tests.conftest import PEOPLE, add_people, make_settings, services_of_app

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real server for the module. The cookie keeps its Secure flag: browsers treat
    http://localhost as a secure origin, so this is the production setting, tested."""
    app = create_app(make_settings(Path(tmp_path_factory.mktemp("browser"))))
    with ServerThread(app) as server:
        add_people(services_of_app(app))
        yield f"http://localhost:{server.port}"


@pytest.fixture
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    # The distribution's Chromium, never a downloaded one: nothing leaves this machine.
    async with async_playwright() as pw:
        instance = await pw.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield instance
        finally:
            await instance.close()


async def test_login_form_cookie_session_csrf_write_and_logout(
    browser: Browser, server_url: str
) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(server_url + "/")
    visitor = {c["name"]: c["value"] for c in await context.cookies()}["sid"]

    await page.fill("#username", "bob")
    await page.fill("#password", "not bob's password")
    await page.click("#login button")
    await expect(page.locator("#error")).to_have_text("wrong username or password")

    await page.fill("#username", "bob")
    await page.fill("#password", PEOPLE["bob"][0])
    await page.click("#login button")
    await expect(page.locator("#who")).to_have_text("Signed in as bob")

    cookie = next(c for c in await context.cookies() if c["name"] == "sid")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"
    assert cookie["value"] != visitor  # rotated at login
    assert "sid=" not in await page.evaluate("document.cookie")  # no script can read it

    await page.click("#order")  # fetch() with the page's X-CSRF-Token
    await expect(page.locator("#result")).to_have_text("order 1 created")
    forged = await page.evaluate(
        """async () => (await fetch("/orders", {method: "POST",
             headers: {"Content-Type": "application/json"},
             body: JSON.stringify({item: "x", quantity: 1})})).status"""
    )
    assert forged == 403  # the same cookie without the token

    await page.click("#logout button")
    await expect(page.locator("#login")).to_be_visible()
    status = await page.evaluate('async () => (await fetch("/users/me")).status')
    assert status == 401
    await context.close()
