"""Products in PeakWMS (reference/peakwms.md "Products"): one record per host variant, keyed by `productId` +
`variantId`; PeakWMS's internal `id` is used only to delete and to page.

Idempotency: `upsert_product` looks the variant up before it creates, and a refused create that a re-read explains
([guess] a duplicate POST is a 400 with an errorCode) is adopted and updated instead — a retried upsert never makes
two. A caller that has listed the whole catalogue (`products`) hands the listing in as `known` and saves the look-up
call per variant (30,000 variants: 120 list calls instead of 30,000 look-ups), and a variant PeakWMS already holds
as the draft says is not written again (a fetch resumed after a crash rewrites nothing it wrote before).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from crossdock.connectors.peakwms.client import PeakwmsClient, PeakwmsNotFound, PeakwmsRejected
from crossdock.connectors.peakwms.shapes import PeakProduct, ProductDraft, product_body
from crossdock.connectors.peakwms.wire import rows

ProductKey = tuple[str, str | None]  # (productId, variantId)


def products(client: PeakwmsClient) -> Iterator[PeakProduct]:
    """Every product variant in PeakWMS (`GET /product/keySet`), lazily."""
    for record in client.key_set("product"):
        yield PeakProduct.parse(record)


def product_variants(client: PeakwmsClient, product_id: str) -> list[PeakProduct]:
    """The variants PeakWMS holds of a host product [seen P1: `GET /product/{productId}` lists them]; none when it
    has none ([guess] a 404, or an empty list)."""
    try:
        answer = client.get(f"product/{product_id}")
    except PeakwmsNotFound:
        return []
    records = [answer] if isinstance(answer, dict) and "productId" in answer else rows(answer)
    return [PeakProduct.parse(record) for record in records if str(record.get("productId", "")) == product_id]


def find_product(client: PeakwmsClient, product_id: str, variant_id: str) -> PeakProduct | None:
    for found in product_variants(client, product_id):
        if found.variant_id == variant_id:
            return found
    return None


def upsert_product(
    client: PeakwmsClient, draft: ProductDraft, *, known: Mapping[ProductKey, PeakProduct] | None = None
) -> tuple[PeakProduct, bool]:
    """The variant in PeakWMS as `draft` says, and whether this call created it.

    `known`: the caller's listing of PeakWMS's products; a variant not in it is created without a look-up (a
    listing is at most as old as the caller's run, and a create that meets a record made since is adopted)."""
    key = (draft.product_id, draft.variant_id)
    existing = known.get(key) if known is not None else find_product(client, draft.product_id, draft.variant_id)
    if existing is not None:
        if holds(existing, draft):
            return existing, False  # nothing to write: a re-run after a crash costs no call per unchanged variant
        return _update(client, draft, existing), False
    try:
        answer = client.post("product", product_body(draft))
    except PeakwmsRejected as refused:
        if isinstance(refused, PeakwmsNotFound):
            raise
        adopted = find_product(client, draft.product_id, draft.variant_id)
        if adopted is None:
            raise
        return _update(client, draft, adopted), False
    return _parsed_or(answer, draft, None), True


def holds(existing: PeakProduct, draft: ProductDraft) -> bool:
    """Whether PeakWMS's record already says everything the draft sets (what the draft leaves unset is not
    compared: a PUT would not change it either)."""
    wanted: list[tuple[object, object]] = [
        (draft.item_number, existing.item_number),
        (draft.description, existing.description),
        (draft.ean, existing.ean),
        (draft.brand, existing.brand),
        (draft.country_of_origin, existing.country_of_origin),
        (draft.weight, existing.weight),
        (draft.cost_price_piece, existing.cost_price_piece),
        (draft.sales_price_per_piece, existing.sales_price_per_piece),
    ]
    if any(mine is not None and mine != theirs for mine, theirs in wanted):
        return False
    if draft.customs_tariff is not None and existing.customs_tariffs != (draft.customs_tariff,):
        return False
    return not draft.vendors or existing.vendors == draft.vendors


def _update(client: PeakwmsClient, draft: ProductDraft, existing: PeakProduct) -> PeakProduct:
    # [seen P1] `PUT /product`: the body names the variant (productId + variantId); the internal id is sent too.
    answer = client.put("product", product_body(draft, existing.id))
    return _parsed_or(answer, draft, existing.id)


def _parsed_or(answer: object, draft: ProductDraft, internal_id: str | None) -> PeakProduct:
    """The record PeakWMS answered with, or ([guess] an empty answer) the draft as PeakWMS now holds it."""
    if isinstance(answer, dict) and answer.get("productId") is not None:
        return PeakProduct.parse(answer)
    return PeakProduct.parse({**product_body(draft), "id": internal_id})


def delete_product(client: PeakwmsClient, product_id: str, variant_id: str) -> bool:
    """Removes the variant; False when PeakWMS had none (a repeat of the same delete)."""
    found = find_product(client, product_id, variant_id)
    if found is None or found.id is None:
        return False
    try:
        client.delete(f"product/{found.id}")
    except PeakwmsNotFound:
        return False
    return True
