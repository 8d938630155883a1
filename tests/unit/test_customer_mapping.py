"""Customers and addresses of Shopify orders in Rackbeat (issue 13, item 4): billing and delivery addresses on the
customer and the order, the VAT zone from the delivery country, and one customer per Shopify customer id when the
order has no e-mail — never a second one after a lost answer. Shopify's own example order is the input."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from crossdock.connectors.rackbeat.client import Unprocessable
from crossdock.connectors.rackbeat.orders import OrderDefaults, draft_body
from crossdock.connectors.shopify.orders import parse_order, to_canonical
from crossdock.errors import PermanentError, RetryableError
from crossdock.integrations.rackbeat_shopify import customers
from crossdock.integrations.rackbeat_shopify.settings import RackbeatShopifySettings
from crossdock.model.countries import EU_MEMBERS
from crossdock.model.order import Address, Customer, Order

CONNECTION = "c-1"


def _settings(**customer_defaults: Any) -> RackbeatShopifySettings:
    return RackbeatShopifySettings.model_validate(
        {"shipping_product_number": "FRAGT", "customer_defaults": customer_defaults}
    )


def _order(shopify_payload: Any, **changes: Any) -> Order:
    payload = shopify_payload("2025-01/order_0.json")
    payload = payload.get("order", payload)
    payload.update(changes)
    return to_canonical(parse_order(payload), "FRAGT")


def _draft(order: Order, vat_zone: str | None = None) -> dict[str, Any]:
    """The draft's header: the example order's tax lines do not add up to its total, so its lines are left out."""
    return draft_body(replace(order, lines=(), total=Decimal(0)), 7, "FRAGT", _defaults(vat_zone))


def _defaults(vat_zone: str | None = None) -> OrderDefaults:
    return OrderDefaults(None, None, None, None, None, use_shop_number=False, vat_zone=vat_zone)


def test_the_order_carries_its_billing_and_delivery_addresses(shopify_payload: Any) -> None:
    # GIVEN Shopify's example order (billed and shipped to Bob Norman in Louisville, US)
    order = _order(shopify_payload)
    # WHEN its Rackbeat draft is built
    body = _draft(order, "abroad")
    # THEN both addresses are on it in Rackbeat's address_* / delivery_address_* fields, with the zone
    for prefix in ("address_", "delivery_address_"):
        assert {key: body[prefix + key] for key in ("name", "street", "zipcode", "city", "country")} == {
            "name": "Bob Norman",
            "street": "Chestnut Street 92",
            "zipcode": "40202",
            "city": "Louisville",
            "country": "US",
        }
    assert body["vat_zone"] == "abroad"


def test_an_order_shipped_nowhere_has_no_delivery_fields_and_keeps_the_billing_ones(shopify_payload: Any) -> None:
    order = _order(shopify_payload, shipping_address=None)
    body = _draft(order)
    assert not any(key.startswith("delivery_address_") for key in body)
    assert body["address_city"] == "Louisville" and "vat_zone" not in body


ZONES = [
    ("DK", "DK", "domestic"),
    ("SE", "DK", "eu"),
    ("DE", "DK", "eu"),
    ("NO", "DK", "abroad"),
    ("GB", "DK", "abroad"),
]
ZONES += [("FO", "DK", "abroad"), ("GL", "DK", "abroad"), ("US", "DK", "abroad"), ("DK", "SE", "eu")]


@pytest.mark.parametrize(("country", "home", "zone"), [*ZONES, ("SE", "SE", "domestic")])
def test_the_vat_zone_follows_the_delivery_country(shopify_payload: Any, country: str, home: str, zone: str) -> None:
    # GIVEN an order shipped to `country`, from an account at home in `home`
    payload = shopify_payload("2025-01/order_0.json")
    order = _order(shopify_payload, shipping_address={**payload["order"]["shipping_address"], "country_code": country})
    # WHEN / THEN its zone is domestic at home, eu in the rest of the EU, abroad elsewhere
    assert customers.vat_zone(order, _settings(home_country=home)) == zone


def test_a_pickup_takes_the_default_zone_and_a_pos_sale_is_domestic(shopify_payload: Any) -> None:
    pickup = _order(shopify_payload, shipping_address=None)
    assert customers.vat_zone(pickup, _settings(vat_zone="eu")) == "eu"
    at_the_till = _order(shopify_payload, source_name="pos")
    assert customers.vat_zone(at_the_till, _settings()) == "domestic"


def test_the_eu_list_has_its_27_members_and_not_the_danish_territories_outside_it() -> None:
    assert len(EU_MEMBERS) == 27 and {"DK", "SE", "FI", "DE", "GR", "HR"} <= EU_MEMBERS
    assert not {"GB", "NO", "CH", "IS", "FO", "GL", "EL"} & EU_MEMBERS


# ---- customers -------------------------------------------------------------------------------------------------


class _Table:
    """The mapping table's items (put_item / get_item), as DynamoDB keeps them."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}

    def put_item(self, Item: dict[str, Any]) -> None:
        self.items[(Item["pk"], Item["sk"])] = dict(Item)

    def get_item(self, Key: dict[str, str]) -> dict[str, Any]:
        found = self.items.get((Key["pk"], Key["sk"]))
        return {"Item": dict(found)} if found else {}


