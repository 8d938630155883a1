"""The Python side of a simulator's one webhook outbox: what is pending, what was tried, and sending it.

Shared because a simulator whose webhooks (or pushes) all go through one `WebhookOutbox` for every tenant answers
these the same way; a system that filters by tenant (Rackbeat's `pending(account_id)`) or keeps its own delivery
classes (Shopify) keeps its own. `deliver` sends without the simulator's lock: the receiver may call it back.
"""

from __future__ import annotations

from typing import Any

from crossdock_local.sims.base.webhooks import Delivery, DeliveryReport, OutboxSwitches, WebhookOutbox


class SingleOutbox(OutboxSwitches):
    """Mixed into a simulator that keeps its outbox as `_outbox` (also the sink and fault switches, OutboxSwitches)."""

    _outbox: WebhookOutbox[Delivery]

    @property
    def outbox(self) -> WebhookOutbox[Delivery]:
        return self._outbox

    @property
    def delivery_log(self) -> list[Any]:
        """Every delivery attempt, in order: delivery and event id, tenant, topic, URL, status or error."""
        return self.outbox.log

    def pending(self) -> list[Delivery]:
        return self.outbox.pending()

    def deliver(self, limit: int | None = None) -> DeliveryReport:
        """Send the deliveries waiting, without the simulator's lock (the receiver may call the simulator back)."""
        return self.outbox.deliver(limit)
