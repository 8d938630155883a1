"""Saving a connection's settings on the embedded stack: checked against the Rackbeat account, versioned with a
history, safe against two people saving at once, and applied to events received after the save (SPEC §1.2–1.6).

Saves go through `LocalStack.update_settings`, what the operator's "save" does; Rackbeat is the simulator, reached
over HTTP through the same client the deployed code uses.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from crossdock.connections.model import Connection, ConnectionState
from crossdock.integrations.rackbeat_shopify import settings_save as settings_flow
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection
from crossdock.integrations.rackbeat_shopify.settings import RackbeatShopifySettings
from crossdock.integrations.rackbeat_shopify.settings_save import SettingsConflict, SettingsRejected
from crossdock.store import connections
from crossdock_local.stack import LocalStack

SKU = "SKU-001"


def changed(settings: dict[str, Any], **tabs: Any) -> dict[str, Any]:
    """`settings` with some values replaced, tab by tab (a top-level value replaces outright)."""
    result = copy.deepcopy(settings)
    for tab, values in tabs.items():
        result[tab] = {**result.get(tab, {}), **values} if isinstance(values, dict) else values
    return result


def stored(merchant: Any) -> RackbeatShopifyConnection:
    return merchant.stack.connection(merchant.connection)


def assert_nothing_written(merchant: Any, before: Connection) -> None:
    after = stored(merchant)
    assert after.settings_version == before.settings_version
    assert after.settings == before.settings
    assert settings_flow.settings_history(merchant.stack.table, merchant.connection.connection_id) == []


# ---- versions and history ---------------------------------------------------------------------------------------


def test_saving_bumps_the_version_and_keeps_every_version(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN a new connection (version 1)
    merchant = merchant_with()
    connection_id = merchant.connection.connection_id
    assert stored(merchant).settings_version == 1
    # WHEN the operator saves twice
    second = changed(merchant.settings, orders={"rackbeat_status": "draft"})
    third = changed(second, employees={"web": 2})
    assert stack.update_settings(merchant.connection, second).settings_version == 2
    saved = stack.update_settings(merchant.connection, third)
    # THEN the connection is at version 3 with the last settings, and each version is in the history, in order
    assert saved.settings_version == 3
    assert stored(merchant) == saved
    assert stored(merchant).settings.employees.web == 2
    history = settings_flow.settings_history(stack.table, connection_id)
    assert [entry["version"] for entry in history] == [1, 2, 3]
    assert [entry["settings"]["orders"]["rackbeat_status"] for entry in history] == [
        merchant.settings["orders"]["rackbeat_status"],
        "draft",
        "draft",
    ]
    assert [entry["settings"]["employees"]["web"] for entry in history] == [1, 1, 2]
    # The first version predates the history: when it was saved is not known. Later saves are stamped, in order.
    assert history[0]["saved_at"] is None
    assert history[1]["saved_at"] <= history[2]["saved_at"]
    assert history[2]["settings"] == RackbeatShopifySettings.model_validate(third).model_dump(mode="json")


def test_a_stale_version_is_a_conflict_and_changes_nothing(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN two operators who both loaded version 1, and the first one saved
    merchant = merchant_with()
    connection_id = merchant.connection.connection_id
    stack.update_settings(merchant.connection, changed(merchant.settings, employees={"web": 2}))
    before = stored(merchant)
    # WHEN the second saves what they loaded
    with pytest.raises(SettingsConflict) as conflict:
        settings_flow.update_settings(
            stack.table,
            connection_id,
            changed(merchant.settings, employees={"pos": 1}),
            expected_version=1,
            rackbeat=None,
        )
    # THEN the save is refused naming both versions, and the first operator's settings stand
    assert (conflict.value.expected_version, conflict.value.stored_version) == (1, 2)
    assert "version 1" in str(conflict.value) and "version 2" in str(conflict.value)
    assert stored(merchant) == before


def test_the_write_itself_refuses_a_save_that_lost_the_race(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN a save that read version 1, while another save moved the connection to version 2 in between
    merchant = merchant_with()
    stack.update_settings(merchant.connection, changed(merchant.settings, employees={"web": 2}))
    before = stored(merchant)
    late = before.model_copy(update={"settings_version": 2})
    # WHEN it writes
    written = connections.save_settings(stack.table, late, expected_version=1, saved_at="2025-01-08T10:30:00.000000Z")
    # THEN nothing is written: neither the connection nor a history entry
    assert written is False
    assert stored(merchant) == before
    history = settings_flow.settings_history(stack.table, merchant.connection.connection_id)
    assert [(entry["version"], entry["settings"]["employees"]["web"]) for entry in history] == [(1, 1), (2, 2)]


# ---- rules -------------------------------------------------------------------------------------------------------


def test_rule_problems_are_all_reported_and_nothing_is_written(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    before = stored(merchant)
    broken = changed(
        merchant.settings,
        shipping_product_number=" ",
        orders={"unmapped_lines": "fallback"},
        product_sync={"master": "shopify"},
        colour="blue",
    )
    with pytest.raises(SettingsRejected) as rejected:
        stack.update_settings(merchant.connection, broken)
    fields = {problem.field for problem in rejected.value.problems}
    assert fields == {
        "shipping_product_number",
        "orders.fallback_product_number",
        "product_sync.default_product_group",
        "colour",
    }
    for problem in rejected.value.problems:
        assert f"{problem.field}: {problem.message}" in str(rejected.value)
    assert_nothing_written(merchant, before)


def test_initial_sync_cannot_change_after_activation(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    before = stored(merchant)
    assert before.state is ConnectionState.ACTIVE
    with pytest.raises(SettingsRejected) as rejected:
        stack.update_settings(merchant.connection, changed(merchant.settings, initial_sync="enabled"))
    assert [str(problem) for problem in rejected.value.problems] == [
        "initial_sync: can only be chosen when the connection is first activated"
    ]
    assert_nothing_written(merchant, before)


def test_initial_sync_is_chosen_while_installing_without_asking_rackbeat(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN a connection still being installed (no Rackbeat account to check against yet)
    merchant = merchant_with()
    installing = stored(merchant).model_copy(update={"id": "installing-" + merchant.connection.connection_id})
    shop = installing.accounts.shopify.model_copy(update={"shop_domain": "new.myshopify.com"})
    accounts = installing.accounts.model_copy(update={"shopify": shop})
    installing = installing.model_copy(update={"state": ConnectionState.INSTALLING, "accounts": accounts})
    connections.save_connection(stack.table, installing)
    # WHEN the operator enables the initial sync and names a layout Rackbeat has not got
    wanted = changed(merchant.settings, initial_sync="enabled", customer_defaults={"layout": 99})
    saved = settings_flow.update_settings(stack.table, installing.id, wanted, expected_version=1, rackbeat=None)
    # THEN it is saved; the references are checked at the next save with the account at hand
    assert (saved.settings.initial_sync, saved.settings.customer_defaults.layout) == ("enabled", 99)
    assert saved.settings_version == 2


# ---- references into the Rackbeat account ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"customer_defaults": {"customer_group": 9}}, "customer_defaults.customer_group: customer group 9 does not"),
        ({"customer_defaults": {"layout": 9}}, "customer_defaults.layout: layout 9 does not"),
        ({"customer_defaults": {"payment_terms": 9}}, "customer_defaults.payment_terms: payment terms 9 does not"),
        ({"employees": {"web": 7}}, "employees.web: employee 7 does not"),
        ({"employees": {"pos": 7}}, "employees.pos: employee 7 does not"),
        ({"product_sync": {"default_product_group": 9}}, "product_sync.default_product_group: product group 9 does"),
        (
            {"product_sync": {"online_availability": "41"}},
            "product_sync.online_availability: item custom field 41 does",
        ),
        (
            {"product_sync": {"online_availability": "42"}},
            "product_sync.online_availability: item custom field 42 is a text field, not a checkbox",
        ),
        ({"fulfillment": {"rackbeat_location": "L9"}}, "fulfillment.rackbeat_location: location L9 does not"),
        ({"pos": {"rackbeat_location": "L9"}}, "pos.rackbeat_location: location L9 does not"),
        ({"advanced": {"country_locations": {"DK": "L1", "SE": "L9"}}}, "advanced.country_locations.SE: location L9"),
        ({"pos": {"customer_number": 999}}, "pos.customer_number: customer 999 does not"),
        ({"shipping_product_number": "NO/SUCH"}, "shipping_product_number: item NO/SUCH does not"),
        ({"advanced": {"rounding_product_number": "NOPE"}}, "advanced.rounding_product_number: item NOPE does not"),
        (
            {"orders": {"unmapped_lines": "fallback", "fallback_product_number": "NOPE"}},
            "orders.fallback_product_number: item NOPE does not",
        ),
    ],
)
def test_each_missing_reference_is_refused_by_field(
    stack: LocalStack, merchant_with: Any, change: dict[str, Any], problem: str
) -> None:
    # GIVEN an account with a text custom field 42 (not a checkbox) and no field 41
    merchant = merchant_with()
    stack.rackbeat.seed_field(merchant.account, 42, "Note", type="text")
    before = stored(merchant)
    # WHEN a save names something the account lacks
    with pytest.raises(SettingsRejected) as rejected:
        stack.update_settings(merchant.connection, changed(merchant.settings, **change))
    # THEN it is refused naming the setting and the value, and nothing is written
    [found] = rejected.value.problems
    assert str(found).startswith(problem), found
    assert_nothing_written(merchant, before)


def test_references_that_exist_are_accepted(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN an account with everything the settings below name, including an item number that needs URL-encoding
    # (with a space: the local endpoint decodes %2F before routing, so "A/B" cannot be looked up through it yet)
    merchant = merchant_with()
    account = merchant.account
    stack.rackbeat.seed_product_group(account, 10, "Webshop")
    stack.rackbeat.seed_field(account, 41, "Online", type="checkbox")
    stack.rackbeat.seed_location(account, "L2", "Lager Malmö")
    customer = stack.rackbeat.seed_customer(account, company_name="Butik kunde")
    stack.rackbeat.seed_product(account, "FRAGT DK", "Fragt Danmark", "0", inventory_enabled=False)
    wanted = changed(
        merchant.settings,
        shipping_product_number="FRAGT DK",
        product_sync={"master": "shopify", "default_product_group": 10, "online_availability": "41"},
        pos={"customer_number": customer["number"], "rackbeat_location": "L1"},
        orders={"unmapped_lines": "fallback", "fallback_product_number": "SKU-002"},
        advanced={"country_locations": {"SE": "L2"}},
    )
    # WHEN saved, THEN accepted
    assert stack.update_settings(merchant.connection, wanted).settings_version == 2


def test_every_missing_reference_is_listed_at_once_reading_each_list_once(
    stack: LocalStack, merchant_with: Any
) -> None:
    merchant = merchant_with()
    before = stored(merchant)
    calls_before = stack.rackbeat.calls_by_route.copy()
    broken = changed(
        merchant.settings,
        employees={"web": 7, "pos": 8},
        fulfillment={"rackbeat_location": "L8"},
        pos={"rackbeat_location": "L9"},
        advanced={"rounding_product_number": "NOPE", "country_locations": {"NO": "L7"}},
    )
    with pytest.raises(SettingsRejected) as rejected:
        stack.update_settings(merchant.connection, broken)
    assert {problem.field for problem in rejected.value.problems} == {
        "employees.web",
        "employees.pos",
        "fulfillment.rackbeat_location",
        "pos.rackbeat_location",
        "advanced.country_locations.NO",
        "advanced.rounding_product_number",
    }
    calls = stack.rackbeat.calls_by_route - calls_before
    assert calls[("GET", "/employees")] == 1
    assert calls[("GET", "/locations")] == 1
    assert calls[("GET", "/product-groups")] == 0  # no setting names a product group: the list is not read
    assert_nothing_written(merchant, before)


# ---- a change applies to events received after it ----------------------------------------------------------------


def test_a_change_applies_only_to_orders_received_after_it(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN orders are booked in Rackbeat, and a first paid order has been transferred
    merchant = merchant_with(orders={"rackbeat_status": "booked"})
    first = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
    stack.settle()
    # WHEN the operator changes the Order tab to leave orders as drafts, and a second paid order arrives
    stack.update_settings(merchant.connection, changed(merchant.settings, orders={"rackbeat_status": "draft"}))
    second = stack.shopify.create_order(merchant.domain, merchant.order(1), paid=True)
    stack.settle()
    # THEN, as Rackbeat's API shows them, the first order stayed booked and the second is a draft
    first_number = merchant.only_rackbeat_order(first)["number"]
    second_number = merchant.only_rackbeat_order(second)["number"]
    assert merchant.rackbeat_api("GET", f"orders/{first_number}")["order"]["is_booked"] is True
    assert merchant.rackbeat_api("GET", f"orders/{second_number}")["order"]["is_booked"] is False
    assert merchant.stage_of(merchant.only_rackbeat_order(second)) == "draft"


def test_an_event_queued_before_a_save_keeps_the_settings_it_arrived_under(
    stack: LocalStack, merchant_with: Any
) -> None:
    # GIVEN a paid order whose webhooks were received (queued) while dispatch was held up
    merchant = merchant_with(orders={"rackbeat_status": "booked"})
    stack.aws.set_mapping_enabled("DispatchFunction", False)
    try:
        waiting = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
        stack.shopify.deliver()
        # WHEN the operator saves new settings before dispatch gets to it
        stack.update_settings(merchant.connection, changed(merchant.settings, orders={"rackbeat_status": "draft"}))
    finally:
        stack.aws.set_mapping_enabled("DispatchFunction", True)
    stack.settle()
    # THEN it is handled with the settings in force when it was received
    assert merchant.stage_of(merchant.only_rackbeat_order(waiting)) == "booked"


# ---- webhooks follow the Product tab -----------------------------------------------------------------------------


def test_turning_stock_sync_on_registers_rackbeat_stock_webhooks(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN a connection without stock sync: Rackbeat sends it no stock webhooks, so the shop keeps its quantity
    merchant = merchant_with()
    merchant.shop_product(SKU, available=3)

    def stock_hooks() -> list[dict[str, Any]]:
        hooks = stack.rackbeat.state(merchant.account).webhooks.values()
        return [
            hook
            for hook in hooks
            if hook["event"] == "product.stock_changed"
            and hook["url"] == stack.rackbeat_webhook_url(merchant.connection.connection_id)
        ]

    assert stock_hooks() == []
    # WHEN the operator turns stock sync on
    stack.update_settings(merchant.connection, changed(merchant.settings, stock_sync={"enabled": True}))
    # THEN Rackbeat's stock webhook is registered for this connection, and a stock change reaches the shop
    assert len(stock_hooks()) == 1
    stack.rackbeat.set_stock(merchant.account, SKU, 42, "L1")
    stack.settle()
    assert merchant.shop_quantities(SKU, "available") == [42]
