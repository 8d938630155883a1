"""Tracking to the shop (issue 15, item 6): a Webshipper shipment of a Rackbeat order that came from a Shopify order
becomes a Shopify fulfilment of that order with the carrier, tracking number and URL — once, and only when the
connection's `tracking_to_shopify` is on.

Three steps, so a Shopify failure never undoes or repeats the Rackbeat side:

1. `hand_over` — INBOUND calls it in dispatch after the Rackbeat order is marked shipped, with the outcome detail
   agreed in docs/webshipper.md. It records an event of its own on the Webshipper connection (`crossdock` /
   `tracking/shopify`, the detail as payload) and runs step 2 for it; it calls nothing outside the store and queue,
   so the shipment's own event ends as the Rackbeat side did.
2. `queue_for_shop` (also the route of that event, so an operator's `events retry` sends it again through the
   inbound queue) — claims the shipment (`MAP#tracking#webshipper#<shipment id>`, so a repeated `shipment/created`
   hands it over once) and sends the `tracking.fulfil` command to the Shopify outbound queue.
3. `fulfil_command` — run by the Shopify push function: reads the Rackbeat order's Shopify reference, finds the shop
   (`tracking_shop.find_shop_order`), fulfils (`tracking_shop.fulfil`) and ends the event done, skipped or
   needs_attention. A passing failure (Shopify or Rackbeat down, throttled) is retried by the queue, counted on the
   event (`store.events.count_attempt`); after `MAX_ATTEMPTS` the event ends needs_attention with the last reason.

The command's message group is the Webshipper connection: its fulfilments run one at a time, beside the shop's own
pushes (the shop connection's group), which the Shopify client's cost waits and THROTTLED hold-backs keep inside the
shop's budget. The shop is only known after the Rackbeat order is read, which belongs to step 3, not to dispatch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from crossdock.aws.observability import logger
from crossdock.connections.model import Connection
from crossdock.errors import CrossdockError, FailureClass, PermanentError, RetryableError
from crossdock.integration import CommandHandler, Route
from crossdock.integrations.rackbeat_webshipper.connection import RackbeatWebshipperConnection
from crossdock.integrations.rackbeat_webshipper.tracking_shop import Shipped, find_shop_order, fulfil
from crossdock.ports import CommandPorts, DispatchPorts, InboundEvent
from crossdock.store import events, keys, mappings
from crossdock.store.events import EventStatus
from crossdock.store.outcome import Outcome, finish_event
from crossdock.topics import CROSSDOCK_SOURCE, TRACKING_TOPIC

COMMAND = "tracking.fulfil"
OUTBOUND = "shopify"  # the target system whose outbound queue runs the command
# Failed tries of one fulfilment before it waits for an operator: with the queue's visibility timeout (720 s) about
# an hour of a Shopify or Rackbeat outage, well inside the queue's 30 receives before the dead letters.
MAX_ATTEMPTS = 5
# The mapping that records a shipment handed to the shop: entity, system (its key is the Webshipper shipment id).
TRACKING_ENTITY, SHIPMENT_SYSTEM = "tracking", "webshipper"


def hand_over(event: InboundEvent, detail: Mapping[str, Any], ports: DispatchPorts) -> str:
    """The tracking step after the Rackbeat side of a shipment is done (`event` is the shipment's event, `detail`
    its outcome detail). Returns a short note for the shipment event's reason; never raises for the shop's sake."""
    connection = RackbeatWebshipperConnection.of(event.connection)
    if not connection.settings.tracking_to_shopify:
        return "tracking_to_shopify is off: no Shopify fulfilment"
    try:
        shipped = Shipped.read(dict(detail))
    except ValueError as invalid:
        logger.error("tracking hand-over is invalid", extra={"problem": str(invalid)})
        return f"no Shopify fulfilment: the hand-over is invalid ({invalid})"
    if not shipped.tracking_number:
        return f"shipment {shipped.shipment_id} has no tracking number: no Shopify fulfilment"
    try:
        return _record_and_queue(event, connection, shipped, ports)
    # The table's or the queue's failure (AWS answered an error, or could not be reached): the shipment's event ends
    # with its Rackbeat side all the same; the shop's part never undoes or repeats it.
    except (ClientError, BotoCoreError, OSError, CrossdockError) as failed:
        logger.exception("tracking hand-over failed", extra={"shipment_id": shipped.shipment_id})
        return (
            f"tracking NOT handed to the shop ({type(failed).__name__}, see the log): retry event "
            f"tracking-{shipped.shipment_id} once the cause is fixed"
        )


def _record_and_queue(
    event: InboundEvent, connection: RackbeatWebshipperConnection, shipped: Shipped, ports: DispatchPorts
) -> str:
    # One event per delivery of the shipment event (a retried message records the same one); a repeated delivery
    # makes a new one, which the shipment's claim then skips.
    payload = json.dumps(shipped.detail(), separators=(",", ":"))
    event_id = f"tracking-{shipped.shipment_id}"
    sk = events.record_received(
        ports.table, connection.id, event_id, CROSSDOCK_SOURCE, TRACKING_TOPIC, payload, event.received_at
    )
    tracking_event = InboundEvent(
        connection, CROSSDOCK_SOURCE, TRACKING_TOPIC, payload, sk, event.received_at, event.redrive
    )
    outcome = queue_for_shop(tracking_event, ports)
    if outcome.status is not EventStatus.RECEIVED:
        details = {"failure_class": outcome.failure_class.value} if outcome.failure_class else {}
        finish_event(ports.table, connection.id, sk, outcome.status, outcome.reason, **details)
    return f"tracking to the shop: {outcome.reason} (event {event_id})"


def queue_for_shop(event: InboundEvent, ports: DispatchPorts) -> Outcome:
    """The `tracking/shopify` event's work in dispatch: the shipment claimed once, the command queued."""
    connection = RackbeatWebshipperConnection.of(event.connection)
    if not connection.settings.tracking_to_shopify:
        return Outcome.skipped("tracking_to_shopify is off")
    try:
        shipped = Shipped.read(json.loads(event.payload))
    except ValueError as invalid:  # JSONDecodeError is one
        return Outcome.needs_attention(f"tracking/shopify payload is invalid: {invalid}", FailureClass.BUG)
    if not shipped.tracking_number:
        return Outcome.skipped(f"shipment {shipped.shipment_id} has no tracking number")
    if ports.send_outbound is None:
        return Outcome.needs_attention("tracking/shopify cannot be handled here: no outbound queue", FailureClass.BUG)
    sk = event.sk
    claimed = mappings.claim_mapping(
        ports.table, connection.id, TRACKING_ENTITY, SHIPMENT_SYSTEM, shipped.shipment_id, sk
    )
    if claimed is not None and claimed.get("target_id") != sk:
        if event.redrive is not None:
            # An operator's retry (or a sweep) is asked for on purpose: the new event takes the shipment over.
            mappings.put_mapping(ports.table, connection.id, TRACKING_ENTITY, SHIPMENT_SYSTEM, shipped.shipment_id, sk)
        else:
            earlier = str(claimed.get("target_id") or "")
            stored = events.load_event(ports.table, connection.id, earlier) if earlier else None
            status = str((stored or {}).get("status") or "gone")
            name = earlier.rsplit("#", 1)[-1] or "unknown"
            if status != EventStatus.RECEIVED.value:
                return Outcome.skipped(
                    f"shipment {shipped.shipment_id} was handed to the shop already ({name}: {status})"
                )
            # The earlier event still waits: its command may have been lost before it was sent. Asking again is
            # safe (the command reads Shopify before it fulfils) and the earlier event is the one that ends.
            _send(ports, connection.id, earlier, shipped.shipment_id)
            return Outcome.skipped(f"shipment {shipped.shipment_id} is handed to the shop by {name}, asked again")
    _send(ports, connection.id, sk, shipped.shipment_id)
    return Outcome(EventStatus.RECEIVED, f"queued for Shopify ({COMMAND})")


