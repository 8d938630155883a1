"""The Shopify simulator's state: shops, their orders, subscriptions, catalog, apps and the webhook outbox's records.

Dataclasses only, at the bottom of the package: every other module reads and changes them, none of them imports
anything of the simulator's. Orders and products are stored REST-shaped exactly as webhooks carry them (fact sheet
"Order payload (REST shape)"); the GraphQL views are derived from them (`order_views.py`, `catalog_views.py`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any

from crossdock_local.sims.base.webhooks import Attempt, Delivery

DANISH_WINTER_TIME = timezone(timedelta(hours=1))  # fixed offset, so runs never depend on tzdata being installed


class UnknownShop(KeyError):
    """No shop with that domain was added to the simulator."""


class UnknownOrder(KeyError):
    """The shop has no order with that id."""


@dataclass
class CostBucket:
    """The GraphQL leaky bucket of one app+shop ("Rate limits"); floats are fine here, these are points not money."""

    maximum_available: float = 2000.0
    restore_rate: float = 100.0
    currently_available: float = 2000.0
    updated_at: float | None = None

    def refill(self, now: float) -> None:
        if self.updated_at is not None:
            restored = (now - self.updated_at) * self.restore_rate
            self.currently_available = min(self.maximum_available, self.currently_available + restored)
        self.updated_at = now

    def refund(self, points: float) -> None:
        self.currently_available = min(self.maximum_available, self.currently_available + points)

    def status(self) -> dict[str, Any]:
        # Shopify reports maximumAvailable/restoreRate as floats and currentlyAvailable as an integer.
        return {
            "maximumAvailable": float(self.maximum_available),
            "currentlyAvailable": int(self.currently_available),
            "restoreRate": float(self.restore_rate),
        }


@dataclass
class Subscription:
    id: int
    topic: str  # REST form, "orders/create"
    uri: str
    created_at: str
    # The merchant's custom app that registered it (custom_apps.py), whose API secret signs its deliveries; None:
    # the shop's installed (OAuth) app, signed with `Shop.app_secret`. Each app sees only its own subscriptions.
    app: str | None = None

    @property
    def gid(self) -> str:
        return f"gid://shopify/WebhookSubscription/{self.id}"


# ---- catalog ------------------------------------------------------------------------------------------------------


DEFAULT_TITLE = "Default Title"  # the option value of a product without real options


class UnknownProduct(KeyError):
    """The shop has no product with that id."""


class UnknownVariant(KeyError):
    """The product has no variant with that id."""


class UnknownInventoryItem(KeyError):
    """The shop has no inventory item with that id."""


class UnknownLocation(KeyError):
    """The shop has no location with that id."""


@dataclass
class Location:
    id: int
    name: str
    active: bool
    created_at: str  # REST timestamp in the shop's offset

    @property
    def gid(self) -> str:
        return f"gid://shopify/Location/{self.id}"

    def rest(self) -> dict[str, Any]:
        """The REST location, shaped like the fixture `location_0.json` (a Danish shop without an address)."""
        return {
            "id": self.id,
            "name": self.name,
            "address1": None,
            "address2": None,
            "city": None,
            "zip": None,
            "province": None,
            "country": "DK",
            "phone": None,
            "created_at": self.created_at,
            "updated_at": self.created_at,
            "country_code": "DK",
            "country_name": "Denmark",
            "province_code": None,
            "legacy": False,
            "active": self.active,
            "admin_graphql_api_id": self.gid,
            "localized_country_name": "Denmark",
            "localized_province_name": None,
        }


@dataclass
class InventoryItem:
    """1:1 with a variant. SKU, tracking and weight are read from the REST variant, so they never disagree."""

    id: int
    variant: dict[str, Any]
    cost: Decimal | None
    created_at: str
    updated_at: str
    # Customs facts (customs.py): HS code, ISO-2 country and province of origin, per-country HS codes.
    harmonized_system_code: str | None = None
    country_code_of_origin: str | None = None
    province_code_of_origin: str | None = None
    country_harmonized_system_codes: list[dict[str, str]] = field(default_factory=list)

    @property
    def sku(self) -> str | None:
        sku: str | None = self.variant.get("sku")
        return sku

    @property
    def tracked(self) -> bool:
        return self.variant.get("inventory_management") == "shopify"


ON_HAND_PARTS = ("damaged", "quality_control", "reserved", "safety_stock")  # held units, counted in on_hand


@dataclass
class InventoryLevel:
    """Stock of one item at one location. `on_hand` = `available` + `committed` (unfulfilled orders) + the held
    quantities (`damaged`, `quality_control`, `reserved`, `safety_stock`); `incoming` is not on hand."""

    inventory_item_id: int
    location_id: int
    available: int
    committed: int
    updated_at: str
    held: dict[str, int] = field(default_factory=dict)  # the other quantity names (inventory_adjust.py), 0 if absent

    @property
    def on_hand(self) -> int:
        return self.available + self.committed + sum(self.held.get(name, 0) for name in ON_HAND_PARTS)

    @property
    def not_available(self) -> int:
        """The part of on_hand that is not available: what setting on_hand leaves as it is."""
        return self.on_hand - self.available

    @property
    def gid(self) -> str:
        return f"gid://shopify/InventoryLevel/{self.location_id}?inventory_item_id={self.inventory_item_id}"

    def quantity(self, name: str) -> int:
        if name in ("available", "on_hand", "committed"):
            return {"available": self.available, "on_hand": self.on_hand, "committed": self.committed}[name]
        return self.held.get(name, 0)

    def rest(self) -> dict[str, Any]:
        """The `inventory_levels/update` payload (fixture `inventory_level_0.json`)."""
        return {
            "inventory_item_id": self.inventory_item_id,
            "location_id": self.location_id,
            "available": self.available,
            "updated_at": self.updated_at,
            "admin_graphql_api_id": self.gid,
        }


@dataclass
class BulkOperation:
    id: int
    query: str
    fields: list[Any]  # the parsed, validated inner query (graphql_api.GqlField, which state does not import)
    created_clock: float
    duration: float
    created_at: datetime
    status: str = "CREATED"
    error_code: str | None = None
    completed_at: datetime | None = None
    object_count: int = 0
    root_object_count: int = 0
    file_size: int | None = None
    url: str | None = None

    @property
    def gid(self) -> str:
        return f"gid://shopify/BulkOperation/{self.id}"


@dataclass
class BulkFile:
    body: bytes
    expires: float  # simulator clock


@dataclass
class Replay:
    """What an idempotency key answered the first time, and the input it answered."""

    fingerprint: str
    result: Any
    expires: float


# The shop's sales channels, each with its publication: a product shows in a channel only when it is published to
# that channel's publication (`publishablePublish`). Every simulated shop has these two, with the same ids (Shopify's
# differ per shop: Crossdock looks the Online Store up by name, never by id).
ONLINE_STORE = "Online Store"
PUBLICATIONS: dict[int, str] = {29_600_000_001: ONLINE_STORE, 29_600_000_002: "Point of Sale"}
ONLINE_STORE_PUBLICATION = next(pid for pid, name in PUBLICATIONS.items() if name == ONLINE_STORE)


@dataclass
class ShopCatalog:
    locations: dict[int, Location] = field(default_factory=dict)  # in creation order; the first is primary
    products: dict[int, dict[str, Any]] = field(default_factory=dict)  # REST-shaped, as webhooks carry them
    variants: dict[int, dict[str, Any]] = field(default_factory=dict)  # the same dicts as in product["variants"]
    items: dict[int, InventoryItem] = field(default_factory=dict)
    levels: dict[int, dict[int, InventoryLevel]] = field(default_factory=dict)  # item id → location id → level
    handles: dict[str, int] = field(default_factory=dict)
    # Product id → the publications it is published on. A product made in the admin is on every channel; one made
    # through the API (`productSet`) on none until it is published. The Online Store's also sets `published_at`.
    published: dict[int, set[int]] = field(default_factory=dict)
    bulk_operations: list[BulkOperation] = field(default_factory=list)
    idempotency: dict[str, Replay] = field(default_factory=dict)
    # Casefolded SKU → item ids, rebuilt after any SKU change: stock sync searches 250 SKUs at a time in 30,000.
    sku_index: dict[str, list[int]] | None = None

    @property
    def primary_location(self) -> Location:
        return next(iter(self.locations.values()))

    def publications_of(self, product: dict[str, Any]) -> set[int]:
        """The publications `product` is published on (kept from the first change of them on)."""
        kept = self.published.get(int(product["id"]))
        if kept is not None:
            return kept
        # Made in the admin or seeded: on every channel, on the Online Store only while it has a publish date.
        return {pid for pid in PUBLICATIONS if pid != ONLINE_STORE_PUBLICATION or product.get("published_at")}


# ---- fulfillment orders ---------------------------------------------------------------------------------------------


@dataclass
class FulfillmentOrderRecord:
    """An order's fulfillment order: its ids and location. How much of each line is left is the order line's own
    `fulfillable_quantity`, so refunds, cancellations and fulfilments all move one number."""

    id: int
    order_id: int
    location_id: int
    line_ids: dict[int, int]  # order line item id → fulfillment order line item id
    created_at: str
    hold: dict[str, Any] | None = None  # the merchant's hold (id, reason, reason_notes): ON_HOLD while set

    @property
    def gid(self) -> str:
        return f"gid://shopify/FulfillmentOrder/{self.id}"


# ---- payments -----------------------------------------------------------------------------------------------------


@dataclass
class PaymentTransaction:
    """One money movement of an order (payments.py): an AUTHORIZATION, a CAPTURE of one, a SALE. Amounts are in the
    order's presentment currency, `shop_amount` in the shop's; refunds stay on their REST refund."""

    id: int
    order_id: int
    kind: str  # GraphQL OrderTransactionKind: AUTHORIZATION, CAPTURE, SALE, VOID
    status: str  # GraphQL OrderTransactionStatus: SUCCESS, FAILURE ...
    gateway: str
    amount: Decimal
    currency: str
    shop_amount: Decimal
    created_at: str  # REST timestamp in the shop's offset
    parent_id: int | None = None
    multi_capturable: bool = False  # an authorisation that takes several captures (Shopify Plus + Shopify Payments)
    expires_at: datetime | None = None  # an authorisation's end (Shopify Payments only)
    voided: bool = False  # an authorisation whose uncaptured rest was released (a final capture)

    @property
    def gid(self) -> str:
        return f"gid://shopify/OrderTransaction/{self.id}"


# ---- shops ----------------------------------------------------------------------------------------------------------


@dataclass
class Shop:
    domain: str
    app_secret: str  # mutable: set a new one to simulate secret rotation
    access_token: str
    bucket: CostBucket = field(default_factory=CostBucket)
    tz: tzinfo = DANISH_WINTER_TIME
    currency: str = "DKK"
    subscriptions: list[Subscription] = field(default_factory=list)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    customer_ids: dict[str, int] = field(default_factory=dict)  # email → id, so returning customers keep their id
    # By order id, one per assigned location (fulfillments.py).
    fulfillment_orders: dict[int, list[FulfillmentOrderRecord]] = field(default_factory=dict)
    transactions: dict[int, list[PaymentTransaction]] = field(default_factory=dict)  # by order id (payments.py)
    next_order_number: int = 1001
    # The app installed through OAuth (app.py); kept after uninstall, as shop/redact still goes to that app.
    app_client_id: str | None = None
    uninstalled_at: str | None = None  # shop time of the last uninstall; None while installed
    app_scopes: str | None = None  # what the merchant granted the installed app (comma-separated); None: not asked
    name: str = ""  # the shop's name as the merchant set it ("" → derived from the domain: `shop_name`)
    # Locations, products, stock and bulk operations; set by add_shop (the catalog module owns the type).
    catalog: ShopCatalog = field(init=False, repr=False)


# ---- apps -----------------------------------------------------------------------------------------------------------


@dataclass
class App:
    """The app as configured in the Partner dashboard."""

    client_id: str
    client_secret: str
    scopes: str  # granted by default when the authorize URL asks for none
    expiring_tokens: bool
    token_lifetime: float
    compliance_uri: str | None
    redirect_uris: list[str] | None  # None: any callback URL is allowed


@dataclass
class AuthorizationCode:
    code: str
    domain: str
    client_id: str
    scope: str
    expires_at: float
    online: bool  # `grant_options[]=per-user` asked for an online token
    used: bool = False


@dataclass
class RefreshToken:
    token: str
    domain: str
    client_id: str
    scope: str
    expires_at: float
    predecessor: str | None = None  # the refresh token this one replaces, retired once this one is in use
    first_used_at: float | None = None
    replacements: list[str] = field(default_factory=list)  # refresh tokens issued by using this one
    revoked: bool = False


@dataclass
class AccessToken:
    token: str
    domain: str
    client_id: str
    expires_at: float | None  # None: a non-expiring offline token
    refresh_token: str | None  # issued together with this one; using this token puts that one in use
    revoked: bool = False


@dataclass
class CustomApp:
    """An app the merchant made in the shop's admin (Settings → Apps → Develop apps): one Admin API token with exactly
    the scopes ticked, and an API secret key that signs the webhooks the app registers."""

    id: str  # the app's API key (public)
    domain: str
    access_token: str
    api_secret: str
    scopes: tuple[str, ...]  # as granted, in the order given
    revoked: bool = False


def shop_name(shop: Shop) -> str:
    """The shop's name: what was set, else the domain's first label ("acme-dk.myshopify.com" → "acme-dk")."""
    return shop.name or shop.domain.split(".", 1)[0]


# ---- webhook deliveries ---------------------------------------------------------------------------------------------
# The outbox is the shared base's (`sims.base.webhooks`); these give its records Shopify's names.


class PendingDelivery(Delivery):
    """One delivery of one event to one subscription; retries keep the webhook id and the original payload.

    The base `Delivery` with Shopify's names: the webhook id is its delivery id, the shop its tenant, the
    subscription's numeric id its subscription (privacy webhooks have none: each gets a negative id of its own), and
    the API version and trigger time, which only the headers carry, its facts."""

    @property
    def webhook_id(self) -> str:
        return self.delivery_id

    @property
    def domain(self) -> str:
        return self.tenant

    @property
    def subscription_id(self) -> int:
        return int(self.subscription)

    @property
    def api_version(self) -> str:
        return self.facts["api_version"]

    @property
    def triggered_at(self) -> str:
        return self.facts["triggered_at"]


class DeliveryAttempt(Attempt):
    """One attempt of the delivery log, with Shopify's names for the base's fields."""

    @property
    def webhook_id(self) -> str:
        return self.delivery_id

    @property
    def domain(self) -> str:
        return self.tenant


@dataclass
class DeliveryReport:
    """What one `deliver()` call did. `delivered` includes duplicates; `duplicates_sent` counts those alone."""

    delivered: int = 0
    duplicates_sent: int = 0
    failed: int = 0
    retried: int = 0  # attempts in this call that were retries of an earlier failed attempt
    dropped_subscriptions: int = 0
    dropped_deliveries: int = 0  # pending deliveries discarded with a dropped subscription
    delayed: int = 0
    pending: int = 0  # left in the outbox afterwards

    def as_dict(self) -> dict[str, int]:
        return asdict(self)
