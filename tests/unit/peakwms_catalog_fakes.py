"""A shop or two in the Shopify simulator and a PeakWMS customer in the PeakWMS simulator, in process, on one clock
that moves only when slept on: what the tests of the peakwms_shopify catalogue steps and product webhooks share
(test_peakwms_setup_products.py, test_peakwms_product_webhooks.py, test_peakwms_setup_customs.py,
test_peakwms_setup_history.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from peakwms_fakes import CUSTOMER, StoppedClock, Warehouse

from crossdock import pacing
from crossdock.connectors.peakwms.account import PeakwmsAccount
from crossdock.connectors.peakwms.client import PeakwmsClient
from crossdock.connectors.shopify import bulk_export
from crossdock.connectors.shopify.account import ShopifyAccount
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.integration import SetupDeps, SetupStep, StepChunk
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyAccounts, PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.settings import PeakwmsShopifySettings
from crossdock_local.sims.base.transport import transport
from crossdock_local.sims.shopify.simulator import ShopifySimulator

MAIN = "nordisk-hjem.myshopify.com"
OTHER = "nordisk-hjem-se.myshopify.com"
TOKENS = {MAIN: "shpat_main", OTHER: "shpat_other"}
BULK_HOST = "https://storage.shopify.test"
WEBHOOK_BASE = "https://hooks.crossdock.test"


@dataclass
class Systems:
    """Both simulators, their clients, and the connections of the shops."""

    clock: StoppedClock = field(default_factory=StoppedClock)

    def __post_init__(self) -> None:
        self.warehouse = Warehouse(clock=self.clock)
        self.shopify = ShopifySimulator(clock=self.clock.monotonic, seed=3, bulk_duration=12.0)
        self.shopify.public_url = BULK_HOST
        for shop, token in TOKENS.items():
            self.shopify.add_shop(shop, f"secret-{shop}", token)
        self.shopify_http = transport(self.shopify)
        self._admins: dict[str, ShopifyAdmin] = {}
        self.peakwms_client: PeakwmsClient = self.warehouse.client()

    def connection(self, shop: str = MAIN, **settings: Any) -> PeakwmsShopifyConnection:
        main = shop == MAIN
        return PeakwmsShopifyConnection(
            id=f"c-{shop.split('.')[0]}",
            accounts=PeakwmsShopifyAccounts(
                peakwms=PeakwmsAccount(account=CUSTOMER, api_base="https://api.peakwms.test"),
                shopify=ShopifyAccount(shop_domain=shop, api_base=f"https://{shop}"),
            ),
            settings=PeakwmsShopifySettings.model_validate(
                {"shop_name": shop.split(".")[0], "country": "DK", "main_shop": main, **settings}
            ),
        )

    # ConnectionClients' two methods the steps use
    def shopify_admin(self, connection: PeakwmsShopifyConnection) -> ShopifyAdmin:
        shop = connection.shop_domain
        if shop not in self._admins:
            self._admins[shop] = ShopifyAdmin(f"https://{shop}", shop, TOKENS[shop], transport=self.shopify_http)
        return self._admins[shop]

    def deps(self, table: Any) -> SetupDeps:
        return SetupDeps(
            table=table,
            clients=Clients(self),
            secrets=None,
            now_text=lambda: self.shopify.now().isoformat(timespec="seconds"),
            webhook_base_url=WEBHOOK_BASE,
        )

    def peak_products(self) -> dict[tuple[str, str], dict[str, Any]]:
        return {(p["productId"], p["variantId"]): p for p in self.warehouse.sim.products(CUSTOMER)}


@dataclass
class Clients:
    systems: Systems

    def shopify(self, connection: PeakwmsShopifyConnection) -> ShopifyAdmin:
        return self.systems.shopify_admin(connection)

    def peakwms(self, connection: PeakwmsShopifyConnection) -> PeakwmsClient:
        return self.systems.peakwms_client


def started(monkeypatch: pytest.MonkeyPatch) -> Systems:
    """The systems, with the steps waiting on their clock and downloading bulk results from the simulator."""
    made = Systems()
    monkeypatch.setattr(pacing, "clock", made.clock)
    monkeypatch.setattr(bulk_export, "transport", made.shopify_http)
    # Each test's simulator hands out the same result URLs (its ids follow its seed): none is taken as downloaded.
    monkeypatch.setattr(bulk_export, "_FILES", {})
    return made


def run_to_end(
    step: SetupStep, connection: PeakwmsShopifyConnection, deps: SetupDeps, state: dict[str, Any] | None = None
) -> tuple[StepChunk, list[StepChunk]]:
    """Chunks from `state` until one says finished, as the runner does; the last chunk and all of them."""
    chunks: list[StepChunk] = []
    current = dict(state or {})
    for _ in range(1000):
        chunk = step.run_chunk(connection, deps, current)
        chunks.append(chunk)
        current = chunk.state
        if chunk.finished:
            return chunk, chunks
    raise AssertionError("the step never finished")
