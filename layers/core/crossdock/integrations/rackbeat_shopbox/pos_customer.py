"""The Rackbeat customer of a Shopbox sale (SPEC §2 "the POS customer", issue 14 item 6).

A basket that names a customer becomes an order of the Rackbeat customer with the same e-mail (`contact_email`,
compared without case), else the same phone (`contact_phone`, compared on its digits: `connectors.rackbeat.
customers.by_phone`); a basket without a customer, or one Rackbeat has no match for, is an order of the till's
customer, `sales.customer_number`. No customer is created: a till rings up passers-by under a name typed at the
counter, and a Rackbeat customer made of each would be a ledger nobody asked for (known-limits.md).

The fact sheet names no customer fields: `email` and the phone under `phone`, `phone_number` or `mobile` are a guess
(`connectors.shopbox.shapes.Customer`), which the simulator follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from crossdock.connectors.rackbeat import customers
from crossdock.connectors.rackbeat.client import RackbeatClient

if TYPE_CHECKING:
    from crossdock.connectors.shopbox.shapes import Customer


@dataclass(frozen=True)
class PosCustomer:
    number: int
    matched_by: str  # "email", "phone" or "till" (the fallback)


def rackbeat_customer(client: RackbeatClient, customer: Customer | None, till_customer: int) -> PosCustomer:
    """The customer the order goes to: matched by e-mail, then phone, else `till_customer`. Read-only, so a retried
    transfer finds the same one."""
    if customer is not None:
        email = (customer.email or "").strip()
        # As typed at the till, then in lower case (how most are stored): Rackbeat's filter is exact.
        for spelling in dict.fromkeys([email, email.lower()]) if email else ():
            number = customers.by_email(client, spelling)
            if number is not None:
                return PosCustomer(number, "email")
        phone = (customer.phone or "").strip()
        if phone:
            number = customers.by_phone(client, phone)
            if number is not None:
                return PosCustomer(number, "phone")
    return PosCustomer(till_customer, "till")
