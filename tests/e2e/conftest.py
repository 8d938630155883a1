"""End-to-end fixtures: one embedded stack per module (provisioning costs seconds), one connection per test.

Each test gets its own shop and Rackbeat account, so tests cannot see each other's data — the same isolation the
product promises between merchants.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from crossdock.store import events
from crossdock_local.demo import DEMO_SKUS, demo_settings, rackbeat_stage
from crossdock_local.sims.base import Faults
from crossdock_local.sims.shopify_orders import varied_orders
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

    def statuses(self) -> list[str]:
        return sorted(str(e["status"]) for e in self.events())

    def stock(self, sku: str) -> Decimal:
        product = self.stack.rackbeat.state(self.connection.rackbeat_account_id).products[sku]
        return Decimal(str(product["stock_quantity"]))


@pytest.fixture
def merchant_with(stack: LocalStack) -> Any:
    def create(**settings: Any) -> Merchant:
        base = demo_settings()
        for group, values in settings.items():
            base[group] = {**base.get(group, {}), **values} if isinstance(values, dict) else values
        connection = stack.create_connection(base, shop_domain=f"shop-{next(_shop_numbers)}.myshopify.com")
        stack.seed_items(connection.rackbeat_account_id, DEMO_SKUS)
        return Merchant(stack, connection)

    return create
