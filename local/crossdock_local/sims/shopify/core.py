"""What every part of the Shopify simulator shares: the shops, ids, time, the lock, access tokens and the outbox.

The outbox is the shared base's `WebhookOutbox`; what is Shopify's about it (the headers and their HMAC, dropping a
subscription after the retries) comes in through the `signed_headers` and `give_up` hooks, which `webhooks.py` fills.

The parts (orders, catalog, apps, refunds ...) are handed the simulator and use only its public members; the hooks
at the end (`open_catalog`, `before_lookup`, `admit_token`) are filled in by `ShopifySimulator`, which knows them all.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import cast

from crossdock_local.sims.base import (
    Faults,
    SimRequest,
    SimResponse,
    Simulator,
    WebhookSink,
    json_response,
)
from crossdock_local.sims.base.webhooks import Dropped, OutboxSwitches, WebhookOutbox
from crossdock_local.sims.shopify.errors import INVALID_TOKEN
from crossdock_local.sims.shopify.graphql_api import RootResolver
from crossdock_local.sims.shopify.state import (
    CostBucket,
    CustomApp,
    DeliveryAttempt,
    PendingDelivery,
    Shop,
    ShopCatalog,
    Subscription,
    UnknownShop,
)

MAX_DELIVERY_RETRIES = 8  # fact sheet: "Retries: 8 times over 4 hours ... then the subscription is removed"


class ShopCore(OutboxSwitches, Simulator):
    """Many shops in one simulator; an Admin API request's shop is the one owning its access token."""

    system = "shopify"

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        webhook_sink: WebhookSink | None = None,
        api_version: str = "2026-04",
        seed: int | None = None,
        *,
        epoch: datetime | None = None,
        bulk_duration: float = 1.0,
    ) -> None:
        super().__init__(clock)
        self.api_version = api_version
        self.faults = Faults(seed=seed)
        # Separate streams, so switching a fault on does not change the ids an otherwise identical run assigns: the
        # outbox's fault stream ("delivery:"), the webhook ids ("webhook:") and every other id.
        self._outbox: WebhookOutbox[PendingDelivery] = WebhookOutbox(
            webhook_sink,
            self.signed_headers,
            max_attempts=1 + MAX_DELIVERY_RETRIES,
            on_give_up=self.give_up,
            seed=None if seed is None else f"delivery:{seed}",
            attempt_type=DeliveryAttempt,
        )
        self.id_rng = random.Random(seed)
        self.webhook_rng = random.Random(None if seed is None else f"webhook:{seed}")
        self._next_id = 5_600_000_000_000 + self.id_rng.randrange(10**9)
        self.epoch = epoch or datetime.now(UTC)
        self._clock_zero = clock()
        self.shops: dict[str, Shop] = {}
        self.tokens: dict[str, str] = {}
        self.removed_subscriptions: list[Subscription] = []
        # Seconds of simulator clock a bulk operation runs before it completes.
        self.bulk_duration = bulk_duration
        # The simulator's externally visible base URL (e.g. "http://127.0.0.1:3000/_sim/shopify"), set by whoever
        # mounts it; bulk result URLs are built from it ("" → relative paths).
        self.public_url = ""
        # Root field → resolver (shop, field, API version); each resource module registers its own.
        self.resolvers: dict[str, RootResolver] = {}
        self.mutation_counts: dict[str, int] = {}  # root mutation field → times executed (throttled ones excluded)
        self.throttled_answers = 0  # Admin API calls answered THROTTLED
        # App install and tokens (app.py): committed token grants by grant type, and a deterministic switch that
        # commits the next N token grants and then loses their answers.
        self.token_requests: Counter[str] = Counter()
        self.drop_token_responses = 0
        # Merchant-made custom apps (custom_apps.py): by API key, and access token → API key.
        self.custom_apps: dict[str, CustomApp] = {}
        self.custom_app_tokens: dict[str, str] = {}

    # ---- the outbox's parts under the names they had before the outbox was the base's ------------------------------

    @property
    def outbox(self) -> WebhookOutbox[PendingDelivery]:
        return self._outbox

    @property
    def delivery_log(self) -> list[DeliveryAttempt]:
        # The outbox was built with attempt_type=DeliveryAttempt, so every entry is one.
        return cast(list[DeliveryAttempt], self.outbox.log)

    @property
    def delivery_rng(self) -> random.Random:
        return self.outbox.rng

    def now(self) -> datetime:
        """Wall time that advances with the injected clock, so a fake clock also moves timestamps."""
        return self.epoch + timedelta(seconds=self.clock() - self._clock_zero)

    def shop_time(self, shop: Shop) -> str:
        return self.now().astimezone(shop.tz).isoformat(timespec="seconds")

    def new_id(self) -> int:
        # Increasing, gapped, 13-digit ids like Shopify's; one sequence for every resource keeps them all unique.
        self._next_id += self.id_rng.randint(1, 9_999)
        return self._next_id

    def add_shop(
        self,
        domain: str,
        app_secret: str,
        access_token: str,
        *,
        restore_rate: float = 100.0,
        maximum_available: float = 2000.0,
    ) -> Shop:
        with self._lock:
            if domain in self.shops:
                raise ValueError(f"shop {domain} already exists")
            if access_token in self.tokens:
                raise ValueError("access token already belongs to another shop")
            bucket = CostBucket(maximum_available, restore_rate, maximum_available)
            shop = Shop(domain, app_secret, access_token, bucket=bucket)
            shop.catalog = self.open_catalog(shop)  # with its default location
            self.shops[domain] = shop
            self.tokens[access_token] = domain
            return shop

    def shop(self, domain: str) -> Shop:
        try:
            shop = self.shops[domain]
        except KeyError:
            raise UnknownShop(domain) from None
        self.before_lookup(shop)  # bulk operations complete lazily, whenever their shop is looked at
        return shop

    def mutation_count(self, name: str) -> int:
        """How often the Admin API executed the root mutation `name` (e.g. "inventorySetQuantities")."""
        with self._lock:
            return self.mutation_counts.get(name, 0)

    def authenticate(self, request: SimRequest) -> Shop | None:
        token = request.headers.get("x-shopify-access-token", "")
        # Expired and revoked OAuth tokens are refused here, so every Admin API route answers them with 401.
        domain = self.tokens.get(token) if self.admit_token(token) else None
        shop = self.shops.get(domain) if domain else None
        if shop is not None:
            self.before_lookup(shop)
        return shop

    def server_fault(self) -> SimResponse | None:
        if not self.faults.roll(self.faults.server_error_rate):
            return None
        if self.faults.roll(0.5):
            return json_response(502, {"errors": "Bad Gateway"})
        return json_response(503, {"errors": "Service Unavailable"})

    def control_shop(self, request: SimRequest, domain: str) -> tuple[Shop | None, SimResponse | None]:
        shop = self.authenticate(request)
        if shop is None:
            return None, json_response(401, {"errors": INVALID_TOKEN})
        if shop.domain != domain:
            return None, json_response(403, {"errors": "access token does not belong to this shop"})
        return shop, None

    def custom_app_of(self, request: SimRequest) -> CustomApp | None:
        """The custom app whose token made `request` (None: another kind of token)."""
        app_id = self.custom_app_tokens.get(request.headers.get("x-shopify-access-token", ""))
        return self.custom_apps.get(app_id) if app_id is not None else None

    @property
    def lock(self) -> threading.RLock:
        """The simulator's lock, which every part takes around a change (re-entrant)."""
        return self._lock

    # ---- hooks the simulator fills in ------------------------------------------------------------------------------

    def open_catalog(self, shop: Shop) -> ShopCatalog:
        """A new shop's catalog, with its default location."""
        raise NotImplementedError

    def before_lookup(self, shop: Shop) -> None:
        """Called whenever a shop is looked at: bulk operations complete lazily."""

    def before_delivery(self) -> None:
        """Called before the outbox is read: bulk operations that finished meanwhile queue their webhook first."""

    def signed_headers(self, delivery: PendingDelivery) -> dict[str, str]:
        """A delivery's headers, made when it is sent (the outbox calls this without holding the lock)."""
        raise NotImplementedError

    def give_up(self, delivery: PendingDelivery) -> Dropped | None:
        """What the retries running out costs: the outbox calls this without holding the lock."""
        return None

    def admit_token(self, token: str) -> bool:
        """Whether an access token may be used now (OAuth tokens expire and are revoked)."""
        return True
