"""The Webshipper connector's orders, catalogue and webhooks against the simulator in process: an order created once
whatever happens (looked up by `ext_ref` in its channel first, a 422 re-read and adopted), read back in the
shapes the integration codes against, marked dispatched, its shipments with carrier and tracking, changes since a
moment, the account's channels and rates, and the webhooks the install registers — each tolerant of the
simulator's guess switches (links-only relationships or `data` linkage)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from test_webshipper_client import Warehouse
from test_webshipper_sim import ACCOUNT, open_account

from crossdock.connectors.webshipper import catalogue, orders, webhooks
from crossdock.connectors.webshipper.client import WebshipperRejected
from crossdock.connectors.webshipper.shapes import (
    Address,
    OrderDraft,
    OrderLineDraft,
    Shipment,
    WebshipperOrder,
    order_document,
    parse_time,
)
from crossdock.errors import RetryableError


@pytest.fixture(params=[False, True], ids=["links-only", "data-linkage"])
def warehouse(request: pytest.FixtureRequest) -> Warehouse:
    """Both readings of JSON:API relationships the sheet allows (seen W3: links only)."""
    found = Warehouse(open_account())
    found.sim.sim.rules.relationship_data = request.param
    return found


def draft(warehouse: Warehouse, ext_ref: str = "rackbeat-1021", **changes: object) -> OrderDraft:
    """Rackbeat order 1021 as OUTBOUND hands it over: Rackbeat's channel, GLS home delivery, two lines."""
    fields: dict[str, object] = {
        "ext_ref": ext_ref,
        "visible_ref": "1021",
        "channel_id": str(warehouse.sim.rackbeat),
        "rate_id": str(warehouse.sim.home),
        "currency": "DKK",
        "delivery_address": Address(
            att_contact="A. Jensen", address_1="Vej 1", zip="8000", city="Aarhus", country_code="DK"
        ),
        "billing_address": Address(company_name="Jensen ApS", address_1="Gade 2", zip="8000", city="Aarhus",
                                   country_code="DK", email="bogholderi@jensen.dk"),
        "lines": (
            OrderLineDraft("ABC", "Mug", 2, Decimal("80.00"), Decimal("25"), "L1", Decimal("72.00"), "A-01"),
            OrderLineDraft("TEE-M", "T-shirt", 1, Decimal("150"), Decimal("25"), "L2",
                           weight=Decimal("0.2"), weight_unit="kg"),
        ),
    }  # fmt: skip
    fields.update(changes)
    return OrderDraft(**fields)  # type: ignore[arg-type]


# ---- orders -------------------------------------------------------------------------------------------------------


def test_an_order_is_created_from_a_draft_and_read_back_in_our_shapes(warehouse: Warehouse) -> None:
    # GIVEN a draft WHEN it is created
    client = warehouse.client()
    order, created = orders.create_order(client, draft(warehouse))
    # THEN Webshipper has it with our ext_ref in Rackbeat's channel, with the rate, lines and both addresses
    assert created and order.ext_ref == "rackbeat-1021" and order.visible_ref == "1021"
    assert order.channel_id == str(warehouse.sim.rackbeat) and order.rate_id == str(warehouse.sim.home)
    assert order.status == "pending" and order.currency == "DKK"
    assert order.delivery_address is not None and order.delivery_address.att_contact == "A. Jensen"
    assert order.billing_address is not None and order.billing_address.email == "bogholderi@jensen.dk"
    mug, tee = order.lines
    assert (mug.sku, mug.quantity, mug.unit_price, mug.discounted_unit_price) == (
        "ABC",
        2,
        Decimal("80.0"),
        Decimal("72.0"),
    )
    assert (mug.ext_ref, mug.location, mug.status) == ("L1", "A-01", "pending")
    assert (tee.weight, tee.weight_unit) == (Decimal("0.2"), "kg") and mug.id and tee.id
    assert parse_time(order.updated_at) is not None
    # AND reading it by id gives the same order
    assert orders.get_order(client, order.id) == order  # fmt: skip


def test_a_second_create_adopts_the_order_instead_of_making_two(warehouse: Warehouse) -> None:
    # GIVEN an order created once
    client = warehouse.client()
    first, _ = orders.create_order(client, draft(warehouse))
    # WHEN the same draft is created again (a retried stage)
    again, created = orders.create_order(client, draft(warehouse))
    # THEN it is the same order, not a new one
    assert not created and again.id == first.id
    assert len(warehouse.sim.sim.orders(ACCOUNT)) == 1


def test_a_create_whose_answer_was_lost_is_found_on_the_retry(warehouse: Warehouse) -> None:
    # GIVEN Webshipper committing the create and losing its answer
    client = warehouse.client()
    client.get("orders")
    warehouse.sim.sim.faults.drop_response_rate = 1.0
    with pytest.raises(RetryableError):
        orders.create_order(client, draft(warehouse))
    warehouse.sim.sim.faults.drop_response_rate = 0.0
    # WHEN the stage is retried THEN it finds the order made the first time
    order, created = orders.create_order(client, draft(warehouse))
    assert not created and len(warehouse.sim.sim.orders(ACCOUNT)) == 1 and order.ext_ref == "rackbeat-1021"


