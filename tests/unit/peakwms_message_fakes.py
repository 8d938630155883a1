"""A shop in the Shopify simulator and its PeakWMS customer in the PeakWMS simulator, in process, with the table in
moto: what the tests of PeakWMS's messages to the shop share (test_peakwms_message_routes.py,
test_peakwms_message_orders.py, test_peakwms_setup_messages.py).

PeakWMS's webhooks are registered by setup step 5 itself (`setup_messages.STEP`), delivered by the PeakWMS
simulator to the addresses it registered, and handed to the route as dispatch would: the event name read from the
address, the body as PeakWMS sent it. The Shopify order is Shopify's own example
(`../shared/fixtures/shopify/2025-01/order_0.json`, read in place), admitted by the simulator as a new order.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from peakwms_fakes import CUSTOMER, Warehouse
from sim_fakes import FakeClock, RecordingSink

from crossdock.connectors.peakwms.client import PeakwmsClient
from crossdock.connectors.peakwms.products import upsert_product
from crossdock.connectors.peakwms.sales_orders import create_sales_order
from crossdock.connectors.peakwms.shapes import ProductDraft, SalesOrderDraft, SalesOrderLine
from crossdock.connectors.shopify.account import ShopifyAccount
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.connectors.shopify.payments import OrderPayment, order_payment
from crossdock.integration import SetupDeps
from crossdock.integrations.peakwms_shopify import setup_messages
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyAccounts, PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.peakwms_webhooks import ROUTES
from crossdock.integrations.peakwms_shopify.settings import PeakwmsShopifySettings
from crossdock.ports import InboundEvent
from crossdock.store import mappings
from crossdock.store.outcome import Outcome
from crossdock_local.sims.base import transport
from crossdock_local.sims.shopify.simulator import ShopifySimulator

SHOP = "lagerhuset.myshopify.com"
SHOPIFY_TOKEN = "shpat_messages"
CONNECTION = "c-messages"
BASE = "https://hooks.crossdock.test"


class Secrets:
    """The connection secrets (`store.secrets.SecretStore`'s get / put) in a dict."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str] = {}

    def get(self, connection_id: str, name: str) -> str | None:
        return self.values.get((connection_id, name))

    def put(self, connection_id: str, name: str, value: str) -> None:
        self.values[(connection_id, name)] = value


@dataclass
class PollPorts:
    """The ports a PeakWMS poll (orders, packs, refunds) takes: the world's table and clients, its clock."""

    table: Any
    clients: Any
    now: Callable[[], float]
    seconds_left: Callable[[], float] = lambda: 900.0


@dataclass
class Clients:
    """`ConnectionClients` as the peakwms_shopify handlers use it: one client per system."""

    peakwms_client: PeakwmsClient
    shopify_client: ShopifyAdmin

    def peakwms(self, connection: Any) -> PeakwmsClient:
        return self.peakwms_client

    def shopify(self, connection: Any) -> ShopifyAdmin:
        return self.shopify_client


class CuttableTransport(httpx.BaseTransport):
    """The Shopify simulator's transport, where a test cuts the next call of a mutation as a dying function would:
    after Shopify committed it (the answer lost: a crash or a timeout right after the call) or before it reached
    Shopify. The client sees a transport error either way (`RetryableError`) and cannot tell which."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.cuts: list[tuple[str, bool]] = []  # (mutation name, cut after Shopify committed it)

    def cut(self, mutation: str, *, after_commit: bool) -> None:
        self.cuts.append((mutation, after_commit))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        text = request.read().decode()
        for index, (mutation, after_commit) in enumerate(self.cuts):
            if mutation in text:
                del self.cuts[index]
                if not after_commit:
                    raise httpx.ConnectError("simulated: the function died before the call", request=request)
                self.inner.handle_request(request)
                raise httpx.ReadError("simulated: Shopify committed, the function died", request=request)
        return self.inner.handle_request(request)


@dataclass
class Ports:
    table: Any
    clients: Clients
    secrets: Any = None
    send_outbound: Any = None
    schedules: Any = None
    now: Any = field(default=lambda: 0.0)

    def start_workflow(self, *args: Any) -> Outcome:
        raise AssertionError("no workflow is started by the peakwms_shopify routes")


@dataclass
class World:
    shopify_sim: ShopifySimulator
    warehouse: Warehouse
    ports: Ports
    template: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)
    handled: int = 0
    shopify_transport: CuttableTransport | None = None

    def cut_shopify(self, mutation: str, *, after_commit: bool) -> None:
        """The next `mutation` call of the handlers dies, after Shopify committed it or before it was sent."""
        assert self.shopify_transport is not None
        self.shopify_transport.cut(mutation, after_commit=after_commit)

    # ---- the connection and its webhooks ----------------------------------------------------------------------

    def connection(self, **settings: Any) -> PeakwmsShopifyConnection:
        chosen = {"shop_name": "Lagerhuset", "country": "DK", **self.settings, **settings}
        return PeakwmsShopifyConnection(
            id=CONNECTION,
            accounts=PeakwmsShopifyAccounts(
                peakwms=self.warehouse.client().account, shopify=ShopifyAccount(shop_domain=SHOP)
            ),
            settings=PeakwmsShopifySettings.model_validate(chosen),
        )

    def deps(self) -> SetupDeps:
        return SetupDeps(self.ports.table, self.ports.clients, self.ports.secrets, lambda: "", BASE)

    def run_messages_step(self, **settings: Any) -> Any:
        return setup_messages.STEP.run_chunk(self.connection(**settings), self.deps(), {})

    def delivered(self) -> list[tuple[str, dict[str, Any]]]:
        """What PeakWMS sends now, to this connection's addresses: (event name, body), in sending order."""
        start = len(self.warehouse.sink)
        self.warehouse.sim.deliver()
        found = []
        for url, _headers, body in self.warehouse.sink[start:]:
            path = urlsplit(url).path
            if f"/webhooks/peakwms/{CONNECTION}/" in path:
                found.append((path.rsplit("/", 1)[-1], json.loads(body)))
        return found

    def of(self, name: str) -> list[dict[str, Any]]:
        return [body for event, body in self.delivered() if event == name]

    def handle(
        self, name: str, body: dict[str, Any], *, sk: str | None = None, redrive: str | None = None, **settings: Any
    ) -> Outcome:
        """The message as dispatch hands it to the route (each call its own event, unless `sk` names the event a
        retry repeats; `redrive` as a sweep's message carries it)."""
        self.handled += 1
        inbound = InboundEvent(
            self.connection(**settings),
            "peakwms",
            f"peakwms/{name}",
            json.dumps(body),
            sk or f"EVT#2026-12-07T12:00:00.000000Z#{name}:{self.handled}",
            "2026-12-07T12:00:00.000000Z",
            redrive,
        )
        (route,) = [route for route in ROUTES if inbound.topic in route.topics]
        return route.handle(inbound, self.ports)

    # ---- the shop and the warehouse -----------------------------------------------------------------------------

    def product(self, sku: str, available: int = 0) -> dict[str, Any]:
        """A Shopify product of one tracked variant with `sku`, and its PeakWMS product (the main shop's ids)."""
        made = self.shopify_sim.create_product(
            SHOP, {"title": f"Mug {sku}", "variants": [{"sku": sku, "inventory_quantity": available}]}, emit=False
        )
        variant = made["variants"][0]
        upsert_product(
            self.peakwms,
            ProductDraft(product_id=str(made["id"]), variant_id=str(variant["id"]), item_number=sku),
        )
        return variant

    def available(self, sku: str) -> int:
        (level,) = self.shopify_sim.inventory(SHOP, sku)
        return int(level["available"])

    def new_order(self, *, authorized: bool = False, paid: bool = False) -> dict[str, Any]:
        """The fixture order admitted as a new, unfulfilled order (its ids assigned by the simulator)."""
        order = json.loads(json.dumps(self.template))
        order.update(financial_status="pending", cancelled_at=None, cancel_reason=None, refunds=[], fulfillments=[])
        order.update(fulfillment_status=None, closed_at=None)
        for item in order["line_items"]:
            item.update(current_quantity=item["quantity"], fulfillable_quantity=item["quantity"])
        return self.shopify_sim.create_order(SHOP, order, paid=paid, authorized=authorized)

    def in_peakwms(self, order: dict[str, Any], quantities: dict[int, int] | None = None) -> None:
        """The order as a PeakWMS sales order (what the order routes make of it), every line in stock: released."""
        lines = []
        for index, item in enumerate(order["line_items"]):
            draft = ProductDraft(
                product_id=str(item["product_id"]), variant_id=str(item["variant_id"]), item_number=item["sku"]
            )
            upsert_product(self.peakwms, draft)
            quantity = (quantities or {}).get(index, int(item["quantity"]))
            lines.append(
                SalesOrderLine(str(item["id"]), draft.product_id, draft.variant_id, quantity, sales_price_piece=None)
            )
            self.warehouse.sim.receive_stock(CUSTOMER, draft.product_id, draft.variant_id, quantity)
        draft_order = SalesOrderDraft(
            order_id=str(order["id"]),
            order_number=str(order["name"]),
            lines=tuple(lines),
            total_sales_price=None,
        )
        made, _ = create_sales_order(self.peakwms, draft_order)
        # The binding the order routes leave (`order_binding`): the order is this shop's.
        mappings.put_mapping(self.ports.table, CONNECTION, "order", "shopify", str(order["id"]), made.id or "")
        self.delivered()  # the stock arrivals' messages, not this test's

    def pack(self, order: dict[str, Any], lines: dict[int, int] | None = None, **fields: Any) -> dict[str, Any]:
        """PeakWMS packs a pick order (of line index → quantity, or everything left); its 102 as sent."""
        chosen = None
        if lines is not None:
            chosen = {str(order["line_items"][index]["id"]): quantity for index, quantity in lines.items()}
        self.warehouse.sim.pack(CUSTOMER, str(order["id"]), chosen, **fields)
        (packed,) = self.of("pick_order_packed")
        return packed

    def payment(self, order: dict[str, Any]) -> OrderPayment:
        return order_payment(self.peakwms_shopify, order["id"])

    def captures(self, order: dict[str, Any]) -> list[Any]:
        return [t for t in self.payment(order).transactions if t.kind == "CAPTURE" and t.succeeded]

    def shopify_order(self, order: dict[str, Any]) -> dict[str, Any]:
        found = self.shopify_sim.get_order(SHOP, order["id"])
        assert found is not None
        return found

    def fulfilled(self, order: dict[str, Any]) -> dict[str, int]:
        """Shopify line item id → units fulfilled, from the order's REST fulfilments."""
        units: dict[str, int] = {}
        for fulfilment in self.shopify_order(order).get("fulfillments") or []:
            for item in fulfilment["line_items"]:
                units[str(item["id"])] = units.get(str(item["id"]), 0) + int(item["quantity"])
        return units

    @property
    def peakwms(self) -> PeakwmsClient:
        return self.ports.clients.peakwms_client

    @property
    def peakwms_shopify(self) -> ShopifyAdmin:
        return self.ports.clients.shopify_client


def make_world(table: Any, template: dict[str, Any]) -> World:
    warehouse = Warehouse()
    shopify_sim = ShopifySimulator(clock=FakeClock(), webhook_sink=RecordingSink(), seed=16)
    shopify_sim.add_shop(SHOP, "shpss_messages", SHOPIFY_TOKEN)
    cuttable = CuttableTransport(transport(shopify_sim))
    shopify = ShopifyAdmin(f"https://{SHOP}", SHOP, SHOPIFY_TOKEN, transport=cuttable)
    ports = Ports(table, Clients(warehouse.client(), shopify), Secrets())
    every = {"messages": {name: True for name in setup_messages.MESSAGE_EVENTS}}
    world = World(shopify_sim, warehouse, ports, template, settings=every, shopify_transport=cuttable)
    world.run_messages_step()
    return world


def make_dispatched_world(table: Any, template: dict[str, Any]) -> World:
    """`make_world` for tests that run messages as dispatch does: dispatch's clock is the simulators' here."""
    made = make_world(table, template)
    made.ports.now = lambda: made.shopify_sim.clock.now
    return made
