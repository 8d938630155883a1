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
  `bulkOperationRunQuery` with its JSONL result live in the catalog's modules (catalog → catalog_views →
  inventory → products → bulk).
- `shopify_wms.md` "Writes" (fulfil with tracking): fulfillment orders and `fulfillmentCreate` (fulfillments.py).

GraphQL runs on graphql-core against the SDL schema `schema.graphql` (the Admin API subset Crossdock uses, with
Shopify's names); `graphql_api.py` executes it, `validation.py` words its refusals as Shopify's and `cost.py`
charges the cost. Each resource module registers its root fields in `resolvers`; this module wires the parts
together and answers the HTTP routes. The package's layers (import-linter holds them): simulator → control →
the resources (catalog, orders, order search, refunds, subscriptions, app install) → webhooks → core → views,
values, paging, search → state.

Not part of Shopify: the `/_control/...` endpoints, which let an operator create orders and products and flush
webhooks when the simulator runs under `crossdock serve`. They authenticate with the shop's access token like the
Admin API. `GET /_bulk/<token>.jsonl` stands in for the storage bucket that serves bulk results (no token, like
Shopify's signed URLs).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, cast

from graphql import (
    OperationDefinitionNode,
)
from graphql.execution.values import (
    VariableValues,
)

from crossdock_local.sims.base import (
    ResponseDropped,
    SimRequest,
    SimResponse,
    WebhookSink,
    json_response,
)
from crossdock_local.sims.shopify.app import AppInstalls
from crossdock_local.sims.shopify.bulk import Catalog
from crossdock_local.sims.shopify.control import ControlApi
from crossdock_local.sims.shopify.cost import MAX_SINGLE_QUERY_COST, actual_cost, requested_cost
from crossdock_local.sims.shopify.custom_apps import CustomApps
from crossdock_local.sims.shopify.customs import apply_customs, customs_errors
from crossdock_local.sims.shopify.errors import INVALID_TOKEN, ApiError
from crossdock_local.sims.shopify.fulfillments import Fulfillments
from crossdock_local.sims.shopify.graphql_api import Document, Refused, Request, by_args, coerce_variables, prepare, run
from crossdock_local.sims.shopify.inventory_adjust import InventoryAdjust
from crossdock_local.sims.shopify.order_search import OrderSearch
from crossdock_local.sims.shopify.orders import OrderBook
from crossdock_local.sims.shopify.payments import Payments
from crossdock_local.sims.shopify.publications import Publications
from crossdock_local.sims.shopify.refund_create import RefundCreation
from crossdock_local.sims.shopify.refunds import Refunds
from crossdock_local.sims.shopify.state import CustomApp, Shop, ShopCatalog
from crossdock_local.sims.shopify.subscriptions import WebhookSubscriptions


class ShopifySimulator(OrderBook):
    """In-memory Shopify: the Admin GraphQL API over every part of the package, and the control API."""

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
        super().__init__(clock, webhook_sink, api_version, seed, epoch=epoch, bulk_duration=bulk_duration)
        self.resolvers["order"] = by_args(self.resolve_order)
        self.subscriptions = WebhookSubscriptions(self)
        self.catalog = Catalog(self)
        self.inventory_adjust = InventoryAdjust(self.catalog)
        self.apps = AppInstalls(self, seed)
        self.custom_app_installs = CustomApps(self)
        self.refunds = Refunds(self)
        self.fulfillments = Fulfillments(self)
        self.payments = Payments(self)
        self.refund_creation = RefundCreation(
            self,
            self.refunds,
            self.payments,
            self.fulfillments,
            idempotent=self.catalog.idempotent,
            restock=self._restock,
        )
        self.order_search = OrderSearch(self)
        self.control = ControlApi(self, self.catalog)
        self.publications = Publications(self.catalog)
        self._routes()

    def _routes(self) -> None:
        self.router.add("POST", "/admin/api/{version}/graphql.json", self._graphql)
        self.router.add("POST", "/_control/shops/{domain}/orders", self.control.control_create_order)
        self.router.add("GET", "/_control/shops/{domain}/orders/{order_id}", self.control.control_get_order)
        self.router.add("POST", "/_control/shops/{domain}/orders/{order_id}/paid", self.control.control_paid)
        self.router.add("POST", "/_control/shops/{domain}/orders/{order_id}/fulfilled", self.control.control_fulfilled)
        self.router.add("POST", "/_control/deliver", self.control.control_deliver)
        self.router.add("POST", "/_control/shops/{domain}/products", self.control.control_create_product)
        self.router.add("PUT", "/_control/shops/{domain}/products/{product_id}", self.control.control_update_product)
        self.router.add("DELETE", "/_control/shops/{domain}/products/{product_id}", self.control.control_delete_product)
        self.router.add("GET", "/_bulk/{file_name}", self.catalog.serve_bulk_file)
        self.router.add("POST", "/admin/oauth/access_token", self.apps.token_endpoint)
        self.router.add("GET", "/_control/shops/{domain}/install", self.apps.control_install)
        self.router.add("POST", "/_control/shops/{domain}/approve", self.apps.control_approve)
        self.router.add("POST", "/_control/shops/{domain}/orders/{order_id}/refunds", self.refunds.control_refund)
        self.router.add("POST", "/_control/shops/{domain}/orders/{order_id}/cancel", self.refunds.control_cancel)

    # ---- hooks of the shared core ------------------------------------------------------------------------------------

    def open_catalog(self, shop: Shop) -> ShopCatalog:
        return self.catalog.open_shop(shop)

    def before_lookup(self, shop: Shop) -> None:
        self.catalog.advance(shop)

    def before_delivery(self) -> None:
        self.catalog.advance_all()
        self.fulfillments.route_due()  # fulfillment orders Shopify made meanwhile announce themselves first

    def admit_token(self, token: str) -> bool:
        return self.apps.admit(token)

    def order_view(self, shop: Shop, order: dict[str, Any]) -> dict[str, Any]:
        return {
            **super().order_view(shop, order),
            **self.fulfillments.order_fields(shop, order),
            **self.payments.order_fields(shop, order),
        }

    def _restock(self, shop: Shop, item: dict[str, Any], location_id: int, quantity: int) -> None:
        """A refund puts units of an order line back at a location (nothing when its variant is gone)."""
        variant = shop.catalog.variants.get(int(item.get("variant_id") or 0))
        if variant is None:
            return
        level = self.catalog.stock(shop.catalog, int(variant["inventory_item_id"]), location_id, None)
        self.catalog.set_level(shop, level, available=level.available + quantity)

    def payment_event(self, shop: Shop, order: dict[str, Any], event: str) -> None:
        self.payments.record(shop, order, event)

    def snapshot(self) -> dict[str, Any]:
        """`GET /_control/state`: per shop its domain, whether the app is installed, how many of each resource it
        holds and its pending webhook deliveries; the webhook totals besides.

        Counts, not records (an audit reads records through the Admin API). Access tokens, app secrets and client
        secrets are secrets and never appear here. Reads `shops` directly rather than through `shop()`, so looking
        does not complete a bulk operation."""
        with self._lock:
            pending = Counter(delivery.domain for delivery in self.outbox.pending())
            shops = [
                {
                    "domain": shop.domain,
                    "installed": shop.uninstalled_at is None,
                    "app_client_id": shop.app_client_id,  # public (it is in every install URL); its secret is not
                    "counts": {
                        "orders": len(shop.orders),
                        "products": len(shop.catalog.products),
                        "variants": len(shop.catalog.variants),
                        "locations": len(shop.catalog.locations),
                        "subscriptions": len(shop.subscriptions),
                        "pending_deliveries": pending[shop.domain],
                    },
                }
                for shop in self.shops.values()
            ]
            return {
                **super().snapshot(),
                "shops": shops,
                "webhooks": {
                    "pending": sum(pending.values()),
                    "attempts": len(self.outbox.log),
                    "removed_subscriptions": len(self.removed_subscriptions),
                },
            }

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

    def set_customs(
        self,
        domain: str,
        inventory_item_id: int,
        *,
        harmonized_system_code: str | None = None,
        country_code_of_origin: str | None = None,
    ) -> None:
        """The merchant fills in an item's customs facts in the admin (no webhook: they are not in the product)."""
        with self._lock:
            item = self.shops[domain].catalog.items[int(inventory_item_id)]
            changes = {"harmonizedSystemCode": harmonized_system_code, "countryCodeOfOrigin": country_code_of_origin}
            errors = customs_errors(changes)
            if errors:
                raise ValueError(errors[0]["message"])
            apply_customs(item, changes)

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

    def drop_subscriptions(self, domain: str, topic: str) -> int:
        """Shopify removing a topic's subscriptions without telling the app; returns how many were removed."""
        return self.apps.drop_subscriptions(domain, topic)

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

    def new_custom_app(self, domain: str, scopes: Iterable[str]) -> CustomApp:
        """A custom app the merchant made and installed in `domain`: its token has exactly `scopes`, and the
        webhooks it registers are signed with its API secret (custom_apps.py)."""
        return self.custom_app_installs.new_custom_app(domain, scopes)

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
        return self.apps.privacy.request_customer_data(domain, customer_id, orders, uri=uri)

    def redact_customer(
        self, domain: str, customer_id: int, orders: list[int], *, uri: str | None = None
    ) -> dict[str, Any]:
        """Queue the privacy webhook `customers/redact`."""
        return self.apps.privacy.redact_customer(domain, customer_id, orders, uri=uri)

    def redact_shop(self, domain: str, *, uri: str | None = None) -> dict[str, Any]:
        """Queue the privacy webhook `shop/redact` (Shopify sends it 48 h after uninstall; here when called)."""
        return self.apps.privacy.redact_shop(domain, uri=uri)

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

    def handle(self, request: SimRequest) -> SimResponse:
        if request.method.upper() == "POST" and request.path.rstrip("/") == "/_control/deliver":
            # Outside the lock: deliver() calls the sink, which may call this simulator back from another thread.
            response = self.control.control_deliver(request)
            with self._lock:
                self.calls += 1
                self.calls_by_status[response.status] = self.calls_by_status.get(response.status, 0) + 1
            return response
        return super().handle(request)

    def _graphql(self, request: SimRequest, version: str) -> SimResponse:
        shop = self.authenticate(request)
        if shop is None:
            return json_response(401, {"errors": INVALID_TOKEN})
        if not re.fullmatch(r"\d{4}-\d{2}|unstable", version):
            return json_response(404, {"errors": "Not Found"})
        fault = self.server_fault()
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
            return json_response(200, {"errors": exc.errors, "extensions": self.cost_amount(shop, 0, 0)}, headers)
        except ApiError as exc:
            return json_response(200, {"errors": [exc.payload()], "extensions": self.cost_amount(shop, 0, 0)}, headers)
        app, scopes = self.custom_app_installs.access_of(self.custom_app_of(request))
        caller = (app, scopes)
        return self._run(shop, document, operation, (variables, bound, requested), headers, version, caller)

    def _run(
        self,
        shop: Shop,
        document: Document,
        operation: OperationDefinitionNode,
        call: tuple[dict[str, Any], VariableValues, int],
        headers: dict[str, str],
        version: str,
        caller: tuple[str | None, frozenset[str] | None] = (None, None),
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
            payload = {"errors": [error.payload()], "extensions": self.cost_amount(shop, requested, None)}
            return json_response(200, payload, headers)
        shop.bucket.refill(self.clock())
        if shop.bucket.currently_available < requested:
            throttled = {"message": "Throttled", "extensions": {"code": "THROTTLED"}}
            self.throttled_answers += 1
            payload = {"errors": [throttled], "extensions": self.cost_amount(shop, requested, None)}
            return json_response(200, payload, headers)
        shop.bucket.currently_available -= requested
        context = Request(
            shop, version, self.resolvers, self._count_mutation, document.static_selections, caller[0], caller[1]
        )
        payload = run(document, operation, variables, context)
        data = cast(dict[str, Any] | None, payload.get("data"))
        actual = requested if mutation else actual_cost(operation, document.fragments, bound, data)
        if not mutation:
            shop.bucket.refund(max(0, requested - actual))  # Shopify refunds what the query did not use
        payload["extensions"] = self.cost_amount(shop, requested, actual)
        response = json_response(200, payload, headers)
        if mutation and self.faults.roll(self.faults.drop_response_rate):
            raise ResponseDropped("shopify mutation committed, response dropped")
        return response

    def _count_mutation(self, name: str) -> None:
        self.mutation_counts[name] = self.mutation_counts.get(name, 0) + 1

    def cost_amount(self, shop: Shop, requested: int, actual: int | None) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": shop.bucket.status(),
            }
        }


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
