"""The web console in a real browser: Debian's chromium driven by Playwright for Python (never `playwright install`:
`.ci/chromium` installs the browser with apt-get where it is missing), against one embedded stack per module served
over HTTP exactly as `crossdock serve` serves it — the console's files, the admin API behind its Cognito authorizer,
Cognito's own API at `/_aws/cognito-idp/`, the simulators — with a worker doing what AWS does continuously (queues,
workflows, schedules), so a bar the page polls moves by itself.

Two merchants of two tenants each have a Rackbeat ⇄ Shopify connection and a user, the first a PeakWMS ⇄ Shopify
connection too, the second a Rackbeat ⇄ Shopbox one; an operator sees them all.
Screenshots of each page go to `$CROSSDOCK_CONSOLE_SCREENSHOTS` when it names a folder (docs/console.md).
"""

from __future__ import annotations

import itertools
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from console_pages import PASSWORD, Console, Merchant
from embedded_merchants import peakwms_connection
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from crossdock.integrations.rackbeat_shopbox.install import ShopboxCredentials
from crossdock.operations import onboarding
from crossdock.store import connections
from crossdock_local.scenarios.demo import DEMO_SKUS, demo_settings
from crossdock_local.stack import LocalStack

_shops = itertools.count(1)


def _merchant(stack: LocalStack, tenant: str, **settings: Any) -> Merchant:
    base = demo_settings()
    for group, values in settings.items():
        base[group] = {**base.get(group, {}), **values} if isinstance(values, dict) else values
    connection = stack.create_connection(
        base,
        shop_domain=f"{tenant}-{next(_shops)}.myshopify.com",
        rackbeat_seed=lambda rackbeat, account: rackbeat.seed_product_group(account, 10, "Import"),
    )
    stack.seed_items(connection.rackbeat_account_id, DEMO_SKUS)
    assert connections.set_tenant(stack.table, connection.connection_id, tenant)
    email = f"anna@{tenant}.example"
    stack.create_user(email, PASSWORD, tenant=tenant)
    return Merchant(email, tenant, connection)


def _shopbox_connection(stack: LocalStack, tenant: str) -> str:
    """A Rackbeat ⇄ Shopbox connection of `tenant` as `connections create --kind rackbeat_shopbox` makes it: a
    Shopbox client with two branches and a tag, a Rackbeat account with a location per branch, the stock group and
    the two UID fields; the first branch mapped, the second not yet."""
    number = next(_shops)
    username, password = f"butik{number}@{tenant}.example", f"kodeord-{number}"
    client = stack.shopbox.seed_client(
        f"{tenant} butikker {number}",
        username=username,
        password=password,
        branches={"Aarhus": ["Kasse 1"], "Odense": ["Kasse 1"]},
        tags=["Krus"],
    )
    account, api_key = stack.new_rackbeat_account()
    stack.rackbeat.seed_product_group(account, 1, "Varer m/lagerstrekk")
    stack.rackbeat.seed_location(account, "L2", "Butik Odense")
    stack.rackbeat.seed_field(account, 21, "Shopbox UID felt ID", type="text")
    stack.rackbeat.seed_field(account, 22, "Shopbox variasjonsfelt ID", type="text")
    stack.rackbeat.seed_customer(account, 900, "Kassesalg")
    branches = [str(branch["uid"]) for branch in client["branches"]]
    created = onboarding.create_shopbox_connection(
        stack.operator,
        rackbeat_api_key=api_key,
        shopbox=ShopboxCredentials(username=username, password=password),
        settings={
            "product_sync": "rackbeat",
            "uid_field_id": "21",
            "variant_field_id": "22",
            "locations": {branches[0]: "L1"},
            "main_location_rackbeat": "L1",
            "default_category_group": 1,
            "sales": {"customer_number": 900},
        },
        tenant=tenant,
    )
    return created.connection_id


def _keep_running(stack: LocalStack, stop: threading.Event) -> None:
    """What AWS and the platforms do continuously: every simulator's webhooks delivered, queues polled, workflows
    run, schedules fired (`settle` until nothing is in flight, then again once there is)."""
    while not stop.is_set():
        if not stack.settle():
            stop.wait(0.05)


@pytest.fixture(scope="module")
def console() -> Iterator[Console]:
    with LocalStack(seed=11) as stack:
        first = _merchant(
            stack, "acme", initial_sync="enabled", product_sync={"master": "none", "default_product_group": 10}
        )
        second = _merchant(stack, "globex")
        warehouse = peakwms_connection(stack, first.tenant, name="Lager", products=12)
        till = _shopbox_connection(stack, second.tenant)
        operator = "ops@crossdock.example"
        stack.create_user(operator, PASSWORD, operator=True)
        stop = threading.Event()
        worker = threading.Thread(target=_keep_running, args=(stack, stop), name="aws-worker", daemon=True)
        worker.start()
        try:
            yield Console(stack, f"{stack.admin_api_url}/console/", first, second, operator, warehouse, till)
        finally:
            stop.set()
            worker.join(timeout=30)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is not installed: run .ci/chromium (apt-get install chromium)")
    launched = playwright.chromium.launch(executable_path=chromium)
    yield launched
    launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context per test: its own sessionStorage, so no test inherits another's sign-in."""
    context = browser.new_context(viewport={"width": 1200, "height": 860})
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(str(error)))
    yield opened
    context.close()
    assert problems == [], f"the page's script failed: {problems}"
