"""Rackbeat order → the Webshipper order it becomes (issue 15, item 3): lines, `line_location_filter`, rates,
addresses, and what is skipped or needs attention. The Rackbeat orders are made and read through the Rackbeat
simulator's API, so the mapping sees the payloads Crossdock's client would."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.webshipper.shapes import Address
from crossdock.errors import FailureClass, PermanentError, Skip
from crossdock.integrations.rackbeat_webshipper.export_mapping import (
    came_from_webshipper,
    export_reference,
    plan_export,
    shipped_from_webshipper,
)
from crossdock.integrations.rackbeat_webshipper.settings import RackbeatWebshipperSettings
from crossdock_local.sims.base import transport
from crossdock_local.sims.rackbeat.simulator import RackbeatSimulator

KEY = "rb_export_mapping_key"
HOME, SHOP = "L1", "L2"
BUSINESS, STAFF = 1, 2
PICKUP_TERM, HOME_TERM, UNMAPPED_TERM = 10, 11, 12


@pytest.fixture
def sim() -> RackbeatSimulator:
    sim = RackbeatSimulator()
    account = sim.add_account(KEY)
    sim.seed_location(account, HOME, "Lager Aarhus")
    sim.seed_location(account, SHOP, "Butik København")
    sim.seed_customer_group(account, BUSINESS, "Erhverv")
    sim.seed_customer_group(account, STAFF, "Personale")
    sim.seed_delivery_terms(account, PICKUP_TERM, "GLS Pakkeshop")
    sim.seed_delivery_terms(account, HOME_TERM, "PostNord privat")
    sim.seed_delivery_terms(account, UNMAPPED_TERM, "Afhentning")
    sim.seed_customer(account, 100, "Jensen Cykler ApS", customer_group_id=BUSINESS, contact_email="ind@jensen.dk")
    sim.seed_customer(account, 200, "Kantinen", customer_group_id=STAFF)
    sim.seed_customer(account, 300, "", contact_email="x@example.dk")
    sim.seed_product(account, "MUG-1", "Krus blå", "80", location_stock={HOME: 20})
    sim.seed_product(account, "TEE-M", "T-shirt M", "160", location_stock={SHOP: 5})
    sim.seed_product(account, "ROPE", "Reb (meter)", "12.50", location_stock={HOME: 100})
    sim.seed_product(account, "ORE", "Rounding", "0")
    return sim


@pytest.fixture
def rackbeat(sim: RackbeatSimulator) -> RackbeatClient:
    return RackbeatClient("https://app.rackbeat.com/api/", KEY, transport=transport(sim, root="/api"))


DELIVERY = {
    "delivery_address_name": "Anna Jensen",
    "delivery_address_street": "Vestergade 12",
    "delivery_address_zipcode": "8000",
    "delivery_address_city": "Aarhus C",
    "delivery_address_country": "dk",
}
INVOICE = {
    "address_name": "Jensen Cykler ApS",
    "address_street": "Industrivej 4",
    "address_zipcode": "8200",
    "address_city": "Aarhus N",
    "address_country": "DK",
}
LINES = [
    {"item_id": "MUG-1", "quantity": 2, "line_price": "80", "discount_percentage": "10", "vat_percentage": "25"},
    {"item_id": "TEE-M", "quantity": 1, "line_price": "160", "vat_percentage": "25", "location_id": SHOP},
]


def booked_order(rackbeat: RackbeatClient, customer: int = 100, **fields: Any) -> dict[str, Any]:
    body = {"customer_id": customer, "delivery_terms": PICKUP_TERM, "lines": LINES, **DELIVERY, **INVOICE}
    body.update(fields)
    number = rackbeat.post("orders", {k: v for k, v in body.items() if v is not None})["order"]["number"]
    order: dict[str, Any] = rackbeat.get(f"orders/{number}")["order"]
    return order


def customer(rackbeat: RackbeatClient, number: int) -> dict[str, Any]:
    found: dict[str, Any] = rackbeat.get("customers", **{"simple_filter[number]": number})["customers"][0]
    return found


def settings(**changes: Any) -> RackbeatWebshipperSettings:
    base: dict[str, Any] = {
        "order_channel": "3",
        "delivery_term_rates": {str(PICKUP_TERM): "6", str(HOME_TERM): "7"},
        "default_customer_group": BUSINESS,
    }
    return RackbeatWebshipperSettings.model_validate({**base, **changes})


def no_default_location(item: str) -> str | None:
    raise AssertionError(f"the default location of {item} was not needed")


def test_a_booked_order_becomes_one_webshipper_order_with_its_lines_rate_and_addresses(
    rackbeat: RackbeatClient,
) -> None:
    """GIVEN a booked Rackbeat order with a delivery and an invoice address, two lines (one discounted) and the
    pickup delivery term, WHEN it is mapped with every location sent, THEN the Webshipper order has the
    `rackbeat-<number>` reference in the order channel, the term's rate, both lines with Rackbeat's prices and
    line ids, the delivery address in Webshipper's words and the invoice address as billing address."""
    order = booked_order(rackbeat)

    planned = plan_export(order, settings(), no_default_location, customer=customer(rackbeat, 100))

    assert planned.ext_ref == f"rackbeat-{order['number']}" == export_reference(order["number"])
    assert (planned.visible_ref, planned.channel_id, planned.rate_id, planned.currency) == (
        str(order["number"]),
        "3",
        "6",
        "DKK",
    )
    mug, tee = planned.lines
    ids = [str(line["id"]) for line in order["lines"]]
    assert (mug.sku, mug.description, mug.quantity, mug.ext_ref) == ("MUG-1", "Krus blå", 2, ids[0])
    assert (mug.unit_price, mug.discounted_unit_price, mug.vat_percent) == (Decimal(80), Decimal("72.00"), Decimal(25))
    assert (tee.sku, tee.quantity, tee.location, tee.ext_ref) == ("TEE-M", 1, SHOP, ids[1])
    assert planned.delivery_address == Address(
        att_contact="Anna Jensen",
        company_name="Jensen Cykler ApS",
        address_1="Vestergade 12",
        zip="8000",
        city="Aarhus C",
        country_code="DK",
        email="ind@jensen.dk",
    )
    assert planned.billing_address is not None
    assert (planned.billing_address.att_contact, planned.billing_address.company_name) == ("Jensen Cykler ApS", None)
    assert planned.billing_address.address_1 == "Industrivej 4"


