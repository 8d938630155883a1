"""What the console's browser tests share: the stack they run on, its merchants, signing in, screenshots."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, expect

from crossdock_local.stack import LocalConnection, LocalStack

PASSWORD = "Console-Test-2026"
# Where screenshots of each page go (docs/console/ when regenerating them); unset, none are taken.
SCREENSHOTS = os.environ.get("CROSSDOCK_CONSOLE_SCREENSHOTS")
# Long enough for a workflow the stack's worker runs; the page itself answers in milliseconds.
expect.set_options(timeout=20_000)


@dataclass(frozen=True)
class Merchant:
    email: str
    tenant: str
    connection: LocalConnection

    @property
    def connection_id(self) -> str:
        return self.connection.connection_id


@dataclass(frozen=True)
class Console:
    stack: LocalStack
    url: str
    first: Merchant
    second: Merchant
    operator_email: str
    # The first merchant's PeakWMS ⇄ Shopify connection, its guided setup not begun.
    warehouse: str
    # The second merchant's Rackbeat ⇄ Shopbox connection: its first branch mapped to a location, the second not.
    till: str


def sign_in(page: Page, console: Console, email: str) -> None:
    page.goto(console.url)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#who-email")).to_have_text(email)


def screenshot(page: Page, name: str) -> None:
    """A small PNG of what the page shows now, for docs/console/ (only when asked for)."""
    if SCREENSHOTS:
        folder = Path(SCREENSHOTS)
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=folder / f"{name}.png", full_page=False)