def test_a_422_on_create_is_adopted_when_a_re_read_finds_the_order(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the order made by someone else between our look-up and our POST (the look-up saw nothing)
    client = warehouse.client()
    made_meanwhile, _ = orders.create_order(client, draft(warehouse))
    real = orders.find_by_ext_ref
    looks: list[WebshipperOrder | None] = []

    def look_up(*args: object) -> WebshipperOrder | None:
        looks.append(None if not looks else real(*args))  # type: ignore[arg-type]
        return looks[-1]

    monkeypatch.setattr(orders, "find_by_ext_ref", look_up)
    posts = warehouse.sim.sim.calls_by_route[("POST", "/orders")]
    # WHEN it is created THEN Webshipper's 422 for the duplicate ext_ref is read as "already there"
    order, created = orders.create_order(client, draft(warehouse))
    assert not created and order.id == made_meanwhile.id
    assert len(looks) == 2 and warehouse.sim.sim.calls_by_route[("POST", "/orders")] == posts + 1
    assert len(warehouse.sim.sim.orders(ACCOUNT)) == 1


def test_any_other_422_is_raised_with_webshippers_errors(warehouse: Warehouse) -> None:
    # GIVEN a draft with a country Webshipper does not accept WHEN it is created THEN the refusal names the field
    bad = draft(warehouse, delivery_address=Address(att_contact="A", country_code="DNK"))
    with pytest.raises(WebshipperRejected) as rejected:
        orders.create_order(warehouse.client(), bad)
    assert rejected.value.about("country_code") and "delivery_address.country_code" in str(rejected.value)
    assert warehouse.sim.sim.orders(ACCOUNT) == []


def test_the_same_ext_ref_in_another_channel_is_another_order(warehouse: Warehouse) -> None:
    # GIVEN an order in the web shop's channel with the ext_ref we would use
    client = warehouse.client()
    theirs, _ = orders.create_order(client, draft(warehouse, channel_id=str(warehouse.sim.webshop)))
    # WHEN ours is created in Rackbeat's channel THEN it is a new order, and each channel finds its own
    ours, created = orders.create_order(client, draft(warehouse))
    assert created and ours.id != theirs.id
    assert orders.find_by_ext_ref(client, str(warehouse.sim.webshop), "rackbeat-1021") == theirs
    assert orders.find_by_ext_ref(client, str(warehouse.sim.rackbeat), "rackbeat-1021") == ours
    assert orders.find_by_ext_ref(client, str(warehouse.sim.rackbeat), "rackbeat-9999") is None


def test_an_unknown_order_is_none(warehouse: Warehouse) -> None:
    assert orders.get_order(warehouse.client(), "424242") is None


def test_marking_dispatched_dispatches_every_line_and_can_be_repeated(warehouse: Warehouse) -> None:
    client = warehouse.client()
    order, _ = orders.create_order(client, draft(warehouse))
    # WHEN it is marked sent twice THEN it is dispatched with every line, the second time changing nothing
    marked = orders.mark_dispatched(client, order.id)
    assert marked.status == "dispatched" and {line.status for line in marked.lines} == {"dispatched"}
    assert orders.mark_dispatched(client, order.id).status == "dispatched"


def test_an_orders_shipments_carry_carrier_and_tracking(warehouse: Warehouse) -> None:
    # GIVEN an order the warehouse ships in two parcels, the first with a tracking number it was given
    client = warehouse.client()
    order, _ = orders.create_order(client, draft(warehouse))
    mug, tee = order.lines
    assert mug.id and tee.id
    sim = warehouse.sim.sim
    sim.ship(ACCOUNT, int(order.id), tracking_number="GLS123", tracking_url="https://gls/GLS123",
             order_line_ids=[int(mug.id)])  # fmt: skip
    sim.ship(ACCOUNT, int(order.id))
    # WHEN its shipments are read THEN both, oldest first, naming the order, the carrier and the tracking
    first, second = orders.order_shipments(client, order.id)
    assert isinstance(first, Shipment) and first.order_id == order.id and first.reference == "1021"
    assert first.carrier_id == str(warehouse.sim.gls) and first.tracking[0].number == "GLS123"
    assert first.tracking[0].url == "https://gls/GLS123" and first.order_line_ids == (mug.id,)
    assert second.tracking[0].number.startswith("GLS") and not second.is_return
    # AND one read alone also names the carrier
    shown = catalogue.get_shipment(client, first.id)
    assert shown is not None and shown.carrier_name == "GLS" and shown.status == "success"
    assert catalogue.get_shipment(client, "999999") is None
    # AND the order is dispatched after both
    found = orders.get_order(client, order.id)
    assert found is not None and found.status == "dispatched"


def test_orders_updated_since_a_moment_are_those_changed_from_then_on(warehouse: Warehouse) -> None:
    # GIVEN one order, then an hour later another, and the first changed
    client = warehouse.client()
    early, _ = orders.create_order(client, draft(warehouse, "rackbeat-1"))
    warehouse.sim.clock.advance(3600)
    late, _ = orders.create_order(client, draft(warehouse, "rackbeat-2"))
    assert late.updated_at is not None
    # WHEN asked for the changes since the second was made THEN only it; after the first is marked, both
    assert [o.id for o in orders.orders_updated_since(client, late.updated_at)] == [late.id]
    orders.mark_dispatched(client, early.id)
    assert sorted(o.id for o in orders.orders_updated_since(client, late.updated_at)) == sorted([early.id, late.id])


def test_an_order_placed_in_webshipper_with_a_drop_point_reads_leniently() -> None:
    # GIVEN a resource as a webhook delivers it: links-only relationships, numeric ids, live timestamps
    resource = {
        "type": "orders", "id": 1025,
        "attributes": {"ext_ref": "shop-77", "status": "pending", "order_channel_id": 3, "currency": "EUR",
                       "drop_point": {"drop_point_id": "PN-1", "name": "Netto"}, "updated_at": "2026-12-07T08:00:08.0Z",
                       "order_lines": [{"sku": "A", "quantity": "2", "unit_price": 10}, "junk"],
                       "delivery_address": {"att_contact": "B", "country_code": "SE", "zip": 11122}},
        "relationships": {"shipping_rate": {"links": {"related": "https://x/acc/v2/shipping_rates/6"}}},
    }  # fmt: skip
    order = WebshipperOrder.parse(resource)
    # THEN ids are text, the rate comes from the related link, the channel from the deprecated attribute
    assert (order.id, order.channel_id, order.rate_id) == ("1025", "3", "6")
    assert order.drop_point == {"drop_point_id": "PN-1", "name": "Netto"}
    assert order.lines[0].quantity == 2 and len(order.lines) == 1
    assert order.delivery_address is not None and order.delivery_address.zip == "11122"
    assert parse_time(order.updated_at) is not None and parse_time(order.updated_at).microsecond == 0  # type: ignore[union-attr]


def test_an_order_document_is_the_sheets_example_shape() -> None:
    # GIVEN a draft without billing address or rate WHEN its document is built
    document = order_document(
        OrderDraft("rackbeat-5", "5", "3", None, "DKK", Address(att_contact="C", country_code="DK"),
                   (OrderLineDraft("S", "Thing", 1, Decimal("9.95")),))
    )  # fmt: skip
    # THEN the channel is a relationship with a numeric id, no rate is sent, empty fields are left out
    data = document["data"]
    assert data["relationships"] == {"order_channel": {"data": {"type": "order_channels", "id": 3}}}
    assert data["attributes"]["delivery_address"] == {"att_contact": "C", "country_code": "DK"}
    assert data["attributes"]["order_lines"] == [{"sku": "S", "description": "Thing", "quantity": 1,
                                                  "unit_price": 9.95}]  # fmt: skip
    assert "billing_address" not in data["attributes"]


# ---- catalogue and webhooks ---------------------------------------------------------------------------------------


def test_the_accounts_channels_and_rates(warehouse: Warehouse) -> None:
    client = warehouse.client()
    channels = catalogue.order_channels(client)
    assert [(c.id, c.label) for c in channels] == [(str(warehouse.sim.rackbeat), "Rackbeat"),
                                                    (str(warehouse.sim.webshop), "Webshop")]  # fmt: skip
    rates = {rate.name: rate for rate in catalogue.shipping_rates(client)}
    home, shop = rates["GLS Privat"], rates["PostNord Pakkeshop"]
    assert home.id == str(warehouse.sim.home) and home.carrier_id == str(warehouse.sim.gls)
    assert home.channel_id == str(warehouse.sim.rackbeat) and not home.require_drop_point
    assert shop.require_drop_point


def test_webhooks_are_registered_listed_and_deleted(warehouse: Warehouse) -> None:
    client = warehouse.client()
    url = "https://hooks.example/webhooks/webshipper/c-1"
    # WHEN the install registers its topics
    made = [webhooks.register_webhook(client, url, topic, "s3cret") for topic in webhooks.TOPICS]
    # THEN they are listed, enabled and healthy, the secret never shown
    listed = webhooks.list_webhooks(client)
    assert [(h.topic, h.url, h.enabled, h.health) for h in listed] == [
        (topic, url, True, "healthy") for topic in ("order/created", "order/updated", "shipment/created")
    ]
    assert "s3cret" not in repr(listed)
    # AND a delivery is signed with the secret
    order, _ = orders.create_order(client, draft(warehouse))
    assert warehouse.sim.sim.pending() and order.id
    # AND deleting one removes it; deleting it again reports it gone
    assert webhooks.delete_webhook(client, made[0].id)
    assert not webhooks.delete_webhook(client, made[0].id)
    assert [h.topic for h in webhooks.list_webhooks(client)] == ["order/updated", "shipment/created"]
