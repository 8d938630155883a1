"""The web console as a merchant and an operator use it, in chromium, on the embedded stack (tests/browser/conftest):
sign in, edit a setting and see the refusal beside the field, save, start the initial sync and watch its bar reach
100 %, retry an event that needed attention; another tenant's merchant sees none of it; an operator sees every
connection and the dead letters."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import boto3
from console_pages import Console, screenshot, sign_in
from playwright.sync_api import Page, expect

from crossdock.store import connections, events
from crossdock_local.sims.shopify.order_generator import varied_orders

CATALOG = 24


def _open_connection(page: Page, console: Console, view: str) -> None:
    page.goto(f"{console.url}#/connections/{console.first.connection_id}/{view}")
    expect(page.locator(f"#view-{view}")).to_be_visible()


def _stored(console: Console) -> Any:
    found = connections.load_connection(console.stack.table, console.first.connection_id)
    assert found is not None
    return found


def test_a_merchant_sees_a_refused_setting_beside_its_field_then_saves(page: Page, console: Console) -> None:
    # GIVEN the merchant signed in, on the list of their connections (Rackbeat ⇄ Shopify and PeakWMS ⇄ Shopify)
    sign_in(page, console, console.first.email)
    rows = page.locator("#connections-table tbody tr")
    expect(rows).to_have_count(2)
    shop = rows.filter(has_text=console.first.connection.shop_domain)
    expect(shop).to_contain_text("Rackbeat ⇄ Shopify")
    expect(shop).to_contain_text("healthy")
    screenshot(page, "connections")
    # WHEN they open its settings  THEN the four tabs of SPEC §1 are there, General open
    shop.get_by_role("link").click()
    tabs = page.get_by_role("tab")
    expect(tabs).to_have_text(["General", "Product", "Order", "Advanced"])
    expect(page.get_by_role("tab", name="General")).to_have_attribute("aria-selected", "true")
    # AND the tabs work from the keyboard (arrow keys move and open, as the WAI-ARIA tabs pattern has it)
    page.get_by_role("tab", name="General").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Product")).to_be_focused()
    expect(page.get_by_role("tabpanel").get_by_role("group", name="Stock sync")).to_be_visible()
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("tab", name="General")).to_have_attribute("aria-selected", "true")
    before = _stored(console).settings_version
    # AND every field the form rendered has a label
    unlabelled = page.locator("#settings-panels [data-path]").evaluate_all(
        "inputs => inputs.filter(input => input.labels.length === 0).map(input => input.dataset.path)"
    )
    assert unlabelled == []
    screenshot(page, "settings-general")
    # WHEN the required shipping item is emptied and the settings saved
    shipping = page.locator('[data-path="shipping_product_number"]')
    original = shipping.input_value()
    shipping.fill("")
    page.get_by_role("button", name="Save settings").click()
    # THEN the refusal is beside that field, tied to it for screen readers, and nothing was saved
    error = page.locator(f"#{shipping.get_attribute('id')}-error")
    expect(error).not_to_be_empty()
    expect(shipping).to_have_attribute("aria-invalid", "true")
    assert error.get_attribute("id") in (shipping.get_attribute("aria-describedby") or "").split()
    expect(page.get_by_role("alert")).not_to_be_empty()
    expect(shipping).to_be_focused()
    assert _stored(console).settings_version == before
    screenshot(page, "settings-error")
    # WHEN it is filled again and the Order tab's transfer moment changed, then saved
    shipping.fill(original)
    page.get_by_role("tab", name="Order").click()
    page.locator('[data-path="orders.transfer_when"]').select_option("created")
    screenshot(page, "settings-order")
    page.get_by_role("button", name="Save settings").click()
    # THEN a new version is saved with the change, by this merchant, and the form shows it with no error left
    expect(page.get_by_role("status")).to_have_text(f"Settings saved (version {before + 1}).")
    expect(page.locator("#settings-version")).to_contain_text(f"Version {before + 1}")
    expect(page.locator("#settings-version")).to_contain_text(console.first.email)
    expect(page.locator("#settings-panels .field-error:not(:empty)")).to_have_count(0)
    stored = _stored(console)
    assert stored.settings_version == before + 1
    assert stored.settings.orders.transfer_when == "created"


def test_a_merchant_starts_the_initial_sync_and_watches_its_bar_reach_100(page: Page, console: Console) -> None:
    # GIVEN the merchant's shop with a catalogue, its connection set to sync it once
    console.stack.shopify.seed_catalog(
        console.first.connection.shop_domain,
        CATALOG,
        variants_per_product=2,
        stock=lambda index: index % 7,
        sku=lambda index: f"CONSOLE-{index:03d}",
    )
    sign_in(page, console, console.first.email)
    _open_connection(page, console, "initial-sync")
    bar = page.get_by_label("Progress")
    expect(bar).to_have_attribute("value", "0")
    expect(page.locator("#initial-sync-text")).to_have_text("not started: 0 %")
    # AND every value the bar takes is recorded as the page sets it
    bar.evaluate(
        """bar => { window.barValues = [];
        new MutationObserver(() => window.barValues.push(bar.getAttribute('value')))
          .observe(bar, {attributes: true, attributeFilter: ['value']}); }"""
    )
    # WHEN they start it
    page.get_by_role("button", name="Start initial sync").click()
    # THEN the bar, polling the API, reaches 100 % with the counts, never going back, and it cannot be started again
    expect(bar).to_have_attribute("value", "100", timeout=60_000)
    expect(page.locator("#initial-sync-text")).to_contain_text(f"done: 100 % ({CATALOG} of {CATALOG})")
    expect(page.get_by_role("button", name="Start initial sync")).to_be_disabled()
    values = [int(value) for value in page.evaluate("window.barValues") if value is not None]
    assert values and values == sorted(values) and values[-1] == 100
    screenshot(page, "initial-sync")
    # AND every item is in Rackbeat
    products = console.stack.rackbeat.state(console.first.connection.rackbeat_account_id).products
    assert {f"CONSOLE-{index:03d}" for index in range(CATALOG)} <= set(products)


def test_a_merchant_retries_an_event_that_needed_attention(page: Page, console: Console) -> None:
    # GIVEN an order for an item Rackbeat does not have yet: its transfer needs attention
    merchant = console.first
    plan = varied_orders(1, seed=5, skus=["LATE-ITEM-1"])[0]
    console.stack.shopify.create_order(merchant.connection.shop_domain, plan.order, paid=True)
    sign_in(page, console, merchant.email)
    _open_connection(page, console, "events")
    page.get_by_label("Status").select_option("needs_attention")
    page.get_by_role("button", name="Filter").click()
    failed = page.locator("#events-table tbody tr").filter(has=page.get_by_role("button", name=re.compile("Retry")))
    expect(failed.first).to_be_visible()
    expect(failed.first).to_contain_text("LATE-ITEM-1")
    screenshot(page, "events")
    event_id = failed.first.get_attribute("data-event")
    # WHEN the item is made in Rackbeat and the event retried from the log
    console.stack.seed_items(merchant.connection.rackbeat_account_id, ["LATE-ITEM-1"])
    failed.first.get_by_role("button", name=re.compile("Retry")).click()
    # THEN the page says it was queued again, as a new event, and the old one is closed naming it
    status = page.get_by_role("status")
    expect(status).to_contain_text("queued again as event")
    found = re.search(r"as event (\S+)\.", status.inner_text())
    assert found is not None
    retried_as = found.group(1)
    page.get_by_label("Status").select_option("")
    page.get_by_role("button", name="Filter").click()
    old_row = page.locator(f'#events-table tr[data-event="{event_id}"]')
    expect(old_row).to_contain_text(retried_as)
    expect(old_row.get_by_role("button", name=re.compile("Retry"))).to_have_count(0)
    # AND the new event, followed by the page, ends done: the order is in Rackbeat
    expect(page.locator(f'#events-table tr[data-event="{retried_as}"] td.status-done')).to_be_visible(timeout=60_000)
    stored = {str(row["event_id"]): row for row in events.list_events(console.stack.table, merchant.connection_id)}
    assert stored[retried_as]["status"] == "done"
    assert retried_as in str(stored[str(event_id)]["reason"])
    # AND the closed event names who retried it: the signed-in merchant, not "an operator"
    assert str(stored[str(event_id)]["reason"]).endswith(f"by {merchant.email}")


def test_another_tenants_merchant_cannot_see_the_first_ones_connection(page: Page, console: Console) -> None:
    # GIVEN the sign-in page, with a wrong password first: refused, and still signed out
    page.goto(console.url)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("E-mail").fill(console.second.email)
    page.get_by_label("Password", exact=True).fill("Not-The-Password-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).not_to_be_empty()
    expect(page.locator("#main-nav")).to_be_hidden()
    screenshot(page, "sign-in")
    # AND the second tenant's merchant signed in
    sign_in(page, console, console.second.email)
    # THEN the list holds their connections only (Rackbeat ⇄ Shopify and Rackbeat ⇄ Shopbox)
    rows = page.locator("#connections-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text=console.second.connection.shop_domain)).to_have_count(1)
    expect(page.locator("#connections-table")).not_to_contain_text(console.first.connection.shop_domain)
    # WHEN they open the first merchant's connection by its address
    page.goto(f"{console.url}#/connections/{console.first.connection_id}/settings")
    # THEN it is not found, as an id that does not exist, and nothing of it is shown
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.locator("#page-connection")).to_be_hidden()
    assert console.first.connection.shop_domain not in page.content()
    screenshot(page, "not-found")
    page.goto(f"{console.url}#/connections/c-no-such-connection/events")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    # AND the dead letters are not theirs to see
    expect(page.get_by_role("link", name="Dead letters")).to_be_hidden()


def _dead_letter(console: Console, order: dict[str, Any]) -> str:
    """Shopify's example order, for the second merchant, its inbound message (exactly as ingest queues it) in the
    dead-letter queue, as a poison message's would be after its fifth receive. Returns its event id."""
    event_id = f"dead-{uuid.uuid4()}"
    message = {
        "source": "shopify",
        "connection_id": console.second.connection_id,
        "event_id": event_id,
        "topic": "orders/paid",
        "received_at": events.received_stamp(console.stack.aws.clock.time()),
        "payload": json.dumps(order),
    }
    sqs = boto3.client("sqs", region_name=console.stack.aws.region)
    sqs.send_message(QueueUrl=console.stack.aws.queue_url("InboundDeadLetterQueue"), MessageBody=json.dumps(message))
    return event_id


