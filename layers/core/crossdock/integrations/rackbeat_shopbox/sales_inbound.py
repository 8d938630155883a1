"""The routes of Shopbox sales: a basket the poll found (`baskets/sold`, `baskets/canceled`, source `shopbox`) and an
operator's manual sync of one basket (`baskets/sync`, source `crossdock`) start the order workflow of the basket.

Each workflow is named after connection + basket uid (`workflow_names.execution_name`; `…-cancel-<uid>` for a
cancellation), so a basket the poll sends again — its overlap, a crash between reading and queuing — is refused by
Step Functions itself and logged as skipped. A basket already in Rackbeat (its mapping says `done`) is skipped
before anything starts. A manual sync is a redrive (`operator`): it may start the next attempt of a workflow that
ended without a result, never a second order of one that has one.
"""

from __future__ import annotations

import json
import re
from typing import Any

from crossdock.bodies import json_object
from crossdock.connections.model import Connection
from crossdock.errors import FailureClass
from crossdock.integration import Route
from crossdock.integrations.rackbeat_shopbox.order_workflow import SYSTEM
from crossdock.integrations.rackbeat_shopbox.sales_stream import CANCELLED_TOPIC, SOLD_TOPIC, SOURCE
from crossdock.integrations.rackbeat_shopbox.settings import RackbeatShopboxSettings
from crossdock.ports import DispatchPorts, InboundEvent
from crossdock.store import events, mappings
from crossdock.store.outcome import Outcome, first_error
from crossdock.topics import CROSSDOCK_SOURCE
from crossdock.workflow_names import execution_name

# An operator's request to transfer one basket (payload {"basket_uid": …}), `operations.order_sync` sends it.
SYNC_TOPIC = "baskets/sync"
# Mapping states of a basket whose order exists in Rackbeat (`needs_attention`: made, a later stage failed).
TRANSFERRED = frozenset({"transferred", "done", "needs_attention", "cancelled", "credited"})
_UID = re.compile(r"[0-9]{1,19}")


def parse_basket_uid(value: Any) -> str:
    """A Shopbox basket uid (digits, as the API sends it as a number); ValueError naming the problem."""
    text = str(value).strip() if value is not None else ""
    if not _UID.fullmatch(text):
        raise ValueError(f"basket uid: {value!r} is not a Shopbox basket uid (digits)")
    return str(int(text))


def _uid(payload: str, key: str) -> str:
    return parse_basket_uid(json_object(payload).get(key))


def _settings(event: InboundEvent) -> RackbeatShopboxSettings:
    settings = event.connection.settings
    assert isinstance(settings, RackbeatShopboxSettings)
    return settings


def _already(event: InboundEvent, uid: str, ports: DispatchPorts) -> Outcome | None:
    """Why the basket needs no transfer (it is in Rackbeat, or was cancelled first), or None."""
    mapped = mappings.get_mapping(ports.table, event.connection.id, "order", SYSTEM, uid)
    if mapped and mapped.get("status") == "done":
        return Outcome.skipped(f"Shopbox basket {uid} is already Rackbeat order {mapped['target_id']}")
    if mapped and mapped.get("status") == "cancelled" and not mapped.get("target_id"):
        return Outcome.skipped(f"Shopbox basket {uid} was cancelled before it reached Rackbeat")
    return None


