"""The customers and addresses of Shopify orders in Rackbeat (issue 13, item 4), end to end: billing and delivery
addresses on customers and orders, the VAT zone of the delivery country, one customer per Shopify customer for
orders without an e-mail (lost answers included), and the guest customer for guest checkouts."""

from __future__ import annotations

from typing import Any

from crossdock.store import mappings
from crossdock_local.sims.base import Faults
from crossdock_local.stack import LocalStack

BOOKED = {"rackbeat_status": "booked"}


def _shipped_to(order: dict[str, Any], country: str, city: str) -> dict[str, Any]:
    shipping = {**order["shipping_address"], "country_code": country, "city": city, "address1": "Storgatan 1"}
    return {**order, "shipping_address": shipping}


def _without_email(order: dict[str, Any], customer_id: int | None) -> dict[str, Any]:
    """As Shopify sends it without protected-customer-data approval: no e-mail anywhere; `None`: a guest checkout."""
    customer = None if customer_id is None else {**order["customer"], "id": customer_id, "email": None}
    return {**order, "email": None, "contact_email": None, "customer": customer}


def _customer(merchant: Any, number: int) -> dict[str, Any]:
    found: dict[str, Any] = merchant.stack.rackbeat.state(merchant.account).customers[number]
    return found


def test_an_order_carries_both_addresses_and_the_zone_of_its_delivery_country(
    stack: LocalStack, merchant_with: Any
) -> None:
    # GIVEN a Danish shop's order billed in Odense and shipped to Malmö (Sweden: the EU, not home)
    merchant = merchant_with(orders=BOOKED)
    order = _shipped_to(merchant.order(0), "SE", "Malmö")
    # WHEN it is transferred
    placed = stack.shopify.create_order(merchant.domain, order, paid=True)
    stack.settle()
    # THEN the Rackbeat order has the billing address, the delivery address and the `eu` zone
    rackbeat_order = merchant.only_rackbeat_order(placed)
    billing = placed["billing_address"]
    assert (rackbeat_order["address_street"], rackbeat_order["address_city"]) == (billing["address1"], billing["city"])
    assert rackbeat_order["address_country"] == "DK"
    assert (rackbeat_order["delivery_address_city"], rackbeat_order["delivery_address_country"]) == ("Malmö", "SE")
    assert rackbeat_order["vat_zone"] == "eu"
    # AND the customer it created has both addresses and the same zone
    customer = _customer(merchant, int(rackbeat_order["customer_id"]))
    assert customer["vat_zone"] == "eu"
    assert [(a["type"], a["city"]) for a in customer["addresses"]] == [
        ("invoice", billing["city"]),
        ("delivery", "Malmö"),
    ]
    # AND an order shipped to Norway (outside the EU) is `abroad`, one shipped at home `domestic`
    norway = stack.shopify.create_order(merchant.domain, _shipped_to(merchant.order(1), "NO", "Oslo"), paid=True)
    home = stack.shopify.create_order(merchant.domain, merchant.order(2), paid=True)
    stack.settle()
    assert merchant.only_rackbeat_order(norway)["vat_zone"] == "abroad"
    assert merchant.only_rackbeat_order(home)["vat_zone"] == "domestic"


def test_orders_without_e_mail_make_one_customer_per_shopify_customer_even_when_answers_are_lost(
    stack: LocalStack, merchant_with: Any
) -> None:
    # GIVEN a shop without protected-customer-data approval: its orders carry a customer id but no e-mail
    merchant = merchant_with(orders=BOOKED)
    before = set(stack.rackbeat.state(merchant.account).customers)
    first = _without_email(merchant.order(0), 7001)
    # WHEN the customer's first order is transferred while every Rackbeat write loses its answer
    stack.rackbeat.faults = Faults(drop_response_rate=1.0, seed=8)
    one = stack.shopify.create_order(merchant.domain, first, paid=True)
    stack.settle()
    stack.rackbeat.faults = Faults()
    # AND a second order of the same customer, and one of another customer, arrive
    two = stack.shopify.create_order(merchant.domain, _without_email(merchant.order(1), 7001), paid=True)
    other = stack.shopify.create_order(merchant.domain, _without_email(merchant.order(2), 7002), paid=True)
    stack.settle()
    # THEN the first customer's orders share one Rackbeat customer, created once; the other customer has its own
    created = set(stack.rackbeat.state(merchant.account).customers) - before
    assert len(created) == 2
    ours = {int(merchant.only_rackbeat_order(o)["customer_id"]) for o in (one, two)}
    theirs = int(merchant.only_rackbeat_order(other)["customer_id"])
    assert len(ours) == 1 and ours | {theirs} == created
    # AND the binding is in the mapping table, like the other mappings
    bound = mappings.get_mapping(stack.table, merchant.connection.connection_id, "customer", "shopify", "7001")
    assert bound is not None and bound["status"] == "done" and int(bound["target_id"]) in ours
    assert all(merchant.stage_of(merchant.only_rackbeat_order(o)) == "booked" for o in (one, two, other))


def test_a_guest_checkout_without_e_mail_goes_to_the_guest_customer(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN a connection whose settings name a guest customer
    merchant = merchant_with(orders=BOOKED)
    guest = stack.rackbeat.seed_customer(merchant.account, company_name="Webshop guests")
    defaults = {**merchant.settings["customer_defaults"], "guest_customer_number": guest["number"]}
    stack.update_settings(merchant.connection, {**merchant.settings, "customer_defaults": defaults})
    before = set(stack.rackbeat.state(merchant.account).customers)
    # WHEN a guest checkout without e-mail is transferred
    placed = stack.shopify.create_order(merchant.domain, _without_email(merchant.order(0), None), paid=True)
    stack.settle()
    # THEN its order is the guest customer's, and no customer was created
    assert int(merchant.only_rackbeat_order(placed)["customer_id"]) == guest["number"]
    assert set(stack.rackbeat.state(merchant.account).customers) == before


def test_a_guest_checkout_without_a_guest_customer_names_the_setting(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with(orders=BOOKED)
    placed = stack.shopify.create_order(merchant.domain, _without_email(merchant.order(0), None), paid=True)
    stack.settle()
    assert merchant.rackbeat_orders(placed) == []
    (event,) = [e for e in merchant.events() if e["status"] == "needs_attention"]
    assert "customer_defaults.guest_customer_number" in event["reason"]