def _outcome(console: Console, event_id: str) -> str | None:
    logged = events.list_events(console.stack.table, console.second.connection_id)
    return next((str(row["status"]) for row in logged if row["event_id"] == event_id), None)


def test_an_operator_sees_every_connection_and_redrives_the_dead_letters(
    page: Page, console: Console, fixture_order: dict[str, Any]
) -> None:
    # GIVEN a message of the second merchant's connection in the inbound dead-letter queue
    event_id = _dead_letter(console, fixture_order)
    # AND an operator signed in
    sign_in(page, console, console.operator_email)
    expect(page.locator("#who-role")).to_have_text("(operator)")
    # THEN both tenants' connections are listed
    table = page.locator("#connections-table")
    expect(table).to_contain_text(console.first.connection.shop_domain)
    expect(table).to_contain_text(console.second.connection.shop_domain)
    # WHEN they open the dead letters
    page.get_by_role("link", name="Dead letters").click()
    # THEN every dead-letter queue of the stack is listed, the inbound one with the message and what it was
    redrive = page.get_by_role("button", name=re.compile("Redrive"))
    inbound = page.locator("#dead-letters-table tbody tr").filter(has=redrive)
    expect(inbound).to_have_count(1)
    expect(inbound).to_contain_text("orders/paid")
    expect(inbound).to_contain_text(console.second.connection_id)
    screenshot(page, "dead-letters")
    assert _outcome(console, event_id) is None
    # WHEN they redrive it
    inbound.get_by_role("button", name=re.compile("Redrive")).click()
    # THEN the page says it moved back and shows the queues empty
    expect(page.get_by_role("status")).to_contain_text("inbound: 1 moved back, 0 left")
    expect(page.get_by_text("The dead-letter queues are empty.")).to_be_visible()
    # AND dispatch worked the message off again: its event is in the connection's log with an outcome
    for _ in range(300):
        if _outcome(console, event_id) not in (None, "received"):
            break
        page.wait_for_timeout(100)
    assert _outcome(console, event_id) in ("done", "skipped", "needs_attention")


