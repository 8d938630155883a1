"""The product routes of `rackbeat_shopbox` (issue 14 item 4): which product event goes where.

- A Rackbeat product (or BOM) webhook, with `product_sync` `rackbeat` or `both`, queues the item's `product.push`
  on the Shopbox outbound queue at once (`product_push` does the work); the event ends when the push has run.
- A Shopbox product the `products#shopbox` poll found changed (`products/changed`, with `shopbox` or `both`) is
  read again and each of its units (the product, or each variant) upserted as its Rackbeat item: created in its
  category's group with its UIDs in the two custom fields, or its name, price and barcode updated. A unit whose
  fingerprint equals the one the mapping keeps (our own push read back, or nothing that moves) is left alone: that
  is what keeps `both` from echoing. A unit that cannot be an item (no SKU, no group) is listed, and the event
  ends `needs_attention` with the reasons — once: a product read again as it was last read is skipped.

Rackbeat writes carry `suppress_webhooks`, so a change made here does not come back as a Rackbeat webhook.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from crossdock.bodies import json_object
from crossdock.connectors.rackbeat import products as rackbeat_products
from crossdock.connectors.rackbeat.client import RackbeatClient, item_path
from crossdock.connectors.rackbeat.products import ITEM_EVENTS
from crossdock.errors import FailureClass, PermanentError
from crossdock.integration import Route
from crossdock.integrations.rackbeat_shopbox import catalog_mapping
from crossdock.integrations.rackbeat_shopbox.catalog_mapping import CatalogEntry
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxConnection
from crossdock.integrations.rackbeat_shopbox.product_push import FROM_RACKBEAT, PUSH
from crossdock.integrations.rackbeat_shopbox.settings import RackbeatShopboxSettings
from crossdock.ports import DispatchPorts, InboundEvent
from crossdock.store import mappings
from crossdock.store.events import EventStatus
from crossdock.store.outcome import Outcome, first_error

SOURCE = "shopbox"
CHANGED_TOPIC = "products/changed"
FROM_SHOPBOX = frozenset({"shopbox", "both"})
OUTBOUND = "shopbox"  # the outbound queue the push runs on


PRODUCT_EVENTS = frozenset(event for event, kind in ITEM_EVENTS.items() if kind == "product")
BOM_EVENTS = frozenset(event for event, kind in ITEM_EVENTS.items() if kind == "lot")


def rackbeat_webhooks(settings: RackbeatShopboxSettings) -> frozenset[str]:
    """The Rackbeat webhooks the products of these settings need (beside stock's): product events when products
    flow from Rackbeat, BOM (lot) events too with `create_boms_in_shopbox`; none otherwise."""
    if settings.product_sync not in FROM_RACKBEAT:
        return frozenset()
    return PRODUCT_EVENTS | (BOM_EVENTS if settings.create_boms_in_shopbox else frozenset())


def rackbeat_item_event(event: InboundEvent, ports: DispatchPorts) -> Outcome:
    """Rackbeat's body names the item only (`{"key_name": "number", "key": "1021"}`); the push re-reads it."""
    connection = RackbeatShopboxConnection.of(event.connection)
    settings = connection.settings
    if settings.product_sync not in FROM_RACKBEAT:
        return Outcome.skipped(f"product_sync is {settings.product_sync}")
    kind = ITEM_EVENTS[event.topic]
    if kind == "lot" and not settings.create_boms_in_shopbox:
        return Outcome.skipped("create_boms_in_shopbox is off: BOMs stay in Rackbeat")
    try:
        number = str(json_object(event.payload)["key"]).strip()
    except (ValueError, KeyError) as invalid:
        return Outcome.needs_attention(f"Rackbeat webhook body is invalid: {first_error(invalid)}")
    if not number:
        return Outcome.needs_attention("Rackbeat webhook body is invalid: key: empty")
    if ports.send_outbound is None:
        return Outcome.needs_attention(f"no outbound queue for {event.topic} here", FailureClass.BUG)
    command = {"command": PUSH, "connection_id": connection.id, "number": number, "kind": kind, "event_sk": event.sk}
    # Repeats of one item's webhook within a second are one push (SQS FIFO deduplication is queue-wide, so the id
    # names the connection too).
    scope = hashlib.sha256(f"{connection.id}:{kind}:{number}".encode()).hexdigest()[:40]
    ports.send_outbound(OUTBOUND, command, connection.id, f"item-{scope}-{int(ports.now())}")
    return Outcome(EventStatus.RECEIVED, f"item {number} queued for Shopbox")


def shopbox_product_changed(event: InboundEvent, ports: DispatchPorts) -> Outcome:
    connection = RackbeatShopboxConnection.of(event.connection)
    settings = connection.settings
    if settings.product_sync not in FROM_SHOPBOX:
        return Outcome.skipped(f"product_sync is {settings.product_sync}")
    try:
        uid = str(int(str(json_object(event.payload)["uid"])))
    except (ValueError, KeyError) as invalid:
        return Outcome.needs_attention(f"products/changed payload is invalid: {first_error(invalid)}")
    if ports.clients is None:
        return Outcome.needs_attention("products/changed cannot be handled here: no clients", FailureClass.BUG)
    product = ports.clients.shopbox(connection).product(uid)
    if product is None:
        return Outcome.skipped(f"Shopbox product {uid} no longer exists; its Rackbeat items are kept")
    # The poll's overlap reads a product again and again; what was read before (a product without SKU included,
    # reported once) is not looked at again.
    read = catalog_mapping.product_fingerprint(product)
    last = mappings.get_mapping(ports.table, connection.id, catalog_mapping.PRODUCT, SOURCE, uid) or {}
    if last.get("fingerprint") == read:
        return Outcome.skipped(f"Shopbox product {uid} is as it was last read")
    found = catalog_mapping.product_entries(product, settings)
    rackbeat = ports.clients.rackbeat(connection)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    refused: list[str] = []
    for entry in found.entries:
        binding = catalog_mapping.item_of(ports.table, connection.id, entry.product_uid, entry.variant_uid) or {}
        if binding.get("fingerprint") == entry.fingerprint() and binding.get("target_id") == entry.number:
            counts["unchanged"] += 1
            continue
        try:
            counts[_upsert_item(rackbeat, connection, entry)] += 1
        except PermanentError as problem:
            refused.append(f"{entry.number}: {problem.reason}")
            continue
        catalog_mapping.bind(ports.table, connection.id, entry)
    if not refused:  # a product Rackbeat refused is tried again when it is next read
        numbers = ",".join(entry.number for entry in found.entries)
        mappings.put_mapping(
            ports.table, connection.id, catalog_mapping.PRODUCT, SOURCE, uid, numbers, fingerprint=read
        )
    summary = ", ".join(f"{n} {what}" for what, n in counts.items() if n) or "no items"
    problems = refused + found.unmapped
    if problems:
        return Outcome.needs_attention(
            f"Shopbox product {uid}: {summary}; not synced: {'; '.join(problems)}", FailureClass.UNMAPPED
        )
    if not counts["created"] and not counts["updated"]:
        return Outcome.skipped(f"Shopbox product {uid}: {summary} (as last synced, or our own write)")
    return Outcome.done(f"Shopbox product {uid}: {summary}")


def _upsert_item(rackbeat: RackbeatClient, connection: RackbeatShopboxConnection, entry: CatalogEntry) -> str:
    """Create the item (with its UIDs in the custom fields) or update what Shopbox masters on it; an existing item
    keeps its group."""
    settings = connection.settings
    wanted = entry.rackbeat_body(settings.add_vat)
    existing = rackbeat_products.read_item(rackbeat, entry.number)
    if existing is None:
        rackbeat.post("products", wanted, **rackbeat_products.SUPPRESS)
        result = "created"
    else:
        changes = {
            key: wanted.get(key)
            for key in ("name", "sales_price", "barcode")
            if not _same(existing.get(key), wanted.get(key))
        }
        if changes:
            rackbeat.put(f"products/{item_path(entry.number)}", changes, **rackbeat_products.SUPPRESS)
        result = "updated" if changes else "unchanged"
    for field_id, value in ((settings.uid_field_id, entry.product_uid), (settings.variant_field_id, entry.variant_uid)):
        # Written whatever else changed: the item may be the merchant's own, bound here for the first time.
        if field_id is not None and value is not None:
            rackbeat.put(
                f"products/{item_path(entry.number)}/fields/{field_id}", {"value": value}, **rackbeat_products.SUPPRESS
            )
    return result


def _same(current: Any, wanted: Any) -> bool:
    if current in (None, "") and wanted in (None, ""):
        return True
    try:
        return Decimal(str(current)) == Decimal(str(wanted))
    except ArithmeticError:
        return str(current or "") == str(wanted or "")


def changed_message(connection_id: str, uid: str, tstamp: int, received_at: str) -> dict[str, Any]:
    """The inbound message the products poll sends for a Shopbox product changed at `tstamp`."""
    return {
        "source": SOURCE,
        "connection_id": connection_id,
        "event_id": f"product-{uid}-{tstamp}",
        "topic": CHANGED_TOPIC,
        "received_at": received_at,
        "payload": json.dumps({"uid": uid, "tstamp": tstamp}, separators=(",", ":")),
    }


ROUTES = (
    Route("rackbeat", frozenset(ITEM_EVENTS), rackbeat_item_event),
    Route(SOURCE, frozenset({CHANGED_TOPIC}), shopbox_product_changed),
)
