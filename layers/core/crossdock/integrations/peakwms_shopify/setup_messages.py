"""Guided setup step 5, `messages` (SPEC §4 step 5; seed 004 "choose which data to send"): the PeakWMS webhooks of
the messages switched on in `messages.*`, each registered at its own address
`<base>/webhooks/peakwms/<connection>/<event>?key=<WEBHOOK_KEY>` (`connectors.peakwms.inbound`), those of messages
switched off removed.

The key is the connection's `WEBHOOK_KEY` secret, made here the first time (32 random bytes, URL-safe) and never
shown: notes, the step's state and the self-check's event name the addresses without it.

Rerunnable at any time. PeakWMS's list of webhooks is compared first: an address of this connection for an event
still wanted, with the current key, is kept; one for an event no message wants any more (or with an old key, or a
second one for the same event) is deleted; a wanted event without one is registered. A run after a crash, or a
second run, changes only what differs.

A settings change of `messages.*` takes effect at once without this step: each delivery is checked against the
switch in force when it arrived (`peakwms_webhooks`: a switched-off message's event ends `skipped`). The
registrations follow the settings at the next scheduled self-check (`UPKEEP`, once the merchant has run this step)
or at once with `crossdock setup run <connection> messages`. Switching a message off therefore costs nothing but a
skipped event per delivery until then.

Sending must also be switched on per message in PeakWMS's own UI [seen P2]: no API call can do that, and the note
says so. [guess] Where PeakWMS offers no list of webhooks, every wanted event is registered (a re-run may then
register one twice, and a switched-off one cannot be removed from here: the note names them).
"""

from __future__ import annotations

import secrets as random_secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from crossdock.connections.model import Connection
from crossdock.connectors.peakwms import webhooks as peakwms_webhooks
from crossdock.connectors.peakwms.client import PeakwmsClient
from crossdock.connectors.peakwms.secret_names import WEBHOOK_KEY
from crossdock.connectors.peakwms.webhook_events import EVENTS
from crossdock.integration import SetupDeps, StepChunk
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.lifecycle import peakwms_webhook_prefix
from crossdock.integrations.peakwms_shopify.settings import Messages
from crossdock.integrations.peakwms_shopify.setup import MESSAGES
from crossdock.integrations.self_check_events import record_repair
from crossdock.store import setup_progress

# Each message (a `messages.*` switch) and the PeakWMS events it is carried by (reference/peakwms.md "Messages
# PeakWMS sends to the shop"). Payment captured by PeakWMS comes as a 102 with `paymentCaptured=true` [guess] or a
# 109 with `paymentStatus=2` [guess]: both are registered for it. 103 carries both the average cost price and the
# closed purchase order.
MESSAGE_EVENTS: dict[str, tuple[str, ...]] = {
    "stock_adjustments": ("stock_adjust",),
    "ean_updates": ("ean_updates",),
    "order_packed_capture": ("pick_order_packed",),
    "payment_captured": ("pick_order_packed", "order_state_changed"),
    "average_cost_price": ("inbound_order_closed",),
    "purchase_order_closed": ("inbound_order_closed",),
    "order_refunded": ("order_refunded",),
}
SELF_CHECK_TOPIC = "crossdock/peakwms_webhooks_repaired"


def wanted_events(messages: Messages) -> list[str]:
    """The event names the switched-on messages need, in PeakWMS's numbering order."""
    wanted = {name for message, names in MESSAGE_EVENTS.items() if getattr(messages, message) for name in names}
    return [name for name in EVENTS if name in wanted]


def messages_of(event: str) -> tuple[str, ...]:
    """The `messages.*` switches an event carries."""
    return tuple(message for message, names in MESSAGE_EVENTS.items() if event in names)


def webhook_key(secrets: Any, connection_id: str) -> str:
    """The connection's webhook key, made and stored the first time."""
    key = secrets.get(connection_id, WEBHOOK_KEY)
    if key:
        return str(key)
    key = random_secrets.token_urlsafe(32)
    secrets.put(connection_id, WEBHOOK_KEY, key)
    return key


def event_address(webhook_base_url: str, connection_id: str, event: str, key: str) -> str:
    return f"{peakwms_webhook_prefix(webhook_base_url, connection_id)}{event}?key={key}"


@dataclass
class MessageWebhooks:
    """What a sync of the connection's PeakWMS webhooks did, by event name (never with the key)."""

    registered: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.registered or self.removed)