def test_a_merchant_runs_the_peakwms_guided_setup_step_by_step_with_its_bars(page: Page, console: Console) -> None:
    # GIVEN the first merchant's PeakWMS ⇄ Shopify connection, its guided setup not begun
    sign_in(page, console, console.first.email)
    page.goto(f"{console.url}#/connections/{console.warehouse}/setup")
    steps = page.locator("#setup-steps > li")
    # THEN SPEC §4's five steps are shown in order, each with its bar at 0, the first the current one
    expect(steps).to_have_count(5)
    expect(steps.locator("h3").first).to_have_text("Fetch products")
    expect(steps.first).to_have_attribute("aria-current", "step")
    expect(page.get_by_label("Progress of “Fetch products”")).to_have_attribute("value", "0")
    # WHEN the first step is run
    page.get_by_role("button", name="Run “Fetch products”").click()
    # THEN its bar, polling the API, reaches 100 % and the next step becomes the current one
    expect(page.get_by_label("Progress of “Fetch products”")).to_have_attribute("value", "100", timeout=60_000)
    expect(steps.first).to_contain_text("done: 100 % (12 of 12)")
    expect(steps.nth(1)).to_have_attribute("aria-current", "step")
    screenshot(page, "guided-setup")
    # WHEN the optional second step is skipped  THEN it says so and the third is current
    page.get_by_role("button", name=re.compile("^Skip “")).first.click()
    expect(steps.nth(1)).to_contain_text("skipped")
    expect(steps.nth(2)).to_have_attribute("aria-current", "step")


