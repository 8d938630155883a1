"""The control API (not Shopify): create orders and products, mark them paid or fulfilled, flush webhooks.

Used when the simulator runs under `crossdock serve`; the endpoints authenticate with the shop's access token like
the Admin API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crossdock_local.sims.base import (
    SimRequest,
    SimResponse,
    json_response,
)
from crossdock_local.sims.shopify.bulk import Catalog
from crossdock_local.sims.shopify.errors import INVALID_TOKEN, ApiError
from crossdock_local.sims.shopify.orders import OrderBook
from crossdock_local.sims.shopify.state import UnknownOrder, UnknownProduct, UnknownVariant
from crossdock_local.sims.shopify.values import flag_set, json_object


class ControlApi:
    """The `/_control/...` endpoints of orders, products and webhook delivery."""

    def __init__(self, sim: OrderBook, catalog: Catalog) -> None:
        self.sim = sim
        self.catalog = catalog

    def control_create_order(self, request: SimRequest, domain: str) -> SimResponse:
        shop, error = self.sim.control_shop(request, domain)
        if shop is None:
            return error or json_response(401, {"errors": INVALID_TOKEN})
        try:
            body = request.json()
        except ValueError:
            return json_response(400, {"errors": "body is not JSON"})
        if not isinstance(body, dict):
            return json_response(422, {"errors": {"order": ["must be an object"]}})
        order = self.sim.create_order(
            domain,
            body,
            paid=flag_set(request, "paid"),
            duplicate=flag_set(request, "duplicate"),
            paid_first=flag_set(request, "paid_first"),
        )
        return json_response(201, {"order": order})

    def _control_order_action(
        self, request: SimRequest, domain: str, order_id: str, action: Callable[..., dict[str, Any]]
    ) -> SimResponse:
        shop, error = self.sim.control_shop(request, domain)
        if shop is None:
            return error or json_response(401, {"errors": INVALID_TOKEN})
        try:
            order = action(domain, order_id)
        except (UnknownOrder, ValueError):
            return json_response(404, {"errors": "Not Found"})
        return json_response(200, {"order": order})

    def control_get_order(self, request: SimRequest, domain: str, order_id: str) -> SimResponse:
        def lookup(shop_domain: str, legacy_id: str) -> dict[str, Any]:
            found = self.sim.get_order(shop_domain, legacy_id)
            if found is None:
                raise UnknownOrder(legacy_id)
            return found

        return self._control_order_action(request, domain, order_id, lookup)

    def control_paid(self, request: SimRequest, domain: str, order_id: str) -> SimResponse:
        duplicate = flag_set(request, "duplicate")
        return self._control_order_action(
            request, domain, order_id, lambda d, o: self.sim.mark_paid(d, o, duplicate=duplicate)
        )

    def control_fulfilled(self, request: SimRequest, domain: str, order_id: str) -> SimResponse:
        duplicate = flag_set(request, "duplicate")
        return self._control_order_action(
            request, domain, order_id, lambda d, o: self.sim.fulfill(d, o, duplicate=duplicate)
        )

    def control_deliver(self, request: SimRequest) -> SimResponse:
        """Flush the calling shop's outbox (the token decides the shop); `?limit=N` caps the deliveries."""
        with self.sim.lock:
            shop = self.sim.authenticate(request)
        if shop is None:
            return json_response(401, {"errors": INVALID_TOKEN})
        limit_arg = request.arg("limit")
        if limit_arg is not None and not limit_arg.isdigit():
            return json_response(400, {"errors": "limit must be a non-negative integer"})
        try:
            report = self.sim.deliver(int(limit_arg) if limit_arg is not None else None, domain=shop.domain)
        except RuntimeError as exc:
            return json_response(409, {"errors": str(exc)})
        return json_response(200, report.as_dict())

    def control_create_product(self, request: SimRequest, domain: str) -> SimResponse:
        """POST a REST product (`{"product": {...}}` or the bare object); `?emit=false` skips the webhook."""
        shop, error = self.sim.control_shop(request, domain)
        if shop is None:
            return error or json_response(401, {"errors": INVALID_TOKEN})
        body = json_object(request)
        if body is None:
            return json_response(422, {"errors": {"product": ["must be a JSON object"]}})
        emit = (request.arg("emit", "true") or "").lower() not in ("0", "false", "no")
        try:
            product = self.catalog.create_product(domain, body, emit=emit)
        except (ValueError, ApiError) as exc:
            return json_response(422, {"errors": {"product": [str(exc)]}})
        return json_response(201, {"product": product})

    def control_update_product(self, request: SimRequest, domain: str, product_id: str) -> SimResponse:
        """PUT `{"product": {changes..., "variants": [{"id": ..., changes...}]}}`; listed variants change only."""
        shop, error = self.sim.control_shop(request, domain)
        if shop is None:
            return error or json_response(401, {"errors": INVALID_TOKEN})
        body = json_object(request)
        if body is None:
            return json_response(422, {"errors": {"product": ["must be a JSON object"]}})
        changes = dict(body.get("product", body))
        variants = changes.pop("variants", None) or []
        try:
            variant_changes = {int(v["id"]): {k: x for k, x in v.items() if k != "id"} for v in variants}
            product = self.catalog.update_product(domain, product_id, changes, variant_changes=variant_changes)
        except (UnknownProduct, UnknownVariant):
            return json_response(404, {"errors": "Not Found"})
        except (ValueError, KeyError, TypeError, ApiError) as exc:
            return json_response(422, {"errors": {"product": [str(exc)]}})
        return json_response(200, {"product": product})

    def control_delete_product(self, request: SimRequest, domain: str, product_id: str) -> SimResponse:
        shop, error = self.sim.control_shop(request, domain)
        if shop is None:
            return error or json_response(401, {"errors": INVALID_TOKEN})
        try:
            self.catalog.delete_product(domain, product_id)
        except UnknownProduct:
            return json_response(404, {"errors": "Not Found"})
        return json_response(200, {})