def sync_message_webhooks(
    connection: PeakwmsShopifyConnection, client: PeakwmsClient, secrets: Any, webhook_base_url: str
) -> MessageWebhooks:
    """PeakWMS's webhooks to this connection's addresses made to match `messages.*` (see the module docstring)."""
    prefix = peakwms_webhook_prefix(webhook_base_url, connection.id)
    key = webhook_key(secrets, connection.id)
    wanted = wanted_events(connection.settings.messages)
    result = MessageWebhooks()
    listed = peakwms_webhooks.list_webhooks(client)
    if listed is None:
        result.notes.append(
            f"PeakWMS lists no webhooks: every wanted one was registered; remove any for {prefix}<event> of a "
            "message switched off in PeakWMS's settings"
        )
        for event in wanted:
            peakwms_webhooks.register_webhook(
                client, EVENTS[event], event_address(webhook_base_url, connection.id, event, key)
            )
            result.registered.append(event)
        return result
    for hook in listed:
        url = str(hook.get("url") or "")
        if not url.startswith(prefix):
            continue  # another connection's (another shop of the same PeakWMS account) or someone else's
        event = urlsplit(url).path.rsplit("/", 1)[-1]
        current = _key_of(url) == key and event in wanted and hook.get("name") == EVENTS.get(event)
        if current and event not in result.kept:
            result.kept.append(event)
        elif peakwms_webhooks.delete_webhook(client, str(hook["id"])):
            result.removed.append(event)
    for event in wanted:
        if event not in result.kept:
            peakwms_webhooks.register_webhook(
                client, EVENTS[event], event_address(webhook_base_url, connection.id, event, key)
            )
            result.registered.append(event)
    return result


def _key_of(url: str) -> str | None:
    found = parse_qs(urlsplit(url).query).get("key")
    return found[0] if found else None


def _listing(names: Iterable[str]) -> str:
    return ", ".join(f"{name} ({EVENTS[name]})" for name in names if name in EVENTS) or "none"


class MessagesStep:
    name: str = MESSAGES
    title: str = "Messages to the shop"
    optional: bool = False

    def run_chunk(self, connection: PeakwmsShopifyConnection, deps: SetupDeps, state: dict[str, Any]) -> StepChunk:
        client = deps.clients.peakwms(connection)
        done = sync_message_webhooks(connection, client, deps.secrets, deps.webhook_base_url)
        switched_on = [m for m in MESSAGE_EVENTS if getattr(connection.settings.messages, m)]
        wanted = wanted_events(connection.settings.messages)
        note = (
            f"messages switched on: {', '.join(switched_on) or 'none'}; PeakWMS webhooks registered: "
            f"{_listing(done.registered)}; kept: {_listing(done.kept)}; removed: {_listing(done.removed)}. "
            "Switch the same messages on in PeakWMS's settings too (PeakWMS sends only what is switched on there)"
        )
        if done.notes:
            note += ". " + "; ".join(done.notes)
        saved = {"events": wanted, "registered": done.registered, "removed": done.removed, "kept": done.kept}
        return StepChunk(True, len(wanted), len(wanted), saved, note)


class MessageWebhookUpkeep:
    """`integration.WebhookUpkeep`: the scheduled self-check keeps the registrations following `messages.*` — only
    for a connection whose merchant ran step 5 (one that skipped it, or has not reached it, gets none)."""

    def check(self, connection: Connection, clients: Any, secrets: Any, webhook_base_url: str, table: Any) -> list[str]:
        own = PeakwmsShopifyConnection.of(connection)
        progress = setup_progress.load(table, own.id, MESSAGES)
        if progress is None or progress.get("status") != setup_progress.DONE:
            return []
        done = sync_message_webhooks(own, clients.peakwms(own), secrets, webhook_base_url)
        if not done.changed:
            return []
        changed = [f"peakwms:{event}" for event in done.registered] + [f"peakwms:-{event}" for event in done.removed]
        record_repair(
            table,
            own.id,
            SELF_CHECK_TOPIC,
            {"peakwms": {"registered": done.registered, "removed": done.removed}},
            f"PeakWMS webhooks made to follow messages.*: registered {_listing(done.registered)}; removed "
            f"{_listing(done.removed)}",
        )
        return changed


STEP = MessagesStep()
UPKEEP = MessageWebhookUpkeep()
