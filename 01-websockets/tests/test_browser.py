"""The HTML client in headless Chromium: two pages chat through a real server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


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


async def open_chat(browser: Browser, url: str, name: str) -> Page:
    page = await (await browser.new_context()).new_page()
    await page.goto(url)
    await page.fill("#name", name)
    await page.click("#login button")
    await expect(page.locator("#status")).to_have_text(f"connected as {name}")
    await page.click("#joinform button")  # the room field defaults to "lobby"
    return page


async def test_two_pages_chat_through_the_html_client(browser: Browser, server_url: str) -> None:
    ann = await open_chat(browser, server_url, "ann")
    bob = await open_chat(browser, server_url, "bob")
    await expect(ann.locator("#presence li")).to_have_text(["ann", "bob"])

    await ann.fill("#text", "hello <b>bob</b>")
    await ann.press("#text", "Enter")
    # Shown as text on bob's page, not interpreted as markup.
    await expect(bob.locator("#messages li").last).to_have_text("ann: hello <b>bob</b>")
    assert await bob.locator("#messages b").count() == 0

    await bob.close()
    await expect(ann.locator("#presence li")).to_have_text(["ann"])
    await expect(ann.locator("#messages li").last).to_have_text("bob left (disconnect)")