def test_a_shopbox_merchant_maps_a_branch_to_a_location_from_the_drop_downs(page: Page, console: Console) -> None:
    # GIVEN the second merchant's Shopbox connection, its first branch mapped, the second not
    sign_in(page, console, console.second.email)
    page.goto(f"{console.url}#/connections/{console.till}/settings")
    expect(page.get_by_role("tab")).to_have_text(["Products", "Locations and categories", "Sales"])
    page.get_by_role("tab", name="Locations and categories").click()
    # THEN the locations map has a row per Shopbox branch, named as in Shopbox, each a drop-down of Rackbeat's
    # locations; the mapped branch shows its location, the other none
    rows = page.locator('[data-map="locations"] select')
    expect(rows).to_have_count(2)
    aarhus, odense = page.get_by_label("Aarhus"), page.get_by_label("Odense")
    expect(aarhus.locator("option:checked")).to_contain_text("(L1)")
    expect(odense).to_have_value("")
    expect(odense.locator("option")).to_contain_text(["(none)", "Butik Odense (L2)"])
    screenshot(page, "settings-shopbox")
    # WHEN the second branch is mapped to its shop's location and the settings saved
    odense.select_option("L2")
    page.get_by_role("button", name="Save settings").click()
    # THEN both branches are mapped in the new version
    expect(page.get_by_role("status")).to_contain_text("Settings saved (version 2)")
    stored = connections.load_connection(console.stack.table, console.till)
    assert stored is not None
    assert sorted(stored.settings.model_dump()["locations"].values()) == ["L1", "L2"]


def test_a_user_invited_with_a_temporary_password_chooses_a_new_one_at_first_sign_in(
    page: Page, console: Console
) -> None:
    # GIVEN a merchant user of tenant acme invited with a temporary password (Cognito status FORCE_CHANGE_PASSWORD,
    # as `crossdock users create` without --password-file leaves them)
    email = f"invited-{uuid.uuid4().hex[:8]}@acme.example"
    cognito = boto3.client("cognito-idp", region_name=console.stack.aws.region)
    cognito.admin_create_user(
        UserPoolId=console.stack.user_pool_id,
        Username=email,
        TemporaryPassword="Temporary-Pass-2026",
        MessageAction="SUPPRESS",
        UserAttributes=[
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
            {"Name": "custom:tenant", "Value": console.first.tenant},
        ],
    )
    # WHEN they sign in with it  THEN they are asked to choose a new password, not signed in
    page.goto(console.url)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill("Temporary-Pass-2026")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    expect(page.locator("#main-nav")).to_be_hidden()
    screenshot(page, "new-password")
    # WHEN they choose one the pool's policy refuses (too short, no capital, no digit)
    page.get_by_label("New password", exact=True).fill("weak")
    page.get_by_label("New password again").fill("weak")
    page.get_by_role("button", name="Set password and sign in").click()
    # THEN the refusal is beside the field, and they are still not signed in
    new_password = page.get_by_label("New password", exact=True)
    expect(new_password).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#new-password-error")).to_contain_text("refused by the account policy")
    expect(page.locator("#main-nav")).to_be_hidden()
    # WHEN they choose a good one  THEN they are signed in as themselves, and see their tenant's connections
    new_password.fill("Chosen-Password-2026")
    page.get_by_label("New password again").fill("Chosen-Password-2026")
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.locator("#who-email")).to_have_text(email)
    expect(page.locator("#connections-table tbody tr")).to_have_count(2)
    # AND Cognito now holds the account as confirmed, its new password the one that signs in
    user = cognito.admin_get_user(UserPoolId=console.stack.user_pool_id, Username=email)
    assert user["UserStatus"] == "CONFIRMED"
    signed = cognito.initiate_auth(
        ClientId=console.stack.user_pool_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": "Chosen-Password-2026"},
    )
    assert "IdToken" in signed["AuthenticationResult"]
