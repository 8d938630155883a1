"""In-memory Shopify: Admin GraphQL API (orders, catalog, stock, webhook subscriptions, bulk export), cost throttling
and webhook delivery.

Follows the fact sheet `../shared/reference/shopify.md`:

- "Versions and API style": one GraphQL endpoint per version, `POST /admin/api/{version}/graphql.json`, the shop
  is identified by `X-Shopify-Access-Token`; webhook payloads stay REST-shaped (snake_case, numeric ids plus
  `admin_graphql_api_id`).
- "Rate limits": a cost-based leaky bucket per shop (2000 points, 100 points/s), `extensions.cost` on every
  response, `errors[0].extensions.code == "THROTTLED"` with HTTP 200 when the bucket lacks the cost.
- "Webhooks (HTTPS delivery)": the listed headers, base64 HMAC-SHA256 over the raw body with the app secret,
  8 retries with the original payload and then removal of the subscription; at-least-once and unordered delivery,
  which the `DeliveryFaults` switches make visible on purpose.
- "Order payload (REST shape)": orders are stored REST-shaped exactly as webhooks carry them; the GraphQL `Order`
  is derived from the stored REST order.
- "Mutations Crossdock needs" and "Rate limits" (bulk operations): the catalog (locations, products, variants,
  inventory items and levels), `productSet`/`productUpdate`/`productVariantsBulkUpdate`/`inventoryItemUpdate`,
  `inventorySetQuantities` with the 2026-04 rules (`changeFromQuantity`, mandatory `@idempotent`) and
  `bulkOperationRunQuery` with its JSONL result live in `shopify_catalog.py`; this module only registers them.

GraphQL runs on graphql-core against the SDL schema `shopify_schema.graphql` (the Admin API subset Crossdock uses,
with Shopify's names); `shopify_graphql.py` shapes its errors as Shopify's and `shopify_cost.py` charges the cost.
This module answers the root fields `order`, `webhookSubscriptions` and `webhookSubscriptionCreate`; the catalog's
and the orders search's modules register theirs in `resolvers`.

Not part of Shopify: the `/_control/...` endpoints, which let an operator create orders and products and flush
webhooks when the simulator runs under `crossdock serve`. They authenticate with the shop's access token like the
Admin API. `GET /_bulk/<token>.jsonl` stands in for the storage bucket that serves bulk results (no token, like
Shopify's signed URLs).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import random
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from graphql import OperationDefinitionNode
from graphql.execution.values import VariableValues

from crossdock_local.sims.base import (
    Faults,
    ResponseDropped,
    SimRequest,
    SimResponse,
    Simulator,
    WebhookSink,
    json_response,
)
from crossdock_local.sims.shopify_cost import MAX_SINGLE_QUERY_COST, actual_cost, requested_cost
from crossdock_local.sims.shopify_errors import ApiError
from crossdock_local.sims.shopify_graphql import (
    Document,
    Refused,
    Request,
    RootResolver,
    coerce_variables,
    prepare,
    run,
)
from crossdock_local.sims.shopify_paging import connection_page, first_or_last

if TYPE_CHECKING:
    from crossdock_local.sims.shopify_catalog import ShopCatalog

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
MAX_DELIVERY_RETRIES = 8  # fact sheet: "Retries: 8 times over 4 hours ... then the subscription is removed"
DANISH_WINTER_TIME = timezone(timedelta(hours=1))  # fixed offset, so runs never depend on tzdata being installed

# Webhook topics of the fact sheet, GraphQL enum → REST topic. An explicit table because the split between
# resource and action is ambiguous (INVENTORY_LEVELS_UPDATE → inventory_levels/update).
TOPICS: dict[str, str] = {
    "ORDERS_CREATE": "orders/create",
    "ORDERS_PAID": "orders/paid",
    "ORDERS_FULFILLED": "orders/fulfilled",
    "ORDERS_UPDATED": "orders/updated",
    "ORDERS_CANCELLED": "orders/cancelled",
    "REFUNDS_CREATE": "refunds/create",
    "PRODUCTS_CREATE": "products/create",
    "PRODUCTS_UPDATE": "products/update",
    "PRODUCTS_DELETE": "products/delete",
    "INVENTORY_LEVELS_UPDATE": "inventory_levels/update",
    "APP_UNINSTALLED": "app/uninstalled",
    "BULK_OPERATIONS_FINISH": "bulk_operations/finish",
    "CUSTOMERS_DATA_REQUEST": "customers/data_request",
    "CUSTOMERS_REDACT": "customers/redact",
    "SHOP_REDACT": "shop/redact",
}
TOPIC_ENUMS: dict[str, str] = {rest: enum for enum, rest in TOPICS.items()}


# --------------------------------------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------------------------------------


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

    @property
    def gid(self) -> str:
        return f"gid://shopify/WebhookSubscription/{self.id}"


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
    next_order_number: int = 1001
    # The app installed through OAuth (shopify_app.py); kept after uninstall, as shop/redact still goes to that app.
    app_client_id: str | None = None
    uninstalled_at: str | None = None  # shop time of the last uninstall; None while installed
    # Locations, products, stock and bulk operations; set by add_shop (the catalog module owns the type).
    catalog: ShopCatalog = field(init=False, repr=False)


@dataclass
class DeliveryFaults:
    """Switches that make Shopify's at-least-once, unordered delivery visible ("Webhooks (HTTPS delivery)").

    `duplicate_rate`: share of events also delivered a second time as a separate delivery (new webhook id, same
    event id). `reorder`: shuffle each pending batch before delivering it. `delay_rate`: share of deliveries held
    back for one `deliver()` call.
    """

    duplicate_rate: float = 0.0
    reorder: bool = False
    delay_rate: float = 0.0


@dataclass
class PendingDelivery:
    """One delivery of one event to one subscription; retries keep the webhook id and the original payload."""

    webhook_id: str
    event_id: str
    domain: str
    subscription_id: int
    topic: str
    url: str
    body: bytes
    api_version: str
    triggered_at: str
    duplicate: bool = False
    attempts: int = 0
    hold: int = 0  # deliver() calls to skip before it is sent (delay fault)
    in_flight: bool = False


@dataclass
class DeliveryAttempt:
    webhook_id: str
    event_id: str
    domain: str
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
    dropped_subscriptions: int = 0
    dropped_deliveries: int = 0  # pending deliveries discarded with a dropped subscription
    delayed: int = 0
    pending: int = 0  # left in the outbox afterwards

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


# --------------------------------------------------------------------------------------------------------------------
# Connections (paged by offset)
# --------------------------------------------------------------------------------------------------------------------


def connection(items: list[dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A lazily paged connection with `nodes`, `edges {cursor node}` and `pageInfo`; cursors are opaque offsets."""

    def resolve(args: dict[str, Any]) -> dict[str, Any]:
        start = _decode_cursor(args.get("after")) + 1 if args.get("after") else 0
        end = len(items)
        if args.get("before"):
            end = min(end, _decode_cursor(args["before"]))
        window = first_or_last(list(enumerate(items))[start:end], args)
        edges = [{"cursor": _encode_cursor(index), "node": node} for index, node in window]
        return connection_page(
            edges,
            has_next_page=bool(window) and window[-1][0] < len(items) - 1,
            has_previous_page=bool(window) and window[0][0] > 0,
        )

    return resolve


