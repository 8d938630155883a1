"""The lost webhooks of `crossdock chaos-peakwms`, and the time the two sweeps need to bring back what they carried.

A share of the Shopify orders lose every order webhook they were about to get (their `orders/create` and whatever
else of `setup_orders.ORDER_TOPICS` was pending, duplicates too): only `shopify#orders` can bring such an order into
PeakWMS. A share of PeakWMS's pick orders lose their 102 (PickOrderPacked, every copy): only `peakwms#orders` can
fulfil and capture what they packed. Each is judged once, right after the warehouse or the shop made it and before
anything was delivered, with the run's own seeded draw: the shares are of orders and of pick orders, and the run
knows exactly which ones it lost. Losing is the simulators' own: `lose_pending` / `outbox.lose` discard a tenant's
pending deliveries of the topics, and the ones not chosen are queued again as they were (`faults=False`: no new
draw, no new duplicate).

Time passes on the virtual clock between the scenario's steps (`let_time_pass`), so the schedules of the sweeps
(every 10 and 15 minutes) fire as they would; `remove_sweeps` deletes both schedules, the run that shows what the
sweeps are for. `audit_recovered_packs` replaces the demo's tracking check for the orders a lost 102 concerned: the
sweep fulfils what is left without tracking (PeakWMS's sales order carries none, docs/known-limits.md), so such an
order must be fulfilled, show every tracking number of the pick orders whose 102 came, and show no other.
"""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crossdock.integrations.peakwms_shopify import peakwms_order_stream, shopify_order_stream
from crossdock.integrations.peakwms_shopify.setup_orders import ORDER_TOPICS
from crossdock.operations import stack_access
from crossdock_local.scenarios.demo_peakwms import PeakwmsAudit, PeakwmsShop
from crossdock_local.sims.base.webhooks import Delivery, WebhookOutbox
from crossdock_local.stack import LocalStack

PACKED = "102"  # the PeakWMS simulator's topic of a PickOrderPacked delivery
SWEEPS = (shopify_order_stream.STREAM, peakwms_order_stream.STREAM)


@dataclass
class WebhookLosses:
    """What was lost, per side: the orders (and pick orders) chosen, and the webhooks (events) that went with them."""

    shopify_share: float
    peakwms_share: float
    rng: random.Random
    shopify_orders: set[str] = field(default_factory=set)  # Shopify order ids whose order webhooks were lost
    shopify_webhooks: int = 0  # events (a duplicate's copies are one event)
    packs: dict[str, set[str]] = field(default_factory=dict)  # Shopify order id → pick order ids whose 102 was lost
    peakwms_webhooks: int = 0
    _judged_orders: set[str] = field(default_factory=set)
    _judged_packs: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, shopify_share: float, peakwms_share: float, seed: int) -> WebhookLosses:
        return cls(shopify_share, peakwms_share, random.Random(f"webhook losses:{seed}"))

    def after_orders_placed(self, stack: LocalStack, shop: PeakwmsShop) -> None:
        """The shop just took orders: a share of them lose every order webhook pending for them."""
        pending = [d for d in stack.shopify.pending(shop.domain) if d.topic in ORDER_TOPICS]
        chosen, events = self._choose(pending, _order_id, self._judged_orders, self.shopify_share)
        if chosen:
            stack.shopify.lose_pending(shop.domain, set(ORDER_TOPICS))
            _queue_again(stack.shopify.outbox, pending, lambda d: _order_id(d) not in chosen)
        self.shopify_orders |= chosen
        self.shopify_webhooks += events

    def after_packing(self, stack: LocalStack, shop: PeakwmsShop) -> None:
        """The warehouse just packed: a share of the new pick orders lose their 102."""
        pending = [d for d in stack.peakwms.pending() if d.tenant == shop.account and d.topic == PACKED]
        chosen, events = self._choose(pending, _pick_order_id, self._judged_packs, self.peakwms_share)
        if chosen:
            stack.peakwms.outbox.lose(shop.account, {PACKED})
            _queue_again(stack.peakwms.outbox, pending, lambda d: _pick_order_id(d) not in chosen)
        for delivery in pending:
            if _pick_order_id(delivery) in chosen:
                self.packs.setdefault(_order_id(delivery, "orderId"), set()).add(_pick_order_id(delivery))
        self.peakwms_webhooks += events

    def _choose(
        self, pending: list[Any], subject: Callable[[Any], str], judged: set[str], share: float
    ) -> tuple[set[str], int]:
        """The new subjects (orders, pick orders) drawn for losing, and how many events they had pending."""
        new = sorted({subject(d) for d in pending} - judged, key=_numeric)
        judged.update(new)
        chosen = {s for s in new if self.rng.random() < share}
        return chosen, len({d.event_id for d in pending if subject(d) in chosen})

    @property
    def summary(self) -> str:
        return (
            f"{self.shopify_webhooks} Shopify webhooks lost ({len(self.shopify_orders)} orders), "
            f"{self.peakwms_webhooks} PeakWMS webhooks lost ({sum(len(p) for p in self.packs.values())} packs)"
        )


