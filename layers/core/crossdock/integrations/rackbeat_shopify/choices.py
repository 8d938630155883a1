"""What a `rackbeat_shopify` connection's settings may name, read live (SPEC §1.2–1.6): Rackbeat's customer groups,
layouts, payment terms, employees (our reference), product groups, locations and checkbox item fields; the shop's
locations. Items and customers are not offered: their lists can be long, and a save looks them up one by one."""

from __future__ import annotations

from typing import Any

from crossdock.connections.model import Connection
from crossdock.connectors.rackbeat.reference_lists import (
    CUSTOMER_GROUPS,
    EMPLOYEES,
    LAYOUTS,
    LOCATIONS,
    PAYMENT_TERMS,
    PRODUCT_GROUPS,
)
from crossdock.integration import Choice, ChoicesByField, ChoiceSource, SettingChoices
from crossdock.integrations.choice_lists import RackbeatLists, shop_location_choices
from crossdock.integrations.rackbeat_shopify.settings import ALWAYS_ONLINE


def rackbeat_choices(connection: Connection, clients: Any) -> ChoicesByField:
    lists = RackbeatLists(clients.rackbeat(connection, paced=False))
    employees = lists.numbered(EMPLOYEES)
    locations = lists.as_text(LOCATIONS)
    return {
        "customer_defaults.customer_group": lists.numbered(CUSTOMER_GROUPS),
        "customer_defaults.layout": lists.numbered(LAYOUTS),
        "customer_defaults.payment_terms": lists.numbered(PAYMENT_TERMS),
        "employees.web": employees,
        "employees.pos": employees,
        "product_sync.default_product_group": lists.numbered(PRODUCT_GROUPS),
        "product_sync.online_availability": [
            Choice(ALWAYS_ONLINE, "Always online"),
            *lists.item_fields(holding="checkbox"),
        ],
        "fulfillment.rackbeat_location": locations,
        "pos.rackbeat_location": locations,
        "advanced.country_locations.*": locations,
    }


def shopify_choices(connection: Connection, clients: Any) -> ChoicesByField:
    return {"fulfillment.shopify_location": shop_location_choices(clients.shopify(connection))}


SETTING_CHOICES = SettingChoices(
    sources=(ChoiceSource("rackbeat", rackbeat_choices), ChoiceSource("shopify", shopify_choices))
)