def _encode_cursor(index: int) -> str:
    return base64.b64encode(json.dumps({"last_index": index}).encode()).decode()


def _decode_cursor(cursor: Any) -> int:
    try:
        return int(json.loads(base64.b64decode(str(cursor)))["last_index"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ApiError(f"Invalid cursor '{cursor}'", "argumentLiteralsIncompatible") from exc


# --------------------------------------------------------------------------------------------------------------------
# REST order → GraphQL Order
# --------------------------------------------------------------------------------------------------------------------


def _dec(value: Any) -> Decimal:
    if value is None or value == "":
        return Decimal("0")
    return Decimal(str(value))


def gql_decimal(value: Any) -> str:
    """Shopify's GraphQL `Decimal` drops trailing zeros but keeps one decimal: "149.00" → "149.0", "12.50" → "12.5".

    Clients must parse amounts as decimals rather than expect REST's two-decimal strings.
    """
    text = format(_dec(value).normalize(), "f")
    return text if "." in text else f"{text}.0"


def gql_datetime(value: Any) -> str | None:
    """REST timestamps carry the shop's offset; GraphQL `DateTime` is UTC with a `Z`."""
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def gid(kind: str, legacy_id: Any) -> str:
    return f"gid://shopify/{kind}/{legacy_id}"


def _bag_of(amount: Any, currencies: tuple[str, str]) -> dict[str, Any]:
    shop_currency, presentment_currency = currencies
    return {
        "shopMoney": {"amount": gql_decimal(amount), "currencyCode": shop_currency},
        "presentmentMoney": {"amount": gql_decimal(amount), "currencyCode": presentment_currency},
    }


def _bag(rest: dict[str, Any], key: str, currencies: tuple[str, str]) -> dict[str, Any]:
    """A MoneyBag from REST's `<key>_set` when present (it has both currencies), else from the `<key>` amount."""
    money_set = rest.get(f"{key}_set")
    if isinstance(money_set, dict) and isinstance(money_set.get("shop_money"), dict):
        shop = money_set["shop_money"]
        presentment = money_set.get("presentment_money") or shop
        return {
            "shopMoney": {"amount": gql_decimal(shop.get("amount")), "currencyCode": shop.get("currency_code")},
            "presentmentMoney": {
                "amount": gql_decimal(presentment.get("amount")),
                "currencyCode": presentment.get("currency_code"),
            },
        }
    return _bag_of(rest.get(key), currencies)


def _gql_tax_line(tax: dict[str, Any], currencies: tuple[str, str]) -> dict[str, Any]:
    rate = tax.get("rate")
    return {
        "title": tax.get("title"),
        "rate": rate,
        "ratePercentage": None if rate is None else float(_dec(rate) * 100),
        "channelLiable": tax.get("channel_liable"),
        "priceSet": _bag(tax, "price", currencies),
    }


# REST `discount_applications[].type` → the GraphQL type implementing the DiscountApplication interface.
_DISCOUNT_APPLICATION_TYPES = {
    "discount_code": "DiscountCodeApplication",
    "manual": "ManualDiscountApplication",
    "automatic": "AutomaticDiscountApplication",
    "script": "ScriptDiscountApplication",
}


def _gql_allocations(
    allocations: list[dict[str, Any]], applications: list[dict[str, Any]], currencies: tuple[str, str]
) -> list[dict[str, Any]]:
    result = []
    for allocation in allocations:
        index = allocation.get("discount_application_index")
        application = applications[index] if isinstance(index, int) and index < len(applications) else {}
        result.append(
            {
                "allocatedAmountSet": _bag(allocation, "amount", currencies),
                "discountApplication": {
                    "__typename": _DISCOUNT_APPLICATION_TYPES.get(
                        str(application.get("type")), "DiscountCodeApplication"
                    ),
                    "index": index if isinstance(index, int) else 0,
                    # Guess: REST leaves these out on some applications; Shopify's defaults fill in.
                    "allocationMethod": str(application.get("allocation_method") or "across").upper(),
                    "targetSelection": str(application.get("target_selection") or "all").upper(),
                    "targetType": str(application.get("target_type") or "line_item").upper(),
                },
            }
        )
    return result


def _gql_line_item(
    item: dict[str, Any], applications: list[dict[str, Any]], currencies: tuple[str, str]
) -> dict[str, Any]:
    quantity = int(item.get("quantity") or 0)
    original_total = _dec(item.get("price")) * quantity
    allocations = item.get("discount_allocations") or []
    # REST's line `total_discount` is often "0.00" while the allocations hold the discount; GraphQL sums them.
    discount = sum((_dec(a.get("amount")) for a in allocations), Decimal("0"))
    variant_id, product_id = item.get("variant_id"), item.get("product_id")
    return {
        "id": item.get("admin_graphql_api_id") or gid("LineItem", item.get("id")),
        "sku": item.get("sku"),
        "title": item.get("title"),
        "name": item.get("name") or item.get("title"),
        "variantTitle": item.get("variant_title"),
        "vendor": item.get("vendor"),
        "quantity": quantity,
        "currentQuantity": item.get("current_quantity", quantity),
        "requiresShipping": item.get("requires_shipping", True),
        "taxable": item.get("taxable", True),
        "isGiftCard": bool(item.get("gift_card")),
        "originalUnitPriceSet": _bag(item, "price", currencies),
        "originalTotalSet": _bag_of(original_total, currencies),
        "discountedTotalSet": _bag_of(original_total - discount, currencies),
        "totalDiscountSet": _bag_of(discount, currencies),
        "discountAllocations": _gql_allocations(allocations, applications, currencies),
        "taxLines": [_gql_tax_line(tax, currencies) for tax in item.get("tax_lines") or []],
        "variant": None
        if variant_id is None
        else {
            "id": gid("ProductVariant", variant_id),
            "legacyResourceId": str(variant_id),
            "sku": item.get("sku"),
            "title": item.get("variant_title"),
        },
        "product": None
        if product_id is None
        else {"id": gid("Product", product_id), "legacyResourceId": str(product_id), "title": item.get("title")},
    }


def _gql_shipping_line(
    line: dict[str, Any], applications: list[dict[str, Any]], currencies: tuple[str, str]
) -> dict[str, Any]:
    discounted_key = "discounted_price" if line.get("discounted_price") is not None else "price"
    return {
        "id": gid("ShippingLine", line.get("id")),
        "title": line.get("title"),
        "code": line.get("code"),
        "source": line.get("source"),
        "carrierIdentifier": line.get("carrier_identifier"),
        "originalPriceSet": _bag(line, "price", currencies),
        "discountedPriceSet": _bag(line, discounted_key, currencies),
        "taxLines": [_gql_tax_line(tax, currencies) for tax in line.get("tax_lines") or []],
        "discountAllocations": _gql_allocations(line.get("discount_allocations") or [], applications, currencies),
    }


def _gql_address(address: dict[str, Any] | None) -> dict[str, Any] | None:
    if not address:
        return None
    return {
        "firstName": address.get("first_name"),
        "lastName": address.get("last_name"),
        "name": address.get("name"),
        "company": address.get("company"),
        "address1": address.get("address1"),
        "address2": address.get("address2"),
        "city": address.get("city"),
        "zip": address.get("zip"),
        "province": address.get("province"),
        "provinceCode": address.get("province_code"),
        "country": address.get("country"),
        "countryCodeV2": address.get("country_code"),
        "phone": address.get("phone"),
        "latitude": address.get("latitude"),
        "longitude": address.get("longitude"),
    }


def _gql_customer(customer: dict[str, Any] | None) -> dict[str, Any] | None:
    if not customer:
        return None
    first, last = customer.get("first_name"), customer.get("last_name")
    return {
        "id": customer.get("admin_graphql_api_id") or gid("Customer", customer.get("id")),
        "legacyResourceId": str(customer.get("id")),
        "email": customer.get("email"),
        "phone": customer.get("phone"),
        "firstName": first,
        "lastName": last,
        "displayName": " ".join(part for part in (first, last) if part) or customer.get("email"),
    }


_FULFILLMENT_DISPLAY = {None: "UNFULFILLED", "partial": "PARTIALLY_FULFILLED", "fulfilled": "FULFILLED"}


def _shipping_total(order: dict[str, Any]) -> Any:
    if isinstance(order.get("total_shipping_price_set"), dict):
        return order["total_shipping_price_set"]["shop_money"]["amount"]
    return sum((_dec(line.get("price")) for line in order.get("shipping_lines") or []), Decimal("0"))


def gql_order(order: dict[str, Any]) -> dict[str, Any]:
    """The GraphQL Admin `Order` derived from a stored REST order (connections stay lazy)."""
    currencies = (order.get("currency") or "DKK", order.get("presentment_currency") or order.get("currency") or "DKK")
    applications = order.get("discount_applications") or []
    codes = [code.get("code") for code in order.get("discount_codes") or []]
    fulfillment = order.get("fulfillment_status")
    return {
        "id": order.get("admin_graphql_api_id") or gid("Order", order.get("id")),
        "legacyResourceId": str(order.get("id")),
        "name": order.get("name"),
        "number": order.get("order_number"),
        "email": order.get("email"),
        "phone": order.get("phone"),
        "note": order.get("note"),
        "tags": [tag.strip() for tag in str(order.get("tags") or "").split(",") if tag.strip()],
        "test": bool(order.get("test")),
        "sourceName": order.get("source_name"),
        "confirmed": order.get("confirmed", True),
        "closed": order.get("closed_at") is not None,
        "closedAt": gql_datetime(order.get("closed_at")),
        "cancelledAt": gql_datetime(order.get("cancelled_at")),
        "cancelReason": str(order["cancel_reason"]).upper() if order.get("cancel_reason") else None,
        "createdAt": gql_datetime(order.get("created_at")),
        "updatedAt": gql_datetime(order.get("updated_at")),
        "processedAt": gql_datetime(order.get("processed_at")),
        "displayFinancialStatus": str(order.get("financial_status") or "pending").upper(),
        "displayFulfillmentStatus": _FULFILLMENT_DISPLAY.get(fulfillment, str(fulfillment).upper()),
        "fullyPaid": order.get("financial_status") == "paid",
        "taxesIncluded": bool(order.get("taxes_included")),
        "currencyCode": currencies[0],
        "presentmentCurrencyCode": currencies[1],
        "discountCode": codes[0] if codes else None,
        "discountCodes": codes,
        "totalPriceSet": _bag(order, "total_price", currencies),
        "subtotalPriceSet": _bag(order, "subtotal_price", currencies),
        "totalTaxSet": _bag(order, "total_tax", currencies),
        "totalDiscountsSet": _bag(order, "total_discounts", currencies),
        "totalShippingPriceSet": _bag_of(_shipping_total(order), currencies),
        "currentTotalPriceSet": _bag(order, "current_total_price", currencies)
        if "current_total_price" in order
        else _bag(order, "total_price", currencies),
        "currentSubtotalPriceSet": _bag(order, "current_subtotal_price", currencies)
        if "current_subtotal_price" in order
        else _bag(order, "subtotal_price", currencies),
        "currentTotalTaxSet": _bag(order, "current_total_tax", currencies)
        if "current_total_tax" in order
        else _bag(order, "total_tax", currencies),
        "currentTotalDiscountsSet": _bag(order, "current_total_discounts", currencies)
        if "current_total_discounts" in order
        else _bag(order, "total_discounts", currencies),
        "totalOutstandingSet": _bag_of(order.get("total_outstanding", order.get("total_price")), currencies),
        "customer": _gql_customer(order.get("customer")),
        "shippingAddress": _gql_address(order.get("shipping_address")),
        "billingAddress": _gql_address(order.get("billing_address")),
        "taxLines": [_gql_tax_line(tax, currencies) for tax in order.get("tax_lines") or []],
        "lineItems": connection(
            [_gql_line_item(item, applications, currencies) for item in order.get("line_items") or []]
        ),
        "shippingLines": connection(
            [_gql_shipping_line(line, applications, currencies) for line in order.get("shipping_lines") or []]
        ),
        "refunds": _order_search.order_refunds(order),
    }


def _gql_subscription(subscription: Subscription) -> dict[str, Any]:
    return {
        "id": subscription.gid,
        "legacyResourceId": str(subscription.id),
        "topic": TOPIC_ENUMS.get(subscription.topic, subscription.topic.upper().replace("/", "_")),
        "uri": subscription.uri,
        "callbackUrl": subscription.uri,  # deprecated alias of uri, still answered
        "format": "JSON",
        "createdAt": gql_datetime(subscription.created_at),
        "updatedAt": gql_datetime(subscription.created_at),
        "includeFields": [],
        "filter": None,
    }


# --------------------------------------------------------------------------------------------------------------------
# The simulator
# --------------------------------------------------------------------------------------------------------------------


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _compact_json(payload: Any) -> bytes:
    # Shopify sends compact UTF-8 JSON (no ASCII escaping), so "ø" is two raw bytes the HMAC must cover.
    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value)
        raise TypeError(f"not JSON serialisable: {type(value).__name__}")

    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=default).encode()


