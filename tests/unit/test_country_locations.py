"""`advanced.country_locations` (SPEC §1.6): the delivery country picks the Rackbeat location of a web order, on
Shopify's real order payload."""

from __future__ import annotations

from typing import Any

from crossdock.connectors.shopify.orders import parse_order, to_canonical
from crossdock.integrations.rackbeat_shopify.order_workflow import _order_defaults
from crossdock.integrations.rackbeat_shopify.settings import RackbeatShopifySettings

SETTINGS = RackbeatShopifySettings.model_validate(
    {
        "shipping_product_number": "FRAGT",
        "fulfillment": {"rackbeat_location": "WEB"},
        "pos": {"rackbeat_location": "BUTIK"},
        "advanced": {"country_locations": {"SE": "MALMO"}},
    }
)


def _location(order: dict[str, Any]) -> str | None:
    return _order_defaults(to_canonical(parse_order(order), "FRAGT"), SETTINGS).location


def _addressed(order: dict[str, Any], shipping: str | None, billing: str | None) -> dict[str, Any]:
    for key, country in (("shipping_address", shipping), ("billing_address", billing)):
        order[key] = {**(order.get(key) or {}), "country_code": country} if country else None
    return order


def test_the_delivery_country_overrides_the_web_location(fixture_order: dict[str, Any]) -> None:
    # GIVEN a web order shipped to Sweden and billed in Denmark; WHEN its location is chosen; THEN Sweden's
    assert _location(_addressed(fixture_order, shipping="SE", billing="DK")) == "MALMO"


def test_the_billing_country_never_chooses(fixture_order: dict[str, Any]) -> None:
    # GIVEN a web order billed in Sweden but shipped to Denmark; THEN the web location (no fallback to billing)
    assert _location(_addressed(fixture_order, shipping="DK", billing="SE")) == "WEB"


def test_an_order_without_a_shipping_address_has_no_delivery_country(fixture_order: dict[str, Any]) -> None:
    # GIVEN a web order with only a Swedish billing address; THEN the web location, not Sweden's
    assert _location(_addressed(fixture_order, shipping=None, billing="SE")) == "WEB"


def test_a_pos_sale_keeps_the_pos_location(fixture_order: dict[str, Any]) -> None:
    # GIVEN a POS sale whose customer has a Swedish shipping address; THEN the shop's own POS location
    pos = {**_addressed(fixture_order, shipping="SE", billing="SE"), "source_name": "pos"}
    assert _location(pos) == "BUTIK"