def _send(ports: DispatchPorts, connection_id: str, sk: str, shipment_id: str) -> None:
    assert ports.send_outbound is not None
    command = {"connection_id": connection_id, "command": COMMAND, "event_sk": sk}
    # One message per event within SQS's five-minute deduplication window (a retried dispatch sends it once).
    dedupe = f"tracking-{hashlib.sha256(f'{connection_id}|{sk}'.encode()).hexdigest()[:40]}"
    ports.send_outbound(OUTBOUND, command, connection_id, dedupe)
    logger.info("tracking queued for the shop", extra={"shipment_id": shipment_id, "event_sk": sk})


def fulfil_command(connection: Connection, command: dict[str, Any], ports: CommandPorts) -> str:
    """`tracking.fulfil` on the Shopify outbound queue: the shop's order fulfilled, the event ended."""
    webshipper = RackbeatWebshipperConnection.of(connection)
    sk = str(command.get("event_sk") or "")
    stored = events.load_event(ports.table, webshipper.id, sk) if sk.startswith(keys.EVENT_PREFIX) else None
    if stored is None:
        logger.error("tracking command without its event", extra={"event_sk": sk})
        return f"event {sk or '(none)'} is gone: nothing to fulfil"
    if stored.get("status") != EventStatus.RECEIVED.value:
        # A second delivery of a command that already finished its event.
        return f"event already {stored.get('status')}: {stored.get('reason')}"
    try:
        outcome = _fulfil(webshipper, str(stored["payload"]), ports)
    except PermanentError as refused:
        outcome = Outcome.needs_attention(refused.reason, refused.failure_class)
    except RetryableError as failed:
        tries = events.count_attempt(ports.table, webshipper.id, sk) - 1  # it had one attempt when recorded
        if tries < MAX_ATTEMPTS:
            raise  # the queue brings it back (after the target's Retry-After, or its visibility timeout)
        outcome = Outcome.needs_attention(
            f"Shopify fulfilment failed {tries} times, last: {failed.reason}", failed.failure_class
        )
    details = {"failure_class": outcome.failure_class.value} if outcome.failure_class else {}
    finish_event(ports.table, webshipper.id, sk, outcome.status, outcome.reason, **details)
    return outcome.reason


def _fulfil(connection: RackbeatWebshipperConnection, payload: str, ports: CommandPorts) -> Outcome:
    if not connection.settings.tracking_to_shopify:
        return Outcome.skipped("tracking_to_shopify was turned off before the shop was told")
    try:
        shipped = Shipped.read(json.loads(payload))
    except ValueError as invalid:
        return Outcome.needs_attention(f"tracking/shopify payload is invalid: {invalid}", FailureClass.BUG)
    found = find_shop_order(connection, shipped, ports.table, ports.clients)
    if isinstance(found, Outcome):
        return found
    return fulfil(found, shipped, ports.clients)


ROUTES: tuple[Route, ...] = (Route(CROSSDOCK_SOURCE, frozenset({TRACKING_TOPIC}), queue_for_shop),)
COMMANDS: dict[str, CommandHandler] = {COMMAND: fulfil_command}
