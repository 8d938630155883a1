"""A return at the till (issue 14): a Shopbox basket of negative quantities, credited on the Rackbeat invoice of the
sale it hands back, as a Shopify refund is credited (`connectors.rackbeat.credit_notes`, shared with that kind).

The fact sheet says nothing of returns, so their shape is a guess, marked as such in the connector
(`Basket.return_of`, read under `return_of`, `original_basket` or `refund_of`) and a switch of the simulator
(`rules.return_reference_key`): a return rung up against its receipt is a basket whose every line is negative and
which names the original basket. Then, in the order workflow's transfer stage:

- the original's Rackbeat order (its mapping) must be invoiced: the credit note is made from that invoice, one line
  per returned line, on the item the original order sold it as (its price, discount and VAT), for the quantity
  handed back (at most what was sold), the goods back to stock when the order's shipment drew them; booked. It
  carries `Shopbox return basket <uid> of basket <original>` as its reference, so a retry finds it instead of
  making a second;
- otherwise the return ends `needs_attention` naming why, and nothing is written: no original named (a return
  without the receipt), an original not in Rackbeat or not invoiced yet, a returned item the original did not sell,
  or a basket with both sold and returned lines (an exchange, which is neither one order nor one credit note).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from crossdock.connectors.rackbeat import credit_notes
from crossdock.connectors.rackbeat import orders as rackbeat
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.errors import FailureClass, PermanentError, RetryableError
from crossdock.integrations.rackbeat_shopbox import sales_order
from crossdock.integrations.rackbeat_shopbox.cancellation import CREDIT_LINE_FIELDS
from crossdock.store import mappings

if TYPE_CHECKING:
    from crossdock.connectors.shopbox.shapes import Basket
    from crossdock.integrations.rackbeat_shopbox.settings import RackbeatShopboxSettings

SYSTEM = "shopbox"
CREDITED = "credited"


def return_reference(basket_uid: str, original_uid: str) -> str:
    return f"Shopbox return basket {basket_uid} of basket {original_uid}"


def _refuse(basket: Basket, why: str) -> PermanentError:
    return PermanentError(f"Shopbox return basket {basket.uid}: {why}", FailureClass.VALIDATION)


def credit_return(
    basket: Basket, settings: RackbeatShopboxSettings, client: RackbeatClient, table: Any, connection_id: str
) -> str:
    """Credits the return on its original's invoice; returns the event's reason. `PermanentError` naming the field
    when it cannot be, before anything is written; `RetryableError` while the original is still on its way."""
    uid = str(basket.uid)
    if any(line.quantity > 0 for line in basket.lines):
        raise _refuse(basket, "lines: sold and returned lines in one basket (an exchange) are not transferred")
    if basket.return_of is None:
        raise _refuse(basket, "return_of: the return names no original sale; credit it in Rackbeat by hand")
    original = str(basket.return_of)
    mapped = mappings.get_mapping(table, connection_id, "order", SYSTEM, original) or {}
    if not mapped.get("target_id"):
        raise _refuse(basket, f"return_of: the original basket {original} is not in Rackbeat")
    if mapped.get("status") == "transferred":
        raise RetryableError(f"Shopbox basket {original} is still on its way to its target; crediting its return after")
    number = int(mapped["target_id"])
    order = rackbeat.get_order(client, number)
    if not order.get("is_invoiced"):
        raise _refuse(
            basket, f"return_of: Rackbeat order {number} of basket {original} is not invoiced; nothing to credit"
        )
    reference = return_reference(uid, original)
    note = credit_notes.find(client, reference)
    if note is None:
        lines = _credit_lines(basket, order, settings, client)
        invoice = mapped.get("rackbeat_invoice") or (rackbeat.find_invoice(client, number) or {}).get("number")
        if not invoice:
            raise RetryableError(f"Rackbeat order {number} is invoiced but its invoice is not listed yet")
        note = credit_notes.create(client, int(invoice), reference, lines, stock_return=bool(order.get("is_shipped")))
    credit_notes.book(client, note)
    mappings.put_mapping(
        table,
        connection_id,
        "order",
        SYSTEM,
        uid,
        str(number),
        status=CREDITED,
        return_of=original,
        credit_note=str(note["number"]),
    )
    return (
        f"Shopbox return basket {uid} credited on Rackbeat order {number} of basket {original} "
        f"(credit note {note['number']}, {credit_notes.total(note)} {order.get('currency') or basket.currency})"
    )


def _credit_lines(
    basket: Basket, order: dict[str, Any], settings: RackbeatShopboxSettings, client: RackbeatClient
) -> list[dict[str, Any]]:
    """Each returned line as the original order's line of its item, for the quantity handed back."""
    find_item = sales_order.RackbeatItems(client, settings.uid_field_id, settings.variant_field_id)
    sold: dict[str, dict[str, Any]] = {}
    for line in order.get("lines") or []:
        sold.setdefault(str(line.get("item_id")), line)
    left = {item: Decimal(str(line.get("quantity") or 0)) for item, line in sold.items()}
    lines = []
    for index, line in enumerate(basket.lines):
        product = None if line.product is None else str(line.product)
        variant = None if line.product_variance is None else str(line.product_variance)
        item = find_item(product or "", variant, line.sku_code) if product or line.sku_code else None
        if item is None or item not in sold:
            raise _refuse(basket, f"lines[{index}].product: the original sale has no line of this item ({item})")
        quantity = Decimal(-line.quantity)
        if quantity > left[item]:
            raise _refuse(basket, f"lines[{index}].quantity: {quantity} returned, {left[item]} sold")
        left[item] -= quantity
        credited = {key: sold[item][key] for key in CREDIT_LINE_FIELDS if sold[item].get(key) is not None}
        lines.append({**credited, "quantity": str(quantity.normalize())})
    return lines
