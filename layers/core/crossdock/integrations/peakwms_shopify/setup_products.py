"""Guided setup step 1, `fetch_products` (SPEC §4 step 1; docs/peakwms.md "Products"): every Shopify product and
variant into PeakWMS, then the product webhooks that keep PeakWMS current.

The catalogue is read as one Shopify bulk export (`catalog_export`: a line per variant), so reading 30,000
variants costs a handful of Shopify calls; the PeakWMS writes are what takes time (240 calls a minute). Each chunk
(`run_chunk`) does one phase's work of about a minute and returns its position, which the runner stores:

1. `webhooks`: `products/create|update|delete` subscribed at `/webhooks/peakwms_shopify/shopify`. First, not last as
   the seed's wording has it: a product changed while the export is read then reaches PeakWMS by its webhook, and
   the product's version guard (`product_map`) keeps the older export line from overwriting it; subscribed after
   the export, such a change would be lost until the product changed again.
2. `export`: the bulk export started, then followed until done (`setup_exports`).
3. `import`: `CHUNK` variants a chunk from the saved line offset, grouped by product; the main shop writes them
   (`product_writes.write_main_product`), another shop binds them to the main shop's products by SKU
   (`match_variants`). A crash re-runs at most the chunk it was in: writes look before they create.
Progress is variants done / total; the variants without SKU, without a match or refused are counted and the
first `product_writes.LISTED` of each named.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from crossdock.connectors.peakwms import products as peak_products
from crossdock.connectors.shopify import catalog_export, webhook_subscriptions
from crossdock.connectors.shopify.catalog_export import CatalogVariant
from crossdock.connectors.shopify.webhooks import PRODUCT_TOPICS
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.product_writes import Tally, match_variants, write_main_product
from crossdock.integrations.peakwms_shopify.setup import SetupDeps, StepChunk
from crossdock.integrations.peakwms_shopify.setup_exports import follow_export

CHUNK = 200  # variants a chunk: ~50 s of PeakWMS writes at 240 calls a minute
TOPICS = tuple(sorted(PRODUCT_TOPICS))


def shopify_webhook_uri(webhook_base_url: str) -> str:
    """Where this kind's Shopify webhooks arrive (template.yaml `/webhooks/{kind}/{source}`)."""
    return f"{webhook_base_url.rstrip('/')}/webhooks/peakwms_shopify/shopify"


class FetchProducts:
    name: str = "fetch_products"
    title: str = "Fetch products"
    optional: bool = False

    def run_chunk(self, connection: PeakwmsShopifyConnection, deps: SetupDeps, state: dict[str, Any]) -> StepChunk:
        phase = state.get("phase") or "webhooks"
        if phase == "webhooks":
            return self._subscribe(connection, deps, state)
        if phase == "export":
            return self._export(connection, deps, state)
        return self._import(connection, deps, state)

    def _subscribe(self, connection: PeakwmsShopifyConnection, deps: SetupDeps, state: dict[str, Any]) -> StepChunk:
        shopify = deps.clients.shopify(connection)
        created = webhook_subscriptions.subscribe_missing(shopify, shopify_webhook_uri(deps.webhook_base_url), TOPICS)
        note = f"subscribed {', '.join(created)}" if created else "product webhooks already subscribed"
        return StepChunk(False, 0, None, {**state, "phase": "export", "webhooks": list(TOPICS)}, note)

    def _export(self, connection: PeakwmsShopifyConnection, deps: SetupDeps, state: dict[str, Any]) -> StepChunk:
        shopify = deps.clients.shopify(connection)
        query = catalog_export.CATALOG_FOR_WAREHOUSE
        state, operation = follow_export(shopify, state, query, "catalogue export")
        if operation is None:
            return StepChunk(False, 0, None, state, "Shopify is exporting the catalogue")
        total = operation.root_objects
        state = {**state, "phase": "import", "url": operation.url, "total": total, "done": 0}
        return StepChunk(total == 0, 0, total, state, f"Shopify exported {total} variants")

    def _import(self, connection: PeakwmsShopifyConnection, deps: SetupDeps, state: dict[str, Any]) -> StepChunk:
        done, total = int(state.get("done") or 0), int(state.get("total") or 0)
        chunk = list(catalog_export.variants(str(state.get("url") or ""), done, CHUNK))
        tally = Tally.of(state.get("tally"))
        if connection.settings.main_shop:
            client = deps.clients.peakwms(connection)
            if "peakwms_empty" not in state:  # asked once, when the import begins: one call
                state = {**state, "peakwms_empty": next(iter(peak_products.products(client)), None) is None}
            for product_id, variants in _by_product(chunk).items():
                updated_at = variants[0].product_updated_at
                written = write_main_product(
                    connection,
                    client,
                    deps.table,
                    product_id,
                    updated_at,
                    variants,
                    complete=False,
                    peakwms_empty=bool(state["peakwms_empty"]),
                )
                tally.add(written)
        else:
            tally.add(match_variants(connection, deps.table, chunk))
        done = min(total, done + len(chunk)) if chunk else total
        state = {**state, "done": done, "tally": tally.saved()}
        return StepChunk(done >= total, done, total, state, tally.summary())


def _by_product(chunk: list[CatalogVariant]) -> dict[str, list[CatalogVariant]]:
    grouped: dict[str, list[CatalogVariant]] = defaultdict(list)
    for variant in chunk:
        grouped[variant.product_id].append(variant)
    return grouped


STEP = FetchProducts()
