"""Rackbeat customers made from a source order's customer: the body (with its invoice and delivery addresses), the
look-up by e-mail, and a create under a number chosen beforehand, which is what lets a create whose answer was lost
be found again without an e-mail.

Guesses (the fact sheet lists `addresses[]` on a customer without its shape): each entry is
`{type: "invoice"|"delivery", name, street, zipcode, city, country}`, the same words as the order's `address_*`
fields. A customer's number may be given on create (the fact sheet has `number (null = next)` on orders, and
customers are numbered the same way); a taken number is a 422 on `number`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.model.order import Address, Customer


@dataclass(frozen=True)
class CustomerDefaults:
    currency: str
    language: str
    vat_zone: str
    customer_group: int | None
    layout: int | None
    payment_terms: int | None


def address_entry(kind: str, address: Address) -> dict[str, Any]:
    return {
        "type": kind,
        "name": address.company or address.name,
        "street": address.street,
        "zipcode": address.zip,
        "city": address.city,
        "country": address.country_code,
    }


def customer_body(
    customer: Customer, defaults: CustomerDefaults, billing: Address | None, delivery: Address | None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "company_name": customer.name,
        "contact_email": customer.email,
        "contact_phone": customer.phone,
        "currency": defaults.currency,
        "locale": defaults.language,
        "vat_zone": defaults.vat_zone,
        "addresses": [
            address_entry(kind, address)
            for kind, address in (("invoice", billing), ("delivery", delivery))
            if address is not None
        ],
    }
    optional = {
        "customer_group_id": defaults.customer_group,
        "layout_id": defaults.layout,
        "payment_terms_id": defaults.payment_terms,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    return body


def by_email(client: RackbeatClient, email: str) -> int | None:
    found = client.find_one("customers", "customers", "contact_email", email)
    return None if found is None else int(found["number"])


def get(client: RackbeatClient, number: int) -> dict[str, Any] | None:
    """The customer with this number, or None (Rackbeat answers 404)."""
    page = client.get("customers", **{"simple_filter[number]": str(number), "limit": 1})
    rows: list[dict[str, Any]] = page["customers"]
    return next((row for row in rows if int(row["number"]) == number), None)


def next_free_number(client: RackbeatClient) -> int:
    """One more than the highest customer number (Rackbeat's own rule for a create without a number)."""
    page = client.get("customers", order_by="number", order_direction="desc", limit=1)
    rows: list[dict[str, Any]] = page["customers"]
    return int(rows[0]["number"]) + 1 if rows else 1


def create(client: RackbeatClient, body: dict[str, Any]) -> int:
    return int(client.post("customers", body)["customer"]["number"])


def is_the_one_sent(found: dict[str, Any], body: dict[str, Any]) -> bool:
    """Whether a customer under the number we chose is the one we sent (a create whose answer was lost), not
    someone else's who took the number meanwhile: its name, phone and addresses are ours."""
    return all(found.get(key) == body.get(key) for key in ("company_name", "contact_phone")) and [
        {k: v for k, v in entry.items() if v is not None} for entry in found.get("addresses") or []
    ] == [{k: v for k, v in entry.items() if v is not None} for entry in body.get("addresses") or []]
