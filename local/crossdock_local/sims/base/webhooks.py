"""Webhooks as the platforms send them: signed, at least once, in no promised order, retried, then given up on.

`WebhookOutbox` is what every simulator with webhooks shares. A simulator `queue`s one delivery per event and
subscription when its state changes (under its own lock); `deliver` sends what is pending through the sink
*without* holding any lock, because the receiver may call the simulator back — in process, or over HTTP from
another thread under `crossdock serve`. The platform-specific parts come in as callables: the headers of a
delivery (computed at send time, so a rotated secret shows up on retries) and what giving up means (Shopify removes
the subscription after its retries, and what was queued for it goes too: `on_give_up` says so with a `Dropped`).
A platform may subclass `Delivery` and `Attempt` to give their fields its own names; the outbox keeps the classes
(copies of a delivery are made with `dataclasses.replace`, attempts with `attempt_type`).

`DeliveryFaults` makes the at-least-once, unordered delivery visible on purpose: duplicates (a second delivery of
the same event with a new delivery id), reordering, delays, and deliveries lost on the way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Generic

# typing's own TypeVar takes a default from Python 3.13; pydantic already depends on typing_extensions.
from typing_extensions import TypeVar

WebhookSink = Callable[[str, dict[str, str], bytes], int]
"""Delivers one webhook: (url, headers, raw body) → HTTP status. The embedded stack passes a function that calls the
API route in-process; `crossdock serve` passes one that POSTs over HTTP."""


def sign_base64(secret: str, body: bytes) -> str:
    """Base64 of HMAC-SHA256 over the raw body (Shopify's `X-Shopify-Hmac-Sha256`)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def sign_hex(secret: str, body: bytes) -> str:
    """Lower-case hex of HMAC-SHA256 over the raw body (the other common webhook signature)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class DeliveryFaults:
    """`duplicate_rate`: share of events also delivered a second time (new delivery id, same event id).
    `reorder`: shuffle each pending batch before sending it. `delay_rate`: share of deliveries held back for one
    `deliver()` call. `lose_rate`: share of deliveries that vanish before their first attempt."""

    duplicate_rate: float = 0.0
    reorder: bool = False
    delay_rate: float = 0.0
    lose_rate: float = 0.0


@dataclass
class Delivery:
    """One delivery of one event to one subscription; retries keep its id and the original body."""

    delivery_id: str
    event_id: str
    tenant: str  # whose event: a shop domain, an account id
    subscription: str
    topic: str
    url: str
    body: bytes
    duplicate: bool = False
    attempts: int = 0
    hold: int = 0  # deliver() calls to skip before it is sent (delay fault)
    in_flight: bool = False
    facts: dict[str, str] = field(default_factory=dict)  # what the headers need that the body does not carry


@dataclass
class Attempt:
    delivery_id: str
    event_id: str
    tenant: str
    topic: str
    url: str
    attempt: int
    status: int | None
    error: str | None = None


@dataclass
class DeliveryReport:
    """What one `deliver()` call did. `delivered` includes duplicates; `duplicates_sent` counts those alone."""

    delivered: int = 0
    duplicates_sent: int = 0
    failed: int = 0
    retried: int = 0  # attempts in this call that were retries of an earlier failed attempt
    given_up: int = 0  # deliveries whose last allowed attempt failed
    dropped_subscriptions: int = 0  # removed by the platform because of a give-up (what `on_give_up` reported)
    dropped_deliveries: int = 0  # other pending deliveries discarded with them
    delayed: int = 0
    pending: int = 0  # left in the outbox afterwards

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class Dropped:
    """What giving up on a delivery took with it, by the platform's rule: `subscriptions` it removed, and the other
    pending `deliveries` discarded with them (`WebhookOutbox.forget_subscription` counts those)."""

    subscriptions: int = 0
    deliveries: int = 0


# The delivery class a simulator queues; unsaid (an outbox built from lambdas), the base's own.
D = TypeVar("D", bound=Delivery, default=Delivery)


def _no_give_up(delivery: Delivery) -> None:
    return None


class WebhookOutbox(Generic[D]):
    """Pending deliveries of one simulator; see the module docstring.

    `max_attempts`: the first attempt plus the platform's retries; after that many failures the delivery leaves the
    outbox and `on_give_up` is called (without the outbox's lock, so it may take the simulator's and call back in);
    what it returns is added to the report. None keeps retrying for ever (a platform that retries for a day is, for
    a test run, one that never gives up). `seed` seeds the fault stream `rng` (a string too, so a simulator can
    derive one stream per purpose from its own seed); `attempt_type` is the `Attempt` subclass the log holds.
    """

    def __init__(
        self,
        sink: WebhookSink | None,
        headers: Callable[[D], dict[str, str]],
        *,
        max_attempts: int | None = None,
        on_give_up: Callable[[D], Dropped | None] = _no_give_up,
        seed: int | str | None = None,
        attempt_type: type[Attempt] = Attempt,
    ) -> None:
        self.sink = sink
        self.faults = DeliveryFaults()
        self.log: list[Attempt] = []
        self.lost = 0  # deliveries the `lose_rate` fault made vanish (a chaos run reports them)
        # Public so a simulator can keep the name it gave its fault stream; separate from any id stream, so
        # switching a fault on does not change the ids an otherwise identical seeded run hands out.
        self.rng = random.Random(seed)
        self._headers = headers
        # Public: a simulator whose retry count is a guess lets its rules change it between deliver() calls.
        self.max_attempts = max_attempts
        self._on_give_up = on_give_up
        self._attempt_type = attempt_type
        self._pending: list[D] = []
        self._lock = threading.Lock()

    def queue(
        self,
        delivery: D,
        *,
        duplicate: bool = False,
        new_id: Callable[[], str] | None = None,
        faults: bool = True,
    ) -> None:
        """Queue `delivery`, and a second copy when asked or when the duplicate fault rolls. The copy is a delivery
        of its own: `new_id` hands out its id (the platform's own id scheme), else the original's + `#2`.
        `faults=False` queues exactly this delivery, drawing nothing from `rng`: for what the platform sends outside
        its usual path (Shopify's privacy webhooks), whose seeded runs must not shift the fault stream."""
        with self._lock:
            if not faults:
                self._pending.append(delivery)
                return
            copies = 2 if duplicate or self._roll(self.faults.duplicate_rate) else 1
            for number in range(copies):
                copy = delivery
                if number > 0:
                    copy = _copy(delivery, new_id() if new_id is not None else f"{delivery.delivery_id}#2")
                if self._roll(self.faults.lose_rate):
                    self.lost += 1
                    continue
                copy.hold = 1 if self._roll(self.faults.delay_rate) else 0
                self._pending.append(copy)

    def pending(self, tenant: str | None = None) -> list[D]:
        with self._lock:
            return [d for d in self._pending if tenant is None or d.tenant == tenant]

    def lose(self, tenant: str, topics: set[str] | None = None) -> int:
        """Deliveries lost in flight: `tenant`'s pending ones (of `topics`, else all) vanish unsent."""
        with self._lock:
            kept = [d for d in self._pending if d.tenant != tenant or (topics is not None and d.topic not in topics)]
            lost = len(self._pending) - len(kept)
            self._pending = kept
            return lost

    def forget_subscription(self, subscription: str) -> int:
        """Discard the pending deliveries of a removed subscription; returns how many."""
        with self._lock:
            kept = [d for d in self._pending if d.subscription != subscription]
            gone = len(self._pending) - len(kept)
            self._pending = kept
            return gone

    def deliver(self, limit: int | None = None, *, tenant: str | None = None) -> DeliveryReport:
        """Send pending deliveries (of `tenant`, or all) in queue order unless reordered; see the module docstring."""
        if self.sink is None:
            raise RuntimeError("this simulator has no webhook sink to deliver to")
        report = DeliveryReport()
        for delivery in self._take_batch(limit, tenant, report):
            status, error = self._send(self.sink, delivery)
            if self._settle(delivery, status, error, report):
                dropped = self._on_give_up(delivery)
                if dropped is not None:
                    report.dropped_subscriptions += dropped.subscriptions
                    report.dropped_deliveries += dropped.deliveries
        report.pending = len(self.pending(tenant))
        return report

    def _take_batch(self, limit: int | None, tenant: str | None, report: DeliveryReport) -> list[D]:
        with self._lock:
            candidates = [d for d in self._pending if not d.in_flight and (tenant is None or d.tenant == tenant)]
            if self.faults.reorder:
                self.rng.shuffle(candidates)
            batch: list[D] = []
            for delivery in candidates:
                if limit is not None and len(batch) >= limit:
                    break
                if delivery.hold > 0:
                    delivery.hold -= 1
                    report.delayed += 1
                    continue
                delivery.in_flight = True
                batch.append(delivery)
            return batch

    def _send(self, sink: WebhookSink, delivery: D) -> tuple[int | None, str | None]:
        headers = self._headers(delivery)
        try:
            return sink(delivery.url, headers, delivery.body), None
        except Exception as exc:  # noqa: BLE001 - any failure of the receiver counts as a failed delivery
            return None, f"{type(exc).__name__}: {exc}"

    def _settle(self, delivery: D, status: int | None, error: str | None, report: DeliveryReport) -> bool:
        """Record the attempt; True when this was the last allowed attempt and it failed."""
        with self._lock:
            delivery.in_flight = False
            delivery.attempts += 1
            report.retried += int(delivery.attempts > 1)
            self.log.append(
                self._attempt_type(
                    delivery.delivery_id,
                    delivery.event_id,
                    delivery.tenant,
                    delivery.topic,
                    delivery.url,
                    delivery.attempts,
                    status,
                    error,
                )
            )
            if status is not None and 200 <= status < 300:
                self._pending = [d for d in self._pending if d is not delivery]
                report.delivered += 1
                report.duplicates_sent += int(delivery.duplicate)
                return False
            report.failed += 1
            if self.max_attempts is None or delivery.attempts < self.max_attempts:
                return False
            self._pending = [d for d in self._pending if d is not delivery]
            report.given_up += 1
            return True

    def _roll(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate


def _copy(delivery: D, delivery_id: str) -> D:
    # `replace` keeps the platform's subclass; the copy starts afresh (no attempts, not held, not in flight).
    return replace(
        delivery,
        delivery_id=delivery_id,
        duplicate=True,
        attempts=0,
        hold=0,
        in_flight=False,
        facts=dict(delivery.facts),
    )


class OutboxSwitches:
    """A simulator's outbox parts under the names its tests and the control API use: the sink it delivers to and
    the delivery faults (`webhook_*` switches of `/_control/faults`). Mixed into a simulator that holds its
    `WebhookOutbox` as `outbox`."""

    @property
    def outbox(self) -> WebhookOutbox[Any]:
        raise NotImplementedError

    @property
    def webhook_sink(self) -> WebhookSink | None:
        return self.outbox.sink

    @webhook_sink.setter
    def webhook_sink(self, sink: WebhookSink | None) -> None:
        self.outbox.sink = sink

    @property
    def delivery_faults(self) -> DeliveryFaults:
        """Duplicates, reordering, delays and losses on the way (the base's switches; all off unless set)."""
        return self.outbox.faults

    @delivery_faults.setter
    def delivery_faults(self, faults: DeliveryFaults) -> None:
        self.outbox.faults = faults

    def webhook_faults(self) -> DeliveryFaults:
        """The control API's `webhook_*` switches set the outbox's faults."""
        return self.outbox.faults