def _start_order(event: InboundEvent, uid: str, ports: DispatchPorts, redrive: str | None) -> Outcome:
    """Reads the basket's detail from Shopbox (its lines: list rows have none) into the event's payload, where the
    workflow's transfer reads it, and starts the basket's workflow. Read here, not in the workflow: dispatch may
    refresh an expired Shopbox login (it stores the new token), the order steps only decrypt."""
    settings = _settings(event)
    if settings.sales.customer_number is None:
        return Outcome.needs_attention(
            f"Shopbox basket {uid}: sales.customer_number: no Rackbeat customer for sales at the till"
        )
    if ports.clients is None:
        return Outcome.needs_attention(f"{event.topic} cannot be handled here: no Shopbox reader", FailureClass.BUG)
    connection = event.connection
    basket = ports.clients.shopbox(connection).basket(uid)
    if basket is None:
        return Outcome.skipped(f"Shopbox has no basket {uid} (deleted, or another client's uid)")
    if basket.canceled:
        return Outcome.skipped(f"Shopbox basket {uid} is cancelled; a cancelled sale is not transferred")
    events.replace_payload(ports.table, connection.id, event.sk, json.dumps(basket.model_dump(mode="json")))
    workflow_input = {
        "kind": "order",  # the workflow's first state routes on it (order, refund, cancel)
        "connection_id": connection.id,
        "event_sk": event.sk,
        "order_id": uid,
        "order_name": f"Shopbox basket {uid}",
        "target": settings.sales.rackbeat_status.value,
        "settings_version": connection.settings_version,
        "settings": settings.model_dump(mode="json"),
    }
    name = execution_name(connection.id, uid)
    return ports.start_workflow(
        connection.id, name, workflow_input, f"basket {uid} is already being transferred", redrive
    )


def basket_sold(event: InboundEvent, ports: DispatchPorts) -> Outcome:
    try:
        uid = _uid(event.payload, "uid")
    except ValueError as invalid:
        return Outcome.needs_attention(f"{event.topic} payload is invalid: {first_error(invalid)}")
    return _already(event, uid, ports) or _start_order(event, uid, ports, event.redrive)


def basket_cancelled(event: InboundEvent, ports: DispatchPorts) -> Outcome:
    try:
        uid = _uid(event.payload, "uid")
    except ValueError as invalid:
        return Outcome.needs_attention(f"{event.topic} payload is invalid: {first_error(invalid)}")
    connection = event.connection
    workflow_input = {
        "kind": "cancel",
        "connection_id": connection.id,
        "event_sk": event.sk,
        "order_id": uid,
        "order_name": f"Shopbox basket {uid}",
        "settings_version": connection.settings_version,
        "settings": _settings(event).model_dump(mode="json"),
    }
    name = execution_name(connection.id, uid, "cancel")
    repeat = f"basket {uid} is already being cancelled"
    return ports.start_workflow(connection.id, name, workflow_input, repeat, event.redrive)


def basket_sync(event: InboundEvent, ports: DispatchPorts) -> Outcome:
    """An operator's manual sync: transferred unless it is in Rackbeat already, or cancelled, or unknown to
    Shopbox."""
    try:
        uid = _uid(event.payload, "basket_uid")
    except ValueError as invalid:
        return Outcome.needs_attention(f"{SYNC_TOPIC} payload is invalid: {first_error(invalid)}")
    return _already(event, uid, ports) or _start_order(event, uid, ports, event.redrive or "operator")


class BasketManualSync:
    """`integration.ManualSync` of this kind: one basket by its uid."""

    what = "the Shopbox basket's uid"
    topic = SYNC_TOPIC

    def parse(self, text: str) -> str:
        return parse_basket_uid(text)

    def described(self, key: str) -> str:
        return f"Shopbox basket {key}"

    def already_transferred(self, connection: Connection, key: str, table: Any) -> str | None:
        mapped = mappings.get_mapping(table, connection.id, "order", SYSTEM, key) or {}
        if mapped.get("target_id") and mapped.get("status") in TRANSFERRED:
            return f"Rackbeat order {mapped['target_id']} ({mapped['status']})"
        return None

    def payload(self, key: str) -> str:
        return json.dumps({"basket_uid": key})


MANUAL_SYNC = BasketManualSync()

ROUTES = (
    Route(SOURCE, frozenset({SOLD_TOPIC}), basket_sold),
    Route(SOURCE, frozenset({CANCELLED_TOPIC}), basket_cancelled),
    Route(CROSSDOCK_SOURCE, frozenset({SYNC_TOPIC}), basket_sync),
)
