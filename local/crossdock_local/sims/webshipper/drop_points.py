"""Drop point lookups: `POST /drop_point_locators` (doc W1; seen W6, W7).

The request names `shipping_rate_id`, or `carrier_id` with `service_code`, and a `delivery_address` with `zip`
and `country_code`; the answer's `data.attributes.drop_points` lists the points near it, each the object that goes
into an order's `drop_point`. The points are those the control API seeded for the carrier and country (a test
knows them); Guess: where none were seeded, three are made up from the zip, so a demo always finds some. Guess:
the answer is 201, as a created resource of JSON:API is (the spec shows only the body).
"""

from __future__ import annotations

from crossdock_local.sims.base import SimRequest, SimResponse
from crossdock_local.sims.webshipper.session import Route, Session
from crossdock_local.sims.webshipper.state import Record
from crossdock_local.sims.webshipper.wire import invalid, jsonapi, resource_of, text, to_id


def locate(session: Session, request: SimRequest) -> SimResponse:
    attributes, _ = resource_of(request, "drop_point_locators")
    carriers = session.account.of("carriers")
    rate_id = to_id(attributes.get("shipping_rate_id"))
    if attributes.get("shipping_rate_id") is not None:
        rate = session.account.of("shipping_rates").get(rate_id or -1)
        if rate is None:
            raise invalid("/data/attributes/shipping_rate_id", "names no shipping rate")
        carrier = carriers[rate["_carrier"]]
    else:
        carrier_id = to_id(attributes.get("carrier_id"))
        if carrier_id is None:
            raise invalid("/data/attributes/shipping_rate_id", "or carrier_id with service_code is required")
        if carrier_id not in carriers:
            raise invalid("/data/attributes/carrier_id", "names no carrier")
        text(attributes.get("service_code"), "/data/attributes/service_code", required=True)
        carrier = carriers[carrier_id]
    address = attributes.get("delivery_address")
    if not isinstance(address, dict):
        raise invalid("/data/attributes/delivery_address", "is required")
    zip_code = text(address.get("zip"), "/data/attributes/delivery_address/zip", required=True) or ""
    country = text(address.get("country_code"), "/data/attributes/delivery_address/country_code", required=True)
    country = (country or "").upper()
    points = [dict(p) for p in carrier["_drop_points"] if p["country_code"] == country] or _made_up(
        carrier, zip_code, country, address
    )
    located: Record = {**attributes, "drop_points": points}
    return jsonapi(201, {"data": {"type": "drop_point_locators", "attributes": located}})


def _made_up(carrier: Record, zip_code: str, country: str, address: Record) -> list[Record]:
    city = address.get("city") or ""
    return [
        {
            "drop_point_id": f"{carrier['alias']}-{zip_code}-{n}",
            "name": f"{carrier['name']} pakkeshop {n}",
            "address_1": f"Butiksgade {n}",
            "zip": zip_code,
            "city": city,
            "country_code": country,
            "carrier_code": carrier["alias"],
            "opening_hours": [{"day": day, "opens_at": "09:00", "closes_at": "18:00"} for day in range(6)],
        }
        for n in (1, 2, 3)
    ]


ROUTES: tuple[Route, ...] = (("POST", "/drop_point_locators", locate, "token"),)
