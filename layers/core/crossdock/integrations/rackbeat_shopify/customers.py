"""Which Rackbeat customer an order goes to (SPEC §1.4 "Order mapping"; issue 13, item 4), and its VAT zone.

- A POS order with `pos.customer_number` goes to that customer.
- An order with an e-mail goes to the customer with that e-mail, or a new one (SPEC). A lost answer is harmless:
  the retry finds the customer by its e-mail.
- An order without one (Shopify leaves it out without protected-customer-data approval) but with a Shopify
  customer goes to that customer's Rackbeat customer: one per Shopify customer id, bound in the mapping table
  (`MAP#customer#shopify#<id>`). The e-mail path binds it too, so a shop that later loses the approval keeps its
  customers. A create is made findable before it is sent: its number is chosen first (one more than the highest)
  and written to the mapping as `creating`, so a retry after a lost answer looks under that number and takes the
  customer it finds there when it is the one sent, instead of creating a second one.
- A guest checkout without an e-mail (no customer at all) goes to `customer_defaults.guest_customer_number`;
  without that setting it stops as needs_attention naming it, rather than creating a customer per order.

The VAT zone follows the delivery country: the account's home country is `domestic`, the rest of the EU `eu`, the
rest of the world `abroad`; an order that ships nowhere (a pickup) takes `customer_defaults.vat_zone`, and a POS
sale is made in the shop, so it is domestic.
"""

from __future__ import annotations

from typing import Any

from crossdock.connectors.rackbeat import customers as rackbeat
from crossdock.connectors.rackbeat.client import RackbeatClient, Unprocessable
from crossdock.errors import FailureClass, PermanentError, RetryableError
from crossdock.integrations.rackbeat_shopify.settings import RackbeatShopifySettings
from crossdock.model.countries import in_eu
from crossdock.model.order import Order
from crossdock.store import mappings

# A number taken by someone else between choosing it and creating under it is chosen again, a few times at most.
NUMBER_ATTEMPTS = 3


def vat_zone(order: Order, settings: RackbeatShopifySettings) -> str:
    defaults = settings.customer_defaults
    country = order.delivery_country
    if order.is_pos:
        return "domestic"
    if not country:
        return defaults.vat_zone
    if country.upper() == defaults.home_country:
        return "domestic"
    return "eu" if in_eu(country) else "abroad"


def _defaults(order: Order, settings: RackbeatShopifySettings) -> rackbeat.CustomerDefaults:
    defaults = settings.customer_defaults
    return rackbeat.CustomerDefaults(
        currency=defaults.currency,
        language=defaults.language,
        vat_zone=vat_zone(order, settings),
        customer_group=defaults.customer_group,
        layout=defaults.layout,
        payment_terms=defaults.payment_terms,
    )


def customer_number(
    client: RackbeatClient, table: Any, connection_id: str, order: Order, settings: RackbeatShopifySettings
) -> int:
    if order.is_pos and settings.pos.customer_number is not None:
        return settings.pos.customer_number
    customer = order.customer
    body = rackbeat.customer_body(customer, _defaults(order, settings), order.billing_address, order.delivery_address)
    if customer.email:
        number = rackbeat.by_email(client, customer.email) or rackbeat.create(client, body)
        if customer.source_id:
            _bind(table, connection_id, customer.source_id, number)
        return number
    if customer.source_id:
        return _by_shopify_customer(client, table, connection_id, customer.source_id, body)
    guest = settings.customer_defaults.guest_customer_number
    if guest is None:
        raise PermanentError(
            f"order {order.name} has no customer and no e-mail (a guest checkout, or Shopify without "
            "protected-customer-data approval); set customer_defaults.guest_customer_number to the Rackbeat customer "
            "such orders go to",
            FailureClass.VALIDATION,
        )
    return guest


def _bind(table: Any, connection_id: str, shopify_id: str, number: int, status: str = "done") -> None:
    mappings.put_mapping(table, connection_id, "customer", "shopify", shopify_id, str(number), status=status)


def _by_shopify_customer(
    client: RackbeatClient, table: Any, connection_id: str, shopify_id: str, body: dict[str, Any]
) -> int:
    mapped = mappings.get_mapping(table, connection_id, "customer", "shopify", shopify_id)
    if mapped is not None and mapped.get("status") == "done":
        return int(mapped["target_id"])
    chosen = int(mapped["target_id"]) if mapped is not None else None
    for _ in range(NUMBER_ATTEMPTS):
        if chosen is not None:
            # An earlier attempt chose this number: it may have created the customer and lost the answer.
            found = rackbeat.get(client, chosen)
            if found is not None and rackbeat.is_the_one_sent(found, body):
                _bind(table, connection_id, shopify_id, chosen)
                return chosen
            if found is not None:
                chosen = None  # someone else's customer took it meanwhile
        if chosen is None:
            chosen = rackbeat.next_free_number(client)
            _bind(table, connection_id, shopify_id, chosen, status="creating")
        try:
            number = rackbeat.create(client, {**body, "number": chosen})
        except Unprocessable as refused:
            if "number" not in refused.errors:
                raise
            continue  # taken: by our own lost create (found above next time round) or by someone else
        _bind(table, connection_id, shopify_id, number)
        return number
    # Customers are being created at the same moment elsewhere: the workflow retries the stage a little later.
    raise RetryableError(
        f"Shopify customer {shopify_id}: Rackbeat refused {NUMBER_ATTEMPTS} customer numbers in a row as taken"
    )
