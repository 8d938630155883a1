"""Guided setup step 2, `customs_and_cost` (optional; SPEC §4 step 2; docs/peakwms.md "Customs and cost"): the HS
code, country of origin and cost per item of each variant, from its Shopify inventory item, onto its PeakWMS product
(`customsTariffs[{code}]`, `countryOfOrigin`, `costPricePiece`).

One bulk export of the variants with their inventory items (`catalog_export.CUSTOMS_FOR_WAREHOUSE`: a handful of
Shopify calls for any catalogue), then `CHUNK` variants a chunk from the saved line offset. Only what Shopify has
is sent, and only to a product PeakWMS holds already (step 1 made them): the update carries just these fields, which
PeakWMS changes alone ([guess] `PUT /product` is partial), so a description or EAN written since stays. A variant
with none of the three facts costs no call. The main shop's products carry them: in another shop the step has
nothing to do (its variants are the main shop's products).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from crossdock.connectors.peakwms import products as peak_products
from crossdock.connectors.peakwms.shapes import ProductDraft
from crossdock.connectors.shopify import catalog_export
from crossdock.connectors.shopify.catalog_export import CustomsFacts
from crossdock.errors import PermanentError
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.product_writes import Tally
from crossdock.integrations.peakwms_shopify.setup import SetupDeps, StepChunk
from crossdock.integrations.peakwms_shopify.setup_exports import follow_export

CHUNK = 200


class CustomsAndCost:
    name: str = "customs_and_cost"
    title: str = "Customs info and cost prices"
    optional: bool = True

    def run_chunk(self, connection: PeakwmsShopifyConnection, deps: SetupDeps, state: dict[str, Any]) -> StepChunk:
        if not connection.settings.main_shop:
            note = "not the main shop: its variants are the main shop's PeakWMS products, which carry customs and cost"
            return StepChunk(True, 0, 0, state, note)
        if state.get("phase") != "import":
            shopify = deps.clients.shopify(connection)
            state, operation = follow_export(shopify, state, catalog_export.CUSTOMS_FOR_WAREHOUSE, "customs export")
            if operation is None:
                return StepChunk(False, 0, None, state, "Shopify is exporting the inventory items")
            total = operation.root_objects
            state = {**state, "phase": "import", "url": operation.url, "total": total, "done": 0}
            return StepChunk(total == 0, 0, total, state, f"Shopify exported {total} inventory items")
        done, total = int(state.get("done") or 0), int(state.get("total") or 0)
        chunk = [catalog_export.customs_of(line) for line in catalog_export.lines(str(state["url"]), done, CHUNK)]
        tally = Tally.of(state.get("tally"))
        tally.add(_write(connection, deps, chunk))
        done = min(total, done + len(chunk)) if chunk else total
        state = {**state, "done": done, "tally": tally.saved()}
        return StepChunk(done >= total, done, total, state, tally.summary())


def _write(connection: PeakwmsShopifyConnection, deps: SetupDeps, chunk: list[CustomsFacts]) -> Tally:
    tally = Tally()
    client = deps.clients.peakwms(connection)
    by_product: dict[str, list[CustomsFacts]] = defaultdict(list)
    for facts in chunk:
        if facts.empty:
            continue
        by_product[facts.product_id].append(facts)
    for product_id, variants in by_product.items():
        in_peakwms = {p.key: p for p in peak_products.product_variants(client, product_id)}
        for facts in variants:
            if (product_id, facts.variant_id) not in in_peakwms:
                tally.note("missing", f"{facts.variant_id} ({facts.sku or 'no SKU'})")
                continue
            draft = ProductDraft(
                product_id=product_id,
                variant_id=facts.variant_id,
                country_of_origin=facts.country_of_origin,
                customs_tariff=facts.harmonized_system_code,
                cost_price_piece=facts.cost,
            )
            try:
                peak_products.upsert_product(client, draft, known=in_peakwms)
            except PermanentError as refused:
                tally.note("refused", f"{facts.variant_id}: {refused.reason}")
                continue
            tally.updated += 1
    return tally


STEP = CustomsAndCost()