def test_without_send_addresses_only_the_delivery_address_goes(rackbeat: RackbeatClient) -> None:
    """GIVEN `send_addresses` off, THEN the delivery address is still sent (Webshipper cannot ship without one)
    and the invoice address is not."""
    planned = plan_export(booked_order(rackbeat), settings(send_addresses=False), no_default_location)

    assert planned.delivery_address.address_1 == "Vestergade 12"
    assert planned.billing_address is None


def test_an_order_without_a_delivery_address_goes_to_its_invoice_address(rackbeat: RackbeatClient) -> None:
    """GIVEN an order with only an invoice address (Rackbeat then delivers there), THEN that is the delivery
    address."""
    no_delivery: dict[str, Any] = dict.fromkeys(DELIVERY)
    order = booked_order(rackbeat, **no_delivery)

    planned = plan_export(order, settings(), no_default_location)

    assert (planned.delivery_address.att_contact, planned.delivery_address.address_1) == (
        "Jensen Cykler ApS",
        "Industrivej 4",
    )


def test_an_address_with_neither_contact_nor_company_needs_attention(rackbeat: RackbeatClient) -> None:
    """GIVEN a customer without a company name and an order whose delivery address has no name, THEN the order
    needs attention naming both fields, before anything is sent."""
    order = booked_order(rackbeat, customer=300, delivery_address_name=None)

    with pytest.raises(PermanentError) as refused:
        plan_export(order, settings(), no_default_location)

    assert "neither a contact (delivery_address_name) nor a company" in refused.value.reason


def test_a_country_that_is_not_an_iso_code_needs_attention(rackbeat: RackbeatClient) -> None:
    order = booked_order(rackbeat, delivery_address_country="Danmark")

    with pytest.raises(PermanentError, match="delivery_address_country 'Danmark' is not a two-letter country code"):
        plan_export(order, settings(), no_default_location)


def test_a_delivery_term_without_a_rate_needs_attention_naming_the_keys_to_set(rackbeat: RackbeatClient) -> None:
    """GIVEN no default_shipping_rate and an order whose delivery term `delivery_term_rates` does not map, or with no
    delivery term, THEN it needs attention (unmapped) naming the term and both keys a merchant can set."""
    unmapped = booked_order(rackbeat, delivery_terms=UNMAPPED_TERM)
    without = booked_order(rackbeat, delivery_terms=None)

    with pytest.raises(PermanentError) as refused:
        plan_export(unmapped, settings(), no_default_location)
    with pytest.raises(PermanentError) as missing:
        plan_export(without, settings(), no_default_location)

    assert refused.value.failure_class is FailureClass.UNMAPPED
    assert f"has delivery term {UNMAPPED_TERM}, which delivery_term_rates does not map" in refused.value.reason
    assert "has no delivery term" in missing.value.reason
    for reason in (refused.value.reason, missing.value.reason):
        assert "set one in delivery_term_rates or default_shipping_rate" in reason