def sign(secret: str, body: bytes) -> str:
    """`X-Shopify-Hmac-Sha256`: base64 of HMAC-SHA256 over the raw body bytes with the app's client secret."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _normalise_topic(topic: str) -> str:
    if topic in TOPICS:
        return TOPICS[topic]
    if topic in TOPIC_ENUMS:
        return topic
    raise ValueError(f"unknown webhook topic {topic!r}")


def _valid_callback(uri: str) -> bool:
    # Shopify wants https; plain http is let through for loopback so `crossdock serve` can receive deliveries.
    return bool(re.match(r"^https://[^/\s]+", uri) or re.match(r"^http://(127\.0\.0\.1|localhost)(:\d+)?(/|$)", uri))


def _flag(request: SimRequest, name: str) -> bool:
    return (request.arg(name, "") or "").lower() in ("1", "true", "yes")


Resolver = RootResolver


def _by_args(resolve: Callable[[Shop, dict[str, Any]], Any]) -> Resolver:
    return lambda shop, f, _version: resolve(shop, f.args)


class ShopifySimulator(Simulator):
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
        self.webhook_sink = webhook_sink
        self.api_version = api_version
        self.faults = Faults(seed=seed)
        self.delivery_faults = DeliveryFaults()
        # Separate streams, so switching a fault on does not change the ids an otherwise identical run assigns.
        self._id_rng = random.Random(seed)
        self._delivery_rng = random.Random(None if seed is None else f"delivery:{seed}")
        self._webhook_rng = random.Random(None if seed is None else f"webhook:{seed}")
        self._next_id = 5_600_000_000_000 + self._id_rng.randrange(10**9)
        self._epoch = epoch or datetime.now(UTC)
        self._clock_zero = clock()
        self.shops: dict[str, Shop] = {}
        self._tokens: dict[str, str] = {}
        self.outbox: list[PendingDelivery] = []
        self.delivery_log: list[DeliveryAttempt] = []
        self.removed_subscriptions: list[Subscription] = []
        # Seconds of simulator clock a bulk operation runs before it completes.
        self.bulk_duration = bulk_duration
        # The simulator's externally visible base URL (e.g. "http://127.0.0.1:3000/_sim/shopify"), set by whoever
        # mounts it; bulk result URLs are built from it ("" → relative paths).
        self.public_url = ""
        # Root field → resolver; the catalog adds its own, so new root fields need no change here.
        self.resolvers: dict[str, Resolver] = {
            "order": _by_args(self._resolve_order),
            "webhookSubscriptions": _by_args(self._resolve_subscriptions),
            "webhookSubscriptionCreate": _by_args(self._resolve_subscription_create),
        }
        self.mutation_counts: dict[str, int] = {}  # root mutation field → times executed (throttled ones excluded)
        self.throttled_answers = 0  # Admin API calls answered THROTTLED
        self.catalog = _catalog.Catalog(self)
        # App install and tokens (shopify_app.py): committed token grants by grant type, and a deterministic switch
        # that commits the next N token grants and then loses their answers.
        self.token_requests: Counter[str] = Counter()
        self.drop_token_responses = 0
        self.apps = _app.AppInstalls(self, seed)
        self.refunds = _refunds.Refunds(self)
        self.order_search = _order_search.OrderSearch(self)
        self._routes()

    def _routes(self) -> None:
        self.router.add("POST", "/admin/api/{version}/graphql.json", self._graphql)
        self.router.add("POST", "/_control/shops/{domain}/orders", self._control_create)
        self.router.add("GET", "/_control/shops/{domain}/orders/{order_id}", self._control_get)
        self.router.add("POST", "/_control/shops/{domain}/orders/{order_id}/paid", self._control_paid)
        self.router.add("POST", "/_control/shops/{domain}/orders/{order_id}/fulfilled", self._control_fulfilled)
        self.router.add("POST", "/_control/deliver", self._control_deliver)
        self.router.add("POST", "/_control/shops/{domain}/products", self.catalog.control_create)
        self.router.add("PUT", "/_control/shops/{domain}/products/{product_id}", self.catalog.control_update)
        self.router.add("DELETE", "/_control/shops/{domain}/products/{product_id}", self.catalog.control_delete)
        self.router.add("GET", "/_bulk/{file_name}", self.catalog.serve_bulk_file)
        self.router.add("POST", "/admin/oauth/access_token", self.apps.token_endpoint)
        self.router.add("GET", "/_control/shops/{domain}/install", self.apps.control_install)
        self.router.add("POST", "/_control/shops/{domain}/approve", self.apps.control_approve)
        self.router.add("POST", "/_control/shops/{domain}/orders/{order_id}/refunds", self.refunds.control_refund)
        self.router.add("POST", "/_control/shops/{domain}/orders/{order_id}/cancel", self.refunds.control_cancel)

    # ---- time and ids ----------------------------------------------------------------------------------------------

    def now(self) -> datetime:
        """Wall time that advances with the injected clock, so a fake clock also moves timestamps."""
        return self._epoch + timedelta(seconds=self.clock() - self._clock_zero)

    def _shop_time(self, shop: Shop) -> str:
        return self.now().astimezone(shop.tz).isoformat(timespec="seconds")

    def _new_id(self) -> int:
        # Increasing, gapped, 13-digit ids like Shopify's; one sequence for every resource keeps them all unique.
        self._next_id += self._id_rng.randint(1, 9_999)
        return self._next_id

    # ---- shops and subscriptions -----------------------------------------------------------------------------------

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
            if access_token in self._tokens:
                raise ValueError("access token already belongs to another shop")
            bucket = CostBucket(maximum_available, restore_rate, maximum_available)
            shop = Shop(domain, app_secret, access_token, bucket=bucket)
            shop.catalog = self.catalog.open_shop(shop)  # with its default location
            self.shops[domain] = shop
            self._tokens[access_token] = domain
            return shop

    def shop(self, domain: str) -> Shop:
        try:
            shop = self.shops[domain]
        except KeyError:
            raise UnknownShop(domain) from None
        self.catalog.advance(shop)  # bulk operations complete lazily, whenever their shop is looked at
        return shop

    # ---- catalog (state and logic in shopify_catalog.py) -----------------------------------------------------------

    def add_location(self, domain: str, name: str, *, active: bool = True) -> dict[str, Any]:
        """A new location (REST-shaped); nothing is stocked there until stock is set at it."""
        return self.catalog.add_location(domain, name, active=active)

    def create_product(self, domain: str, product: dict[str, Any], *, emit: bool = True) -> dict[str, Any]:
        """Store a REST-shaped product (ids assigned, stock at the primary location); emits `products/create`."""
        return self.catalog.create_product(domain, product, emit=emit)

    def update_product(
        self,
        domain: str,
        product_id: int | str,
        changes: dict[str, Any],
        *,
        variant_changes: dict[int, dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Change REST fields of a product and of its variants by id; emits `products/update`."""
        return self.catalog.update_product(domain, product_id, changes, variant_changes=variant_changes)

    def delete_product(self, domain: str, product_id: int | str) -> None:
        """Delete a product with its variants and stock; emits `products/delete` with `{"id": ...}`."""
        self.catalog.delete_product(domain, product_id)

    def products(self, domain: str) -> list[dict[str, Any]]:
        """The shop's products, REST-shaped (copies)."""
        return self.catalog.products(domain)

    def set_available(
        self, domain: str, inventory_item_id: int, quantity: int, location_id: int | None = None
    ) -> dict[str, Any]:
        """Set `available` at a location (primary by default), stocking the item there if needed."""
        return self.catalog.set_available(domain, inventory_item_id, quantity, location_id)

    def set_committed(
        self, domain: str, inventory_item_id: int, quantity: int, location_id: int | None = None
    ) -> dict[str, Any]:
        """Set `committed` (reserved by unfulfilled orders) at a location; `on_hand` follows."""
        return self.catalog.set_committed(domain, inventory_item_id, quantity, location_id)

    def inventory_item(self, domain: str, inventory_item_id: int | str) -> dict[str, Any]:
        """The REST inventory item (`cost` a decimal string or None, `tracked`, `sku`)."""
        return self.catalog.inventory_item(domain, inventory_item_id)

    def mutation_count(self, name: str) -> int:
        """How often the Admin API executed the root mutation `name` (e.g. "inventorySetQuantities")."""
        with self._lock:
            return self.mutation_counts.get(name, 0)

    def inventory(self, domain: str, sku: str) -> list[dict[str, Any]]:
        """Every level of every inventory item with exactly this SKU: item, location, available, on_hand."""
        return self.catalog.inventory(domain, sku)

    def seed_catalog(
        self,
        domain: str,
        variants: int,
        *,
        variants_per_product: int = 3,
        stock: Callable[[int], int] | None = None,
        sku: Callable[[int], str | None] | None = None,
        seed: int = 0,
    ) -> None:
        """A large deterministic catalog, fast and without webhooks (see `Catalog.seed_catalog`)."""
        self.catalog.seed_catalog(
            domain, variants, variants_per_product=variants_per_product, stock=stock, sku=sku, seed=seed
        )

    def subscribe(self, domain: str, topic: str, uri: str) -> Subscription:
        """Subscribe `uri` to `topic` ("orders/create" or "ORDERS_CREATE"); an existing identical one is returned."""
        with self._lock:
            shop = self.shop(domain)
            rest_topic = _normalise_topic(topic)
            for existing in shop.subscriptions:
                if existing.topic == rest_topic and existing.uri == uri:
                    return existing
            subscription = Subscription(self._new_id(), rest_topic, uri, self._shop_time(shop))
            shop.subscriptions.append(subscription)
            return subscription

    def drop_subscriptions(self, domain: str, topic: str) -> int:
        """Shopify removing a topic's subscriptions without telling the app; returns how many were removed."""
        return self.apps.drop_subscriptions(domain, topic)

    # ---- app install, tokens, uninstall and privacy webhooks (state and logic in shopify_app.py) -------------------

    def register_app(
        self,
        client_id: str,
        client_secret: str,
        *,
        scopes: str = "",
        expiring_tokens: bool = True,
        token_lifetime: float = 3600.0,
        compliance_uri: str | None = None,
        redirect_uris: list[str] | None = None,
    ) -> None:
        """The app as configured in the Partner dashboard (`redirect_uris` None: any callback URL is allowed)."""
        self.apps.register_app(
            client_id,
            client_secret,
            scopes=scopes,
            expiring_tokens=expiring_tokens,
            token_lifetime=token_lifetime,
            compliance_uri=compliance_uri,
            redirect_uris=redirect_uris,
        )

    def install_request(self, domain: str, client_id: str) -> dict[str, str]:
        """The signed query (`hmac`, `host`, `shop`, `timestamp`) Shopify appends when a merchant clicks install."""
        return self.apps.install_request(domain, client_id)

    def approve(self, domain: str, authorize_url: str, *, grant_scopes: str | None = None) -> str:
        """The merchant approves the authorize URL; returns the signed callback URL carrying the one-time code."""
        return self.apps.approve(domain, authorize_url, grant_scopes=grant_scopes)

    def uninstall(self, domain: str) -> None:
        """Emit `app/uninstalled`, then revoke every token of the shop and remove its webhook subscriptions."""
        self.apps.uninstall(domain)

    def request_customer_data(
        self, domain: str, customer_id: int, orders: list[int], *, uri: str | None = None
    ) -> dict[str, Any]:
        """Queue the privacy webhook `customers/data_request` (to `uri`, else the app's compliance URI)."""
        return self.apps.request_customer_data(domain, customer_id, orders, uri=uri)

    def redact_customer(
        self, domain: str, customer_id: int, orders: list[int], *, uri: str | None = None
    ) -> dict[str, Any]:
        """Queue the privacy webhook `customers/redact`."""
        return self.apps.redact_customer(domain, customer_id, orders, uri=uri)

    def redact_shop(self, domain: str, *, uri: str | None = None) -> dict[str, Any]:
        """Queue the privacy webhook `shop/redact` (Shopify sends it 48 h after uninstall; here when called)."""
        return self.apps.redact_shop(domain, uri=uri)

    # ---- refunds and cancellations (logic in shopify_refunds.py) ---------------------------------------------------

    def refund(
        self,
        domain: str,
        order_id: int | str,
        lines: list[tuple[int, int]],
        *,
        shipping: bool = False,
        restock: bool = True,
        note: str = "",
        duplicate: bool = False,
    ) -> dict[str, Any]:
        """Refund (line_item_id, quantity) pairs and optionally all shipping; emits `refunds/create`."""
        return self.refunds.refund(
            domain, order_id, lines, shipping=shipping, restock=restock, note=note, duplicate=duplicate
        )

    def cancel(
        self, domain: str, order_id: int | str, *, reason: str = "customer", duplicate: bool = False
    ) -> dict[str, Any]:
        """Cancel the order (`cancelled_at`, `cancel_reason`); emits `orders/cancelled`."""
        return self.refunds.cancel(domain, order_id, reason=reason, duplicate=duplicate)

    # ---- orders ----------------------------------------------------------------------------------------------------

    def create_order(
        self,
        domain: str,
        order: dict[str, Any],
        *,
        paid: bool = False,
        duplicate: bool = False,
        paid_first: bool = False,
    ) -> dict[str, Any]:
        """Store a REST-shaped order and emit `orders/create` (and `orders/paid` when `paid`).

        `duplicate` forces a second delivery of each event; `paid_first` queues `orders/paid` ahead of
        `orders/create` (both are Shopify behaviours the fact sheet warns about, made deterministic for tests).
        """
        with self._lock:
            shop = self.shop(domain)
            stored = self._admit_order(shop, copy.deepcopy(order), paid)
            shop.orders[stored["id"]] = stored
            topics = ["orders/create", "orders/paid"] if paid else ["orders/create"]
            if paid and paid_first:
                topics.reverse()
            for topic in topics:
                self._emit(shop, topic, stored, duplicate=duplicate)
            return copy.deepcopy(stored)

    def _admit_order(self, shop: Shop, order: dict[str, Any], paid: bool) -> dict[str, Any]:
        if set(order) == {"order"}:  # accept the `{"order": {...}}` envelope of the fixtures too
            order = order["order"]
        now = self._shop_time(shop)
        number = shop.next_order_number
        shop.next_order_number += 1
        # The simulator is the authority on identity: ids and numbers are always assigned, never taken over.
        order["id"] = self._new_id()
        order.update(
            admin_graphql_api_id=gid("Order", order["id"]),
            order_number=number,
            number=number - 1000,
            name=f"#{number}",
            created_at=now,
            updated_at=now,
        )
        order.setdefault("processed_at", now)
        order.setdefault("currency", shop.currency)
        order.setdefault("presentment_currency", order["currency"])
        order.setdefault("cancelled_at", None)
        order.setdefault("closed_at", None)
        order.setdefault("fulfillment_status", None)
        # Where the order was placed: kept as given ("pos" with the till's location_id), online orders are "web".
        order["source_name"] = order.get("source_name") or "web"
        order.setdefault("location_id", None)
        order["financial_status"] = "paid" if paid else order.get("financial_status") or "pending"
        order["total_outstanding"] = "0.00" if paid else order.get("total_outstanding", order.get("total_price"))
        self._admit_children(order)
        self._admit_customer(shop, order)
        return order

    def _admit_children(self, order: dict[str, Any]) -> None:
        for item in order.setdefault("line_items", []):
            if item.get("id") is None:
                item["id"] = self._new_id()
            item.setdefault("admin_graphql_api_id", gid("LineItem", item["id"]))
            item.setdefault("fulfillment_status", None)
            item.setdefault("current_quantity", item.get("quantity"))
            item.setdefault("fulfillable_quantity", item.get("quantity"))
        for line in order.setdefault("shipping_lines", []):
            if line.get("id") is None:
                line["id"] = self._new_id()

    def _admit_customer(self, shop: Shop, order: dict[str, Any]) -> None:
        customer = order.get("customer")
        if not isinstance(customer, dict):
            return
        if customer.get("id") is None:
            email = customer.get("email")
            if email and email in shop.customer_ids:
                customer["id"] = shop.customer_ids[email]
            else:
                customer["id"] = self._new_id()
                if email:
                    shop.customer_ids[email] = customer["id"]
        customer.setdefault("admin_graphql_api_id", gid("Customer", customer["id"]))

    def get_order(self, domain: str, order_id: int | str) -> dict[str, Any] | None:
        with self._lock:
            order = self.shop(domain).orders.get(_legacy_id(order_id))
            return copy.deepcopy(order) if order is not None else None

    def _order(self, shop: Shop, order_id: int | str) -> dict[str, Any]:
        order = shop.orders.get(_legacy_id(order_id))
        if order is None:
            raise UnknownOrder(order_id)
        return order

    def mark_paid(self, domain: str, order_id: int | str, *, duplicate: bool = False) -> dict[str, Any]:
        """financial_status → paid; emits `orders/paid` and `orders/updated` (nothing when it was already paid)."""
        with self._lock:
            shop = self.shop(domain)
            order = self._order(shop, order_id)
            if order.get("financial_status") != "paid":
                order.update(financial_status="paid", total_outstanding="0.00", updated_at=self._shop_time(shop))
                self._emit(shop, "orders/paid", order, duplicate=duplicate)
                self._emit(shop, "orders/updated", order, duplicate=duplicate)
            return copy.deepcopy(order)

    def fulfill(self, domain: str, order_id: int | str, *, duplicate: bool = False) -> dict[str, Any]:
        """fulfillment_status → fulfilled; emits `orders/fulfilled` and `orders/updated` (once)."""
        with self._lock:
            shop = self.shop(domain)
            order = self._order(shop, order_id)
            if order.get("fulfillment_status") != "fulfilled":
                now = self._shop_time(shop)
                for item in order.get("line_items") or []:
                    item.update(fulfillment_status="fulfilled", fulfillable_quantity=0)
                order["fulfillments"] = [*(order.get("fulfillments") or []), self._fulfillment(order, now)]
                order.update(fulfillment_status="fulfilled", updated_at=now)
                self._emit(shop, "orders/fulfilled", order, duplicate=duplicate)
                self._emit(shop, "orders/updated", order, duplicate=duplicate)
            return copy.deepcopy(order)

    def _fulfillment(self, order: dict[str, Any], now: str) -> dict[str, Any]:
        fulfillment_id = self._new_id()
        return {
            "id": fulfillment_id,
            "admin_graphql_api_id": gid("Fulfillment", fulfillment_id),
            "created_at": now,
            "updated_at": now,
            "name": f"{order.get('name')}.{len(order.get('fulfillments') or []) + 1}",
            "order_id": order["id"],
            "status": "success",
            "service": "manual",
            "line_items": copy.deepcopy(order.get("line_items") or []),
        }

    # ---- webhooks --------------------------------------------------------------------------------------------------

    def _emit(self, shop: Shop, topic: str, payload: dict[str, Any], *, duplicate: bool = False) -> None:
        """Queue one event for every subscription to `topic`, with the resource as it is now (payload frozen)."""
        event_id = _uuid(self._id_rng)
        body = _compact_json(payload)
        triggered_at = self.now().astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        for subscription in [s for s in shop.subscriptions if s.topic == topic]:
            copies = 2 if duplicate or self._roll_delivery(self.delivery_faults.duplicate_rate) else 1
            for number in range(copies):
                self.outbox.append(
                    PendingDelivery(
                        webhook_id=_uuid(self._webhook_rng),
                        event_id=event_id,
                        domain=shop.domain,
                        subscription_id=subscription.id,
                        topic=topic,
                        url=subscription.uri,
                        body=body,
                        api_version=self.api_version,
                        triggered_at=triggered_at,
                        duplicate=number > 0,
                        hold=1 if self._roll_delivery(self.delivery_faults.delay_rate) else 0,
                    )
                )

    def _roll_delivery(self, rate: float) -> bool:
        return rate > 0 and self._delivery_rng.random() < rate

    def webhook_headers(self, delivery: PendingDelivery) -> dict[str, str]:
        """The headers of the fact sheet; the HMAC uses the shop's current secret (rotation shows up on retries)."""
        return {
            "Content-Type": "application/json",
            "X-Shopify-Topic": delivery.topic,
            "X-Shopify-Hmac-Sha256": sign(self.shop(delivery.domain).app_secret, delivery.body),
            "X-Shopify-Shop-Domain": delivery.domain,
            "X-Shopify-API-Version": delivery.api_version,
            "X-Shopify-Webhook-Id": delivery.webhook_id,
            "X-Shopify-Event-Id": delivery.event_id,
            "X-Shopify-Triggered-At": delivery.triggered_at,
        }

    def pending(self, domain: str | None = None) -> list[PendingDelivery]:
        with self._lock:
            self.catalog.advance_all()  # a bulk operation that finished meanwhile queues its webhook first
            return [d for d in self.outbox if domain is None or d.domain == domain]

    def lose_pending(self, domain: str, topics: set[str] | None = None) -> int:
        """Webhooks lost in flight: the shop's pending deliveries (of `topics`, else all) are discarded unsent, as
        when Shopify gave up on an endpoint that stayed down or a delivery vanished on the way; returns how many."""
        with self._lock:
            lost = [d for d in self.outbox if d.domain == domain and (topics is None or d.topic in topics)]
            self.outbox = [d for d in self.outbox if not any(d is gone for gone in lost)]
            return len(lost)

    def deliver(self, limit: int | None = None, *, domain: str | None = None) -> DeliveryReport:
        """Send pending deliveries (of `domain`, or all shops) through the sink, in outbox order unless reordered.

        The sink is called without holding the simulator's lock: under `crossdock serve` the receiver may call the
        Admin API back from another thread while the delivery is still waiting for its answer.
        """
        sink = self.webhook_sink
        if sink is None:
            raise RuntimeError("ShopifySimulator has no webhook_sink to deliver to")
        report = DeliveryReport()
        with self._lock:
            self.catalog.advance_all()
        batch = self._take_batch(limit, domain, report)
        for delivery in batch:
            status, error = self._send(sink, delivery)
            with self._lock:
                self._settle(delivery, status, error, report)
        with self._lock:
            report.pending = len([d for d in self.outbox if domain is None or d.domain == domain])
        return report

    def _take_batch(self, limit: int | None, domain: str | None, report: DeliveryReport) -> list[PendingDelivery]:
        with self._lock:
            candidates = [d for d in self.outbox if not d.in_flight and (domain is None or d.domain == domain)]
            if self.delivery_faults.reorder:
                self._delivery_rng.shuffle(candidates)
            batch: list[PendingDelivery] = []
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

    def _send(self, sink: WebhookSink, delivery: PendingDelivery) -> tuple[int | None, str | None]:
        with self._lock:
            headers = self.webhook_headers(delivery)
        try:
            return sink(delivery.url, headers, delivery.body), None
        except Exception as exc:  # noqa: BLE001 - any failure of the receiver counts as a failed delivery
            return None, f"{type(exc).__name__}: {exc}"

    def _settle(self, delivery: PendingDelivery, status: int | None, error: str | None, report: DeliveryReport) -> None:
        delivery.in_flight = False
        delivery.attempts += 1
        if delivery.attempts > 1:
            report.retried += 1
        self.delivery_log.append(
            DeliveryAttempt(
                delivery.webhook_id,
                delivery.event_id,
                delivery.domain,
                delivery.topic,
                delivery.url,
                delivery.attempts,
                status,
                error,
            )
        )
        if status is not None and 200 <= status < 300:
            self._remove_delivery(delivery)
            report.delivered += 1
            report.duplicates_sent += int(delivery.duplicate)
            return
        report.failed += 1
        if delivery.attempts > MAX_DELIVERY_RETRIES:  # the first attempt plus 8 retries all failed
            self._drop_subscription(delivery, report)

    def _remove_delivery(self, delivery: PendingDelivery) -> None:
        self.outbox = [d for d in self.outbox if d is not delivery]

    def _drop_subscription(self, delivery: PendingDelivery, report: DeliveryReport) -> None:
        shop = self.shops.get(delivery.domain)
        if shop is not None:
            gone = [s for s in shop.subscriptions if s.id == delivery.subscription_id]
            shop.subscriptions = [s for s in shop.subscriptions if s.id != delivery.subscription_id]
            self.removed_subscriptions.extend(gone)
            report.dropped_subscriptions += len(gone)
        orphans = [d for d in self.outbox if d.subscription_id == delivery.subscription_id]
        report.dropped_deliveries += len([d for d in orphans if d is not delivery])
        self.outbox = [d for d in self.outbox if d.subscription_id != delivery.subscription_id]

    # ---- HTTP: authentication and faults ---------------------------------------------------------------------------

    def _authenticate(self, request: SimRequest) -> Shop | None:
        token = request.headers.get("x-shopify-access-token", "")
        # Expired and revoked OAuth tokens are refused here, so every Admin API route answers them with 401.
        domain = self._tokens.get(token) if self.apps.admit(token) else None
        shop = self.shops.get(domain) if domain else None
        if shop is not None:
            self.catalog.advance(shop)
        return shop

    def _server_fault(self) -> SimResponse | None:
        if not self.faults.roll(self.faults.server_error_rate):
            return None
        if self.faults.roll(0.5):
            return json_response(502, {"errors": "Bad Gateway"})
        return json_response(503, {"errors": "Service Unavailable"})

    def handle(self, request: SimRequest) -> SimResponse:
        if request.method.upper() == "POST" and request.path.rstrip("/") == "/_control/deliver":
            # Outside the lock: deliver() calls the sink, which may call this simulator back from another thread.
            response = self._control_deliver(request)
            with self._lock:
                self.calls += 1
                self.calls_by_status[response.status] = self.calls_by_status.get(response.status, 0) + 1
            return response
        return super().handle(request)

    # ---- HTTP: GraphQL Admin API -----------------------------------------------------------------------------------

    def _graphql(self, request: SimRequest, version: str) -> SimResponse:
        shop = self._authenticate(request)
        if shop is None:
            return json_response(401, {"errors": INVALID_TOKEN})
        if not re.fullmatch(r"\d{4}-\d{2}|unstable", version):
            return json_response(404, {"errors": "Not Found"})
        fault = self._server_fault()
        if fault is not None:
            return fault
        try:
            query, variables, operation_name = _read_graphql_body(request)
        except ValueError:
            return json_response(400, {"errors": {"query": "Required parameter missing or invalid"}})
        headers = {"X-Shopify-API-Version": version}
        try:
            document, operation, bound = _prepare(query, variables, operation_name)
            requested = requested_cost(operation, document.fragments, bound)
        except Refused as exc:
            return json_response(200, {"errors": exc.errors, "extensions": self._cost(shop, 0, 0)}, headers)
        except ApiError as exc:
            return json_response(200, {"errors": [exc.payload()], "extensions": self._cost(shop, 0, 0)}, headers)
        return self._run(shop, document, operation, (variables, bound, requested), headers, version)

    def _run(
        self,
        shop: Shop,
        document: Document,
        operation: OperationDefinitionNode,
        call: tuple[dict[str, Any], VariableValues, int],
        headers: dict[str, str],
        version: str,
    ) -> SimResponse:
        variables, bound, requested = call
        mutation = operation.operation.value == "mutation"
        if requested > MAX_SINGLE_QUERY_COST:
            error = ApiError(
                f"Query cost is {requested}, which exceeds the single query max cost limit ({MAX_SINGLE_QUERY_COST}).",
                "MAX_COST_EXCEEDED",
                cost=requested,
                maxCost=MAX_SINGLE_QUERY_COST,
            )
            payload = {"errors": [error.payload()], "extensions": self._cost(shop, requested, None)}
            return json_response(200, payload, headers)
        shop.bucket.refill(self.clock())
        if shop.bucket.currently_available < requested:
            throttled = {"message": "Throttled", "extensions": {"code": "THROTTLED"}}
            self.throttled_answers += 1
            payload = {"errors": [throttled], "extensions": self._cost(shop, requested, None)}
            return json_response(200, payload, headers)
        shop.bucket.currently_available -= requested
        context = Request(shop, version, self.resolvers, self._count_mutation, document.static_selections)
        payload = run(document, operation, variables, context)
        data = cast(dict[str, Any] | None, payload.get("data"))
        actual = requested if mutation else actual_cost(operation, document.fragments, bound, data)
        if not mutation:
            shop.bucket.refund(max(0, requested - actual))  # Shopify refunds what the query did not use
        payload["extensions"] = self._cost(shop, requested, actual)
        response = json_response(200, payload, headers)
        if mutation and self.faults.roll(self.faults.drop_response_rate):
            raise ResponseDropped("shopify mutation committed, response dropped")
        return response

    def _count_mutation(self, name: str) -> None:
        self.mutation_counts[name] = self.mutation_counts.get(name, 0) + 1

    def _cost(self, shop: Shop, requested: int, actual: int | None) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": shop.bucket.status(),
            }
        }

    def _resolve_order(self, shop: Shop, args: dict[str, Any]) -> dict[str, Any] | None:
        match = re.fullmatch(r"gid://shopify/Order/(\d+)", str(args.get("id")))
        if match is None:
            raise ApiError(f"Invalid global id '{args.get('id')}'", "argumentLiteralsIncompatible")
        order = shop.orders.get(int(match.group(1)))
        return gql_order(order) if order is not None else None

    def _resolve_subscriptions(self, shop: Shop, args: dict[str, Any]) -> dict[str, Any]:
        topics = args.get("topics")
        wanted = {TOPICS.get(str(t), str(t)) for t in topics} if topics else None
        items = [_gql_subscription(s) for s in shop.subscriptions if wanted is None or s.topic in wanted]
        return connection(items)(args)

    def _resolve_subscription_create(self, shop: Shop, args: dict[str, Any]) -> dict[str, Any]:
        topic = str(args.get("topic"))  # a WebhookSubscriptionTopic: the schema refused any other value
        spec = args.get("webhookSubscription") or {}
        uri = spec.get("uri", spec.get("callbackUrl")) if isinstance(spec, dict) else None
        if not isinstance(uri, str) or not _valid_callback(uri):
            return _user_error(["webhookSubscription", "callbackUrl"], "Address is invalid")
        if any(s.topic == TOPICS[topic] and s.uri == uri for s in shop.subscriptions):
            return _user_error(["webhookSubscription", "callbackUrl"], "Address for this topic has already been taken")
        subscription = self.subscribe(shop.domain, topic, uri)
        return {"webhookSubscription": _gql_subscription(subscription), "userErrors": []}

    # ---- HTTP: control endpoints (not Shopify) ---------------------------------------------------------------------

    def _control_shop(self, request: SimRequest, domain: str) -> tuple[Shop | None, SimResponse | None]:
        shop = self._authenticate(request)
        if shop is None:
            return None, json_response(401, {"errors": INVALID_TOKEN})
        if shop.domain != domain:
            return None, json_response(403, {"errors": "access token does not belong to this shop"})
        return shop, None

    def _control_create(self, request: SimRequest, domain: str) -> SimResponse:
        shop, error = self._control_shop(request, domain)
        if shop is None:
            return error or json_response(401, {"errors": INVALID_TOKEN})
        try:
            body = request.json()
        except ValueError:
            return json_response(400, {"errors": "body is not JSON"})
        if not isinstance(body, dict):
            return json_response(422, {"errors": {"order": ["must be an object"]}})
        order = self.create_order(
            domain,
            body,
            paid=_flag(request, "paid"),
            duplicate=_flag(request, "duplicate"),
            paid_first=_flag(request, "paid_first"),
        )
        return json_response(201, {"order": order})

    def _control_order_action(
        self, request: SimRequest, domain: str, order_id: str, action: Callable[..., dict[str, Any]]
    ) -> SimResponse:
        shop, error = self._control_shop(request, domain)
        if shop is None:
            return error or json_response(401, {"errors": INVALID_TOKEN})
        try:
            order = action(domain, order_id)
        except (UnknownOrder, ValueError):
            return json_response(404, {"errors": "Not Found"})
        return json_response(200, {"order": order})

    def _control_get(self, request: SimRequest, domain: str, order_id: str) -> SimResponse:
        def lookup(shop_domain: str, legacy_id: str) -> dict[str, Any]:
            found = self.get_order(shop_domain, legacy_id)
            if found is None:
                raise UnknownOrder(legacy_id)
            return found

        return self._control_order_action(request, domain, order_id, lookup)

    def _control_paid(self, request: SimRequest, domain: str, order_id: str) -> SimResponse:
        duplicate = _flag(request, "duplicate")
        return self._control_order_action(
            request, domain, order_id, lambda d, o: self.mark_paid(d, o, duplicate=duplicate)
        )

    def _control_fulfilled(self, request: SimRequest, domain: str, order_id: str) -> SimResponse:
        duplicate = _flag(request, "duplicate")
        return self._control_order_action(
            request, domain, order_id, lambda d, o: self.fulfill(d, o, duplicate=duplicate)
        )

    def _control_deliver(self, request: SimRequest) -> SimResponse:
        """Flush the calling shop's outbox (the token decides the shop); `?limit=N` caps the deliveries."""
        with self._lock:
            shop = self._authenticate(request)
        if shop is None:
            return json_response(401, {"errors": INVALID_TOKEN})
        limit_arg = request.arg("limit")
        if limit_arg is not None and not limit_arg.isdigit():
            return json_response(400, {"errors": "limit must be a non-negative integer"})
        try:
            report = self.deliver(int(limit_arg) if limit_arg is not None else None, domain=shop.domain)
        except RuntimeError as exc:
            return json_response(409, {"errors": str(exc)})
        return json_response(200, report.as_dict())


