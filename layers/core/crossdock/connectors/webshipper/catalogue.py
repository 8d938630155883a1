"""What a Webshipper account is set up with: its order channels and shipping rates (the settings' choices), and a
shipment with its carrier's name (reference/webshipper.md "Endpoints used")."""

from __future__ import annotations

import dataclasses

from crossdock.connectors.webshipper.client import WebshipperClient, WebshipperNotFound
from crossdock.connectors.webshipper.shapes import OrderChannel, Shipment, ShippingRate


def order_channels(client: WebshipperClient) -> list[OrderChannel]:
    return [OrderChannel.parse(resource) for resource in client.pages("order_channels")]


def shipping_rates(client: WebshipperClient) -> list[ShippingRate]:
    return [ShippingRate.parse(resource) for resource in client.pages("shipping_rates")]


def shipping_rate(client: WebshipperClient, rate_id: str) -> ShippingRate | None:
    """`GET /shipping_rates/{id}` [doc W1]; None when the account has no such rate."""
    try:
        answer = client.get(f"shipping_rates/{rate_id}")
    except WebshipperNotFound:
        return None
    return ShippingRate.parse(answer.get("data") or {})


def carrier_name(client: WebshipperClient, carrier_id: str) -> str | None:
    """[guess] `GET /carriers/{id}` with `name` (the spec names `carrier_id` and `include=carrier` [seen W7], not the
    route); None when the account does not answer it."""
    try:
        answer = client.get(f"carriers/{carrier_id}")
    except WebshipperNotFound:
        return None
    data = answer.get("data")
    attributes = data.get("attributes") if isinstance(data, dict) else None
    name = attributes.get("name") if isinstance(attributes, dict) else None
    return name if isinstance(name, str) and name else None


def get_shipment(client: WebshipperClient, shipment_id: str, *, with_carrier: bool = True) -> Shipment | None:
    """The shipment, None if Webshipper has none by that id; its carrier's name looked up when the shipment does not
    carry one (one more call)."""
    try:
        answer = client.get(f"shipments/{shipment_id}")
    except WebshipperNotFound:
        return None
    shipment = Shipment.parse(answer.get("data") or {})
    if with_carrier and shipment.carrier_name is None and shipment.carrier_id is not None:
        shipment = dataclasses.replace(shipment, carrier_name=carrier_name(client, shipment.carrier_id))
    return shipment