def test_line_location_filter_keeps_the_lines_of_that_location(rackbeat: RackbeatClient) -> None:
    """GIVEN `line_location_filter` L1, a line without a location (its item's default location is L1) and a line
    from L2, THEN only the first is sent; the default location is read only for the line that names none."""
    asked: list[str] = []

    def default_location(item: str) -> str | None:
        asked.append(item)
        return HOME

    planned = plan_export(booked_order(rackbeat), settings(line_location_filter=HOME), default_location)

    assert [line.sku for line in planned.lines] == ["MUG-1"]
    assert asked == ["MUG-1"]


def test_no_line_left_after_the_location_filter_is_skipped(rackbeat: RackbeatClient) -> None:
    order = booked_order(rackbeat, lines=[LINES[1]])

    with pytest.raises(Skip, match=f"no line is from location {HOME}"):
        plan_export(order, settings(line_location_filter=HOME), lambda item: HOME)


def test_a_shipment_becomes_an_order_of_its_own_lines_and_quantities(rackbeat: RackbeatClient) -> None:
    """GIVEN `shipment_shipped` and a partial shipment of one mug, THEN the Webshipper order is
    `rackbeat-<number>-<shipment id>` with only that line, at the shipment's quantity."""
    order = booked_order(rackbeat)
    mug_line = order["lines"][0]["id"]
    shipment = rackbeat.post(
        f"orders/{order['number']}/create-shipment", {"lines": [{"line_id": mug_line, "quantity": 1}]}
    )["order_shipment"]

    planned = plan_export(order, settings(transfer_when="shipment_shipped"), no_default_location, shipment=shipment)

    assert planned.ext_ref == f"rackbeat-{order['number']}-{shipment['id']}"
    assert [(line.sku, line.quantity, line.ext_ref) for line in planned.lines] == [("MUG-1", 1, str(mug_line))]


def test_a_customer_in_an_excluded_group_is_skipped(rackbeat: RackbeatClient) -> None:
    order = booked_order(rackbeat, customer=200)

    with pytest.raises(Skip, match=f"customer 200 is in customer group {STAFF}"):
        plan_export(
            order, settings(excluded_customer_groups=[STAFF]), no_default_location, customer=customer(rackbeat, 200)
        )


def test_transfers_only_from_webshipper_skip_every_rackbeat_order(rackbeat: RackbeatClient) -> None:
    with pytest.raises(Skip, match="order_transfer is 'webshipper_to_rackbeat'"):
        plan_export(booked_order(rackbeat), settings(order_transfer="webshipper_to_rackbeat"), no_default_location)


def test_an_order_that_came_from_webshipper_is_never_sent_back(rackbeat: RackbeatClient) -> None:
    """GIVEN a Rackbeat order INBOUND made from Webshipper order 1007 (`other_reference` webshipper-1007), THEN
    it is skipped: sending it would make a second Webshipper order of the same parcel."""
    order = booked_order(rackbeat, other_reference="webshipper-1007")

    assert came_from_webshipper(order)
    with pytest.raises(Skip, match="came from Webshipper"):
        plan_export(order, settings(), no_default_location)


def test_a_line_of_negative_price_is_left_out(rackbeat: RackbeatClient) -> None:
    """GIVEN an order from a Shopify order with its rounding line (-0.01, as rackbeat_shopify writes it) THEN the
    Webshipper order has only the goods: nothing to pick, and Webshipper refuses a negative unit price."""
    order = booked_order(rackbeat, lines=[*LINES, {"item_id": "ORE", "quantity": 1, "line_price": "-0.01"}])

    planned = plan_export(order, settings(), no_default_location)

    assert [line.sku for line in planned.lines] == ["MUG-1", "TEE-M"]


def test_a_fractional_quantity_needs_attention(rackbeat: RackbeatClient) -> None:
    order = booked_order(rackbeat, lines=[{"item_id": "ROPE", "quantity": "2.5", "line_price": "12.50"}])

    with pytest.raises(PermanentError, match=r"\(ROPE\): quantity 2.5 is not a whole number"):
        plan_export(order, settings(), no_default_location)


def test_the_shipped_from_webshipper_marker_is_a_note_line(rackbeat: RackbeatClient) -> None:
    marked = booked_order(rackbeat, note="Ring før levering\nwebshipper-shipment-7001: GLS 00370712345")

    assert shipped_from_webshipper(marked)
    assert not shipped_from_webshipper(booked_order(rackbeat, note="webshipper: ring før levering"))