def _legacy_id(order_id: int | str) -> int:
    """Accept 450789469, "450789469" or "gid://shopify/Order/450789469"."""
    text = str(order_id).rsplit("/", 1)[-1]
    if not text.isdigit():
        raise ValueError(f"not an order id: {order_id!r}")
    return int(text)


def _user_error(path: list[str], message: str) -> dict[str, Any]:
    return {"webhookSubscription": None, "userErrors": [{"field": path, "message": message}]}


def _read_graphql_body(request: SimRequest) -> tuple[str, dict[str, Any], str | None]:
    body = request.json()
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        raise ValueError("missing query")
    variables = body.get("variables") or {}
    if not isinstance(variables, dict):
        raise ValueError("variables must be an object")
    operation_name = body.get("operationName")
    return body["query"], variables, operation_name if isinstance(operation_name, str) else None


def _prepare(
    query: str, variables: dict[str, Any], operation_name: str | None
) -> tuple[Document, OperationDefinitionNode, VariableValues]:
    """Parse and validate (cached per query text) and coerce the variables; nothing runs or is charged on `Refused`."""
    document = prepare(query)
    operation = document.operation(operation_name)
    if operation.operation.value == "subscription":
        raise ApiError("Subscriptions are not supported over HTTP", "unsupported")
    return document, operation, coerce_variables(operation, variables)


# The catalog builds on everything above (schema, parser, projection) and registers its schema when imported, so it
# is imported last; either module may be imported first. The app-install and refund modules follow the same rule.
from crossdock_local.sims import shopify_app as _app  # noqa: E402
from crossdock_local.sims import shopify_catalog as _catalog  # noqa: E402
from crossdock_local.sims import shopify_order_search as _order_search  # noqa: E402
from crossdock_local.sims import shopify_refunds as _refunds  # noqa: E402
