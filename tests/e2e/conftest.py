"""End-to-end fixtures: one embedded stack per module (provisioning costs seconds), one connection per test.

Each test gets its own shop and Rackbeat account, so tests cannot see each other's data — the same isolation the
product promises between merchants.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest

from crossdock.flows.poll_schedules import poll_event
from crossdock.store import events
from crossdock_local.scenarios.demo import DEMO_SKUS, demo_settings, rackbeat_stage
from crossdock_local.sims.base import Faults
from crossdock_local.sims.rackbeat.simulator import RackbeatSimulator
from crossdock_local.sims.shopify.order_generator import varied_orders
from crossdock_local.stack import LocalConnection, LocalStack

_shop_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seed=11) as running:
        yield running


@pytest.fixture(autouse=True)
def _calm_simulators(stack: LocalStack) -> Iterator[None]:
    yield
    stack.rackbeat.faults = Faults()
    stack.shopify.delivery_faults.duplicate_rate = 0.0
    stack.shopify.delivery_faults.reorder = False
    stack.shopify.delivery_faults.delay_rate = 0.0


@dataclass
class Merchant:
    """A connection under test and the ways to look at both sides of it."""

    stack: LocalStack
    connection: LocalConnection
    settings: dict[str, Any]

    @property
    def account(self) -> int:
        return self.connection.rackbeat_account_id

    def rackbeat_api(self, method: str, path: str, **kwargs: Any) -> Any:
        """Rackbeat's API as the merchant's other tools (or Rackbeat's own UI) use it."""
        response = httpx.request(
            method,
            f"{self.stack.base_url}/_sim/rackbeat/api/{path}",
            headers={"Authorization": f"Bearer {self.connection.rackbeat_api_key}"},
            timeout=10,
            **kwargs,
        )
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def shop_product(self, sku: str, available: int, **fields: Any) -> dict[str, Any]:
        """A single-variant product in the shop, created by the merchant (no webhook subscribed here)."""
        product = {
            "title": f"Product {sku}",
            "variants": [{"title": "Default Title", "sku": sku, "price": "100.00", "inventory_quantity": available}],
            **fields,
        }
        created: dict[str, Any] = self.stack.shopify.create_product(self.domain, product, emit=False)
        return created

    def shop_quantities(self, sku: str, name: str = "available") -> list[int]:
        return [int(level[name]) for level in self.stack.shopify.inventory(self.domain, sku)]

    def rackbeat_available(self, sku: str, location: str) -> int:
        rows = self.rackbeat_api("GET", f"products/{sku}/locations")["product_locations"]
        return int(Decimal(str(next(r for r in rows if r["number"] == location)["available_quantity"])))

    def book_rackbeat_order(self, sku: str, quantity: int, location: str) -> None:
        """An order booked in Rackbeat (not from the shop): it reserves stock without drawing it."""
        customer = self.stack.rackbeat.seed_customer(self.account, company_name="Phone order")
        line = {"item_id": sku, "quantity": quantity, "line_price": "100", "location_id": location}
        self.rackbeat_api("POST", "orders", json={"customer_id": customer["number"], "lines": [line]})

    def stock_webhooks(self, skus: list[str]) -> list[tuple[str, dict[str, str], bytes]]:
        """The stock webhook Rackbeat sends this connection (its account's) for each item, ready to be delivered
        again."""
        state = self.stack.rackbeat.state(self.account)
        url = self.stack.rackbeat_webhook_url(self.connection.connection_id)
        hook = next(h for h in state.webhooks.values() if h["event"] == "product.stock_changed" and h["url"] == url)
        headers = {
            "Rackbeat-Webhook-Token": hook["_token"],
            "Rackbeat-Webhook-Event": "product.stock_changed",
            "Rackbeat-Account-Id": str(self.account),
            "Content-Type": "application/json",
        }
        return [(hook["url"], headers, json.dumps({"key_name": "number", "key": sku}).encode()) for sku in skus]

    def second_shop(self) -> Merchant:
        """Another shop connected to the same Rackbeat account, with the same settings."""
        connection = self.stack.create_connection(
            self.settings, shop_domain=f"shop-{next(_shop_numbers)}.myshopify.com", rackbeat_account=self.connection
        )
        return Merchant(self.stack, connection, self.settings)

    @property
    def domain(self) -> str:
        return self.connection.shop_domain

    def order(self, index: int = 0, **changes: Any) -> dict[str, Any]:
        """A realistic DKK order (consistent totals) from the varied-order generator."""
        plan = varied_orders(index + 1, seed=5, skus=DEMO_SKUS)[index]
        return {**plan.order, **changes}

    def rackbeat_orders(self, shopify_order: dict[str, Any]) -> list[dict[str, Any]]:
        reference = f"Shopify {shopify_order['name']} ({shopify_order['id']})"
        state = self.stack.rackbeat.state(self.connection.rackbeat_account_id)
        return [o for o in state.orders.values() if o.get("other_reference") == reference]

    def only_rackbeat_order(self, shopify_order: dict[str, Any]) -> dict[str, Any]:
        found = self.rackbeat_orders(shopify_order)
        assert len(found) == 1, f"expected exactly one Rackbeat order, found {len(found)}"
        return found[0]

    def stage_of(self, rackbeat_order: dict[str, Any]) -> str:
        state = self.stack.rackbeat.state(self.connection.rackbeat_account_id)
        shipments = [s for s in state.shipments.values() if s.get("order_number") == rackbeat_order["number"]]
        invoices = [i for i in state.invoices.values() if i.get("order_number") == rackbeat_order["number"]]
        return rackbeat_stage(rackbeat_order, shipments, invoices[0] if invoices else None)

    def events(self) -> list[dict[str, Any]]:
        return events.list_events(self.stack.table, self.connection.connection_id)

    def poll(self, stream: str, *, settle: bool = False) -> dict[str, Any]:
        """One run of the connection's `stream`, as its schedule invokes the poll function; with `settle`, what it
        queued is worked off too."""
        result = self.stack.aws.invoke("PollFunction", poll_event(self.connection.connection_id, stream))
        assert result.error is None, result.error
        if settle:
            self.stack.settle()
        report: dict[str, Any] = result.payload
        return report

    def statuses(self) -> list[str]:
        return sorted(str(e["status"]) for e in self.events())

    def stock(self, sku: str) -> Decimal:
        product = self.stack.rackbeat.state(self.connection.rackbeat_account_id).products[sku]
        return Decimal(str(product["stock_quantity"]))


@pytest.fixture
def merchant_with(stack: LocalStack) -> Any:
    def create(rackbeat_seed: Callable[[RackbeatSimulator, int], object] | None = None, **settings: Any) -> Merchant:
        """A merchant with the demo settings changed by `settings` (group → values); `rackbeat_seed` adds what
        they name to the Rackbeat account before the connection is created (its references are checked then)."""
        base = demo_settings()
        for group, values in settings.items():
            base[group] = {**base.get(group, {}), **values} if isinstance(values, dict) else values
        connection = stack.create_connection(
            base, shop_domain=f"shop-{next(_shop_numbers)}.myshopify.com", rackbeat_seed=rackbeat_seed
        )
        stack.seed_items(connection.rackbeat_account_id, DEMO_SKUS)
        return Merchant(stack, connection, base)

    return create
