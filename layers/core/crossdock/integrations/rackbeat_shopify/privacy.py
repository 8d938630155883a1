"""Shopify's mandatory privacy webhooks: what Crossdock holds about a customer, and erasing it.

Personal data reaches Crossdock in one place only: the raw webhook payloads in the event log (an order carries the
customer's name, e-mail, phone and addresses). Mappings, delivery claims, workflow inputs and logs hold ids,
statuses and totals. So a customer's data is found by reading the connection's event payloads, and erased by
replacing those payloads with a marker: topic, status, reason and dates stay as the audit trail. What the order
became in Rackbeat is the merchant's own ERP data: the merchant answers for it there, Crossdock does not touch it.

The privacy payloads themselves name the customer (e-mail, phone), so each request drops its own payload once
handled. Nothing is sent anywhere: a data request is answered by the merchant, from the reason recorded here.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from crossdock.bodies import json_object
from crossdock.connections.model import ConnectionState
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection
from crossdock.store import connections, events, keys, mappings
from crossdock.store.outcome import Outcome, first_error
from crossdock.store.secrets import SecretStore

# A reason lists at most this many events (and order mappings); the counts are always complete.
LISTED_EVENTS = 20


class PrivacyCustomer(BaseModel):
    id: int | None = None
    email: str | None = None
    phone: str | None = None


class DataRequestRef(BaseModel):
    id: int | None = None


class CustomerPrivacyRequest(BaseModel):
    """`customers/data_request` (orders_requested) and `customers/redact` (orders_to_redact)."""

    shop_domain: str
    customer: PrivacyCustomer
    orders_requested: list[int] = []
    orders_to_redact: list[int] = []
    data_request: DataRequestRef | None = None


class ShopRedactRequest(BaseModel):
    shop_domain: str


@dataclass(frozen=True)
class PrivacyContext:
    table: Any
    secrets: SecretStore
    connection: RackbeatShopifyConnection
    event_sk: str  # the privacy event's own entry in the log
    now: str


@dataclass(frozen=True)
class CustomerMatch:
    """What identifies a customer in a payload: the orders Shopify names, the customer id, e-mail and phone."""

    order_ids: frozenset[str]
    customer_id: str | None
    email: str | None
    phone_digits: str | None

    @classmethod
    def of(cls, customer: PrivacyCustomer, order_ids: Iterable[int]) -> CustomerMatch:
        phone = _digits(customer.phone)
        return cls(
            order_ids=frozenset(str(order_id) for order_id in order_ids),
            customer_id=str(customer.id) if customer.id is not None else None,
            email=customer.email.strip().lower() if customer.email and customer.email.strip() else None,
            # A few digits would match unrelated numbers; a real phone number has more.
            phone_digits=phone if phone and len(phone) >= 6 else None,
        )

    def concerns(self, topic: str, payload: str) -> bool:
        # The e-mail anywhere counts (order, customer, addresses, notes), so a payload shape we do not model is
        # still found.
        if self.email and self.email in payload.lower():
            return True
        try:
            body = json_object(payload)
        except ValueError:
            return False
        if topic.startswith("orders/") and _text(body.get("id")) in self.order_ids:
            return True
        if _text(body.get("order_id")) in self.order_ids:  # refunds, fulfilments
            return True
        found = body.get("customer")
        customer: dict[str, Any] = found if isinstance(found, dict) else {}
        if self.customer_id and _text(customer.get("id")) == self.customer_id:
            return True
        phones = {_digits(_text(body.get("phone"))), _digits(_text(customer.get("phone")))}
        return bool(self.phone_digits and self.phone_digits in phones)


def redaction_marker(topic: str) -> str:
    """What a redacted payload becomes: valid JSON that says why, so readers of the log fail clearly on it."""
    return json.dumps({"redacted": True, "by": topic}, separators=(",", ":"))


def report_customer_data(context: PrivacyContext, payload: str) -> Outcome:
    try:
        request = CustomerPrivacyRequest.model_validate_json(payload)
    except ValidationError as invalid:
        return Outcome.needs_attention(f"customers/data_request payload is invalid: {first_error(invalid)}")
    match = CustomerMatch.of(request.customer, request.orders_requested)
    held = _events_about(context, match)
    mapped = mappings.shopify_order_mappings(context.table, context.connection.id, sorted(match.order_ids))
    _drop_own_payload(context, "customers/data_request")
    request_id = request.data_request.id if request.data_request and request.data_request.id else None
    title = f"data request {request_id}" if request_id else "data request"
    return Outcome.done(
        f"{title}: {_held(held)}; {_mapped(mapped, len(match.order_ids))}. Nothing was sent anywhere: the merchant "
        "answers the customer, and the customer's record in Rackbeat is the merchant's own"
    )


def redact_customer(context: PrivacyContext, payload: str) -> Outcome:
    try:
        request = CustomerPrivacyRequest.model_validate_json(payload)
    except ValidationError as invalid:
        return Outcome.needs_attention(f"customers/redact payload is invalid: {first_error(invalid)}")
    match = CustomerMatch.of(request.customer, request.orders_to_redact)
    held = _events_about(context, match)
    marker = redaction_marker("customers/redact")
    for event in held:
        events.redact_payload(context.table, context.connection.id, str(event["sk"]), marker, context.now)
    _drop_own_payload(context, "customers/redact")
    mapped = mappings.shopify_order_mappings(context.table, context.connection.id, sorted(match.order_ids))
    redacted = f"{len(held)} event payload(s) replaced by a redaction marker" + (
        f" ({_topic_counts(held)})" if held else ""
    )
    return Outcome.done(
        f"customer data redacted: {redacted}; {len(mapped)} order mapping(s) kept, they hold ids only; "
        "this request's own payload dropped"
    )


def redact_shop(context: PrivacyContext, payload: str) -> Outcome:
    """Erases everything of the connection but a tombstone; refused while the connection is active, because
    Shopify sends this only 48 hours after an uninstall (an active connection means the uninstall never arrived,
    or the shop came back)."""
    connection = context.connection
    try:
        request = ShopRedactRequest.model_validate_json(payload)
    except ValidationError as invalid:
        return Outcome.needs_attention(f"shop/redact payload is invalid: {first_error(invalid)}")
    if request.shop_domain.lower() != connection.shop_domain.lower():
        return Outcome.needs_attention(
            f"shop/redact names {request.shop_domain} but connection {connection.id} is {connection.shop_domain}; "
            "nothing was deleted"
        )
    if connection.state is ConnectionState.ACTIVE:
        return Outcome.needs_attention(
            f"shop/redact refused: connection {connection.id} ({connection.shop_domain}) is still active, and "
            "Shopify sends shop/redact only 48 hours after an uninstall; nothing was deleted"
        )
    for name in connections.stored_secret_names(context.table, connection.id):
        context.secrets.delete(connection.id, name)  # through the store, so its cache forgets them too
    # The event being handled stays until dispatch has recorded its outcome; its payload goes now.
    kept = {keys.META, keys.TOMBSTONE, context.event_sk}
    doomed = [sk for sk in connections.connection_sort_keys(context.table, connection.id) if sk not in kept]
    connections.delete_connection_items(context.table, connection.id, doomed)
    _drop_own_payload(context, "shop/redact")
    connections.replace_with_tombstone(context.table, connection, context.now)
    kinds = Counter(sk.split("#", 1)[0] for sk in doomed)
    deleted = ", ".join(f"{_KINDS.get(kind, kind.lower())} {count}" for kind, count in sorted(kinds.items()))
    return Outcome.done(
        f"shop {connection.shop_domain} redacted: {len(doomed)} item(s) of connection {connection.id} deleted"
        + (f" ({deleted})" if deleted else "")
        + "; secrets deleted; a tombstone (ids and dates) remains"
    )


_KINDS = {
    "EVT": "events",
    "MAP": "mappings",
    "SECRET": "secrets",
    "STOCKDIRTY": "stock markers",
    "SETTINGS": "settings versions",
    "SYNC": "sync progress",
}


def _events_about(context: PrivacyContext, match: CustomerMatch) -> list[dict[str, Any]]:
    """The connection's events whose payload concerns the customer, the request's own event excepted."""
    return [
        event
        for event in events.iter_events(context.table, context.connection.id)
        if event["sk"] != context.event_sk
        and not event.get("redacted_at")
        and match.concerns(str(event.get("topic", "")), str(event.get("payload", "")))
    ]


def _drop_own_payload(context: PrivacyContext, topic: str) -> None:
    events.redact_payload(context.table, context.connection.id, context.event_sk, redaction_marker(topic), context.now)


def _held(held: list[dict[str, Any]]) -> str:
    if not held:
        return "Crossdock holds no webhook payload about this customer"
    dates = sorted(_received_on(event) for event in held)
    listed = ", ".join(str(event.get("event_id", event["sk"])) for event in held[:LISTED_EVENTS])
    more = f" and {len(held) - LISTED_EVENTS} more" if len(held) > LISTED_EVENTS else ""
    return (
        f"Crossdock holds {len(held)} webhook payload(s) about this customer ({_topic_counts(held)}), received "
        f"{dates[0]} to {dates[-1]}, kept at most {events.DONE_RETENTION_DAYS} days unless they need attention: "
        f"events {listed}{more}"
    )


def _mapped(mapped: dict[str, dict[str, Any]], requested: int) -> str:
    if not requested:
        return "no orders were named"
    listed = list(mapped.items())[:LISTED_EVENTS]
    pairs = ", ".join(f"{order_id} → {mapping.get('target_id') or '-'}" for order_id, mapping in listed)
    more = f" and {len(mapped) - LISTED_EVENTS} more" if len(mapped) > LISTED_EVENTS else ""
    return f"{len(mapped)} of {requested} named order(s) are mapped to Rackbeat orders (ids only)" + (
        f": {pairs}{more}" if pairs else ""
    )


def _topic_counts(held: list[dict[str, Any]]) -> str:
    counts = Counter(str(event.get("topic")) for event in held)
    return ", ".join(f"{topic} {count}" for topic, count in sorted(counts.items()))


def _received_on(event: dict[str, Any]) -> str:
    """The day from the event's sort key, `EVT#<received at>#<event id>`."""
    return str(event["sk"]).split("#")[1][:10]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _digits(value: str | None) -> str:
    return re.sub(r"\D", "", value or "")