def _queue_again(outbox: WebhookOutbox[Any], deliveries: list[Any], kept: Callable[[Any], bool]) -> None:
    # As they were (attempts, hold): the outbox's `faults=False` draws nothing, so no new duplicate or loss.
    for delivery in deliveries:
        if kept(delivery):
            outbox.queue(delivery, faults=False)


def _body(delivery: Delivery) -> dict[str, Any]:
    found = json.loads(delivery.body)
    return found if isinstance(found, dict) else {}


def _order_id(delivery: Delivery, key: str = "id") -> str:
    return str(_body(delivery).get(key))


def _pick_order_id(delivery: Delivery) -> str:
    return str(_body(delivery).get("pickOrderId"))


def _numeric(text: str) -> tuple[int, str]:
    return (int(text), "") if text.isdigit() else (0, text)


def let_time_pass(stack: LocalStack, minutes: float, step_minutes: float, max_rounds: int = 100_000) -> None:
    """`minutes` of the virtual clock in steps of `step_minutes`, the webhooks sent and the stack worked off after
    each: the schedules due meanwhile (the sweeps) fire as they would."""
    steps = max(1, round(minutes / step_minutes))
    for _ in range(steps):
        stack.aws.clock.advance(step_minutes * 60)
        stack.shopify.deliver(), stack.peakwms.deliver()
        with contextlib.suppress(RuntimeError):  # "did not settle within N rounds": the rest carries over
            stack.aws.drain(max_rounds=max_rounds, execution_timeout=600)


def remove_sweeps(stack: LocalStack, connection_id: str) -> None:
    """Both sweeps' schedules deleted (as uninstall does, the rest of the connection left as it is)."""
    schedules = stack_access.poll_schedules(stack.operator)
    for stream in SWEEPS:
        schedules.stop_stream(connection_id, stream)


def audit_recovered_packs(stack: LocalStack, shop: PeakwmsShop, losses: WebhookLosses, result: PeakwmsAudit) -> int:
    """The demo's packed-order check, for the orders a lost 102 concerned, with the sweep's fulfilment allowed its
    missing tracking: fulfilled, every tracking number of the pick orders whose 102 came shown, no other (a sweep's
    fulfilment shows none, or PeakWMS's late tracking). Answers how many passed; run after `demo_peakwms.audit`,
    whose tracking finding for those orders it replaces."""
    recovered = 0
    for order_id, lost in sorted(losses.packs.items()):
        prefix = f"Shopify order {order_id}: "
        findings = [m for m in result.mismatched if m.startswith(prefix) and ", tracking [" in m]
        if not findings:
            recovered += 1  # the demo's check passed: PeakWMS's tracking is on the sweep's fulfilment
            continue
        for finding in findings:
            result.mismatched.remove(finding)
        picks = stack.peakwms.pick_orders(shop.account, order_id)
        came = {str(p.get("trackingNumber")) for p in picks if str(p["id"]) not in lost}
        wanted = {str(p.get("trackingNumber")) for p in picks}
        shown = stack.shopify.get_order(shop.domain, order_id) or {}
        tracking = [str(f.get("tracking_number")) for f in shown.get("fulfillments") or []]
        numbered = [t for t in tracking if t != "None"]
        fine = shown.get("fulfillment_status") == "fulfilled" and came <= set(numbered) <= wanted
        if fine and len(numbered) == len(set(numbered)):
            result.fulfilled += 1
            recovered += 1
        else:
            result.mismatched.append(
                f"{prefix}{shown.get('fulfillment_status')}, tracking {sorted(tracking)}, PeakWMS {sorted(wanted)}"
                f" (the 102 of pick orders {sorted(lost, key=_numeric)} lost)"
            )
    return recovered