class _Rackbeat:
    """Rackbeat's customers, with a create whose answer can be lost after it committed."""

    def __init__(self, numbers: list[int] | None = None) -> None:
        self.customers: dict[int, dict[str, Any]] = {n: {"number": n, "company_name": "Someone"} for n in numbers or []}
        self.lose_next_answer = False
        self.creates = 0

    def find_one(self, path: str, plural: str, field: str, value: str) -> dict[str, Any] | None:
        return next((c for c in self.customers.values() if c.get(field) == value), None)

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        rows = sorted(self.customers.values(), key=lambda c: c["number"], reverse=True)
        if "simple_filter[number]" in params:
            rows = [c for c in rows if str(c["number"]) == params["simple_filter[number]"]]
        return {"customers": rows[: int(params.get("limit", 20))]}

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        self.creates += 1
        number = body.get("number") or max(self.customers, default=0) + 1
        if number in self.customers:
            raise Unprocessable(path, {"number": ["The number has already been taken."]})
        self.customers[number] = {**body, "number": number}
        if self.lose_next_answer:
            self.lose_next_answer = False
            raise RetryableError("Rackbeat connection failed on POST customers: RemoteProtocolError")
        return {"customer": self.customers[number]}


def _without_email(shopify_payload: Any, customer_id: int = 207119551) -> Order:
    order = _order(shopify_payload)
    return replace(order, customer=replace(order.customer, email=None, source_id=str(customer_id)))


def test_orders_without_e_mail_of_one_shopify_customer_share_one_rackbeat_customer(shopify_payload: Any) -> None:
    # GIVEN a Rackbeat account with customers 1 and 2, and two e-mail-less orders of Shopify customer 207119551
    table, rackbeat = _Table(), _Rackbeat([1, 2])
    order = _without_email(shopify_payload)
    # WHEN both are transferred
    first = customers.customer_number(rackbeat, table, CONNECTION, order, _settings())  # type: ignore[arg-type]
    second = customers.customer_number(rackbeat, table, CONNECTION, order, _settings())  # type: ignore[arg-type]
    # THEN one customer was created, with the next number, the zone and both addresses
    assert first == second == 3 and rackbeat.creates == 1
    created = rackbeat.customers[3]
    assert created["vat_zone"] == "abroad" and [a["type"] for a in created["addresses"]] == ["invoice", "delivery"]
    # AND another Shopify customer gets a customer of its own
    other = customers.customer_number(rackbeat, table, CONNECTION, _without_email(shopify_payload, 42), _settings())  # type: ignore[arg-type]
    assert other == 4


def test_a_create_whose_answer_was_lost_is_found_again_under_its_chosen_number(shopify_payload: Any) -> None:
    # GIVEN Rackbeat commits the customer and the answer is lost
    table, rackbeat = _Table(), _Rackbeat([1])
    rackbeat.lose_next_answer = True
    order = _without_email(shopify_payload)
    with pytest.raises(RetryableError):
        customers.customer_number(rackbeat, table, CONNECTION, order, _settings())  # type: ignore[arg-type]
    # WHEN the stage is retried
    number = customers.customer_number(rackbeat, table, CONNECTION, order, _settings())  # type: ignore[arg-type]
    # THEN the customer created first is taken; no second one
    assert number == 2 and sorted(rackbeat.customers) == [1, 2] and rackbeat.creates == 1


def test_a_chosen_number_someone_else_took_is_chosen_again(shopify_payload: Any) -> None:
    # GIVEN our create chose number 2 and lost its answer, and the number now holds someone else's customer
    table, rackbeat = _Table(), _Rackbeat([1])
    order = _without_email(shopify_payload)
    customers._bind(table, CONNECTION, "207119551", 2, status="creating")  # what the lost attempt left
    rackbeat.customers[2] = {"number": 2, "company_name": "Phone order"}
    # WHEN the stage is retried THEN our customer is created under the next free number, the other left alone
    number = customers.customer_number(rackbeat, table, CONNECTION, order, _settings())  # type: ignore[arg-type]
    assert number == 3 and rackbeat.customers[2]["company_name"] == "Phone order"


def test_a_guest_checkout_without_e_mail_goes_to_the_guest_customer_or_names_the_setting(shopify_payload: Any) -> None:
    order = _order(shopify_payload)
    guest = replace(order, customer=Customer(email=None, name="Shopify customer of #1001"))
    rackbeat = _Rackbeat([1])
    number = customers.customer_number(rackbeat, _Table(), CONNECTION, guest, _settings(guest_customer_number=1))  # type: ignore[arg-type]
    assert number == 1 and rackbeat.creates == 0
    with pytest.raises(PermanentError, match=r"customer_defaults\.guest_customer_number"):
        customers.customer_number(rackbeat, _Table(), CONNECTION, guest, _settings())  # type: ignore[arg-type]


def test_an_e_mail_customer_is_bound_to_its_shopify_id_too(shopify_payload: Any) -> None:
    # GIVEN an order with an e-mail WHEN it is transferred, and later an order of the same customer without one
    table, rackbeat = _Table(), _Rackbeat([1])
    with_email = customers.customer_number(rackbeat, table, CONNECTION, _order(shopify_payload), _settings())  # type: ignore[arg-type]
    without = customers.customer_number(rackbeat, table, CONNECTION, _without_email(shopify_payload), _settings())  # type: ignore[arg-type]
    # THEN both go to one customer
    assert with_email == without == 2 and rackbeat.creates == 1


def test_a_blank_shopify_address_is_no_address(shopify_payload: Any) -> None:
    empty = {"address1": "", "city": None, "zip": "", "country_code": None, "name": ""}
    order = _order(shopify_payload, shipping_address=empty)
    assert order.delivery_address is None and order.billing_address == Address(
        name="Bob Norman",
        street="Chestnut Street 92",
        zip="40202",
        city="Louisville",
        country_code="US",
        phone=order.billing_address.phone if order.billing_address else None,
    )
