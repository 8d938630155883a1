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

NATIONAL_DIGITS = 8
MIN_PHONE_DIGITS = 6


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


def phone_digits(phone: str) -> str:
    """A phone number as compared: its digits, the last eight of a longer one (a Danish number without +45/0045)."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return digits[-NATIONAL_DIGITS:] if len(digits) > NATIONAL_DIGITS else digits


def phone_spellings(phone: str) -> list[str]:
    """How the number may stand in Rackbeat, for its free-text search: as given, as its digits, and a Danish
    number in pairs ("20 30 40 50"), the way it is mostly written."""
    wanted = phone_digits(phone)
    pairs = " ".join(wanted[at : at + 2] for at in range(0, len(wanted), 2))
    return list(dict.fromkeys([phone.strip(), wanted, pairs]))


def by_phone(client: RackbeatClient, phone: str) -> int | None:
    """The first customer whose `contact_phone` is this number, however either is written (spaces, +45). Rackbeat
    does not filter on the phone (the fact sheet has it only among the free-text search fields): searched for each
    spelling (`phone_spellings`) until one is found, compared on the digits. None for a number of fewer than six
    digits, which would match too much."""
    wanted = phone_digits(phone)
    if len(wanted) < MIN_PHONE_DIGITS:
        return None
    for spelling in phone_spellings(phone):
        for row in client.iterate("customers", "customers", search=spelling):
            if phone_digits(str(row.get("contact_phone") or "")) == wanted:
                return int(row["number"])
    return None


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
