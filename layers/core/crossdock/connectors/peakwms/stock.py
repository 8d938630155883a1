"""Stock in PeakWMS (reference/peakwms.md "Stock"), and the sold quantities PeakWMS's purchasing reads.

[guess] the sheet has no sales-history endpoint: `POST /salesHistory` with `[{productId, variantId, itemNumber,
date (yyyy-MM-dd), quantity}]`, at most `HISTORY_BATCH` rows a call, is what the simulator and this connector agree
on. A repeated batch [guess] replaces the same (variant, day) rows rather than adding to them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from crossdock.connectors.peakwms.client import PeakwmsClient, PeakwmsNotFound
from crossdock.connectors.peakwms.shapes import SalesHistoryRow, StockLevel
from crossdock.connectors.peakwms.wire import rows

HISTORY_BATCH = 500


def stock_levels(client: PeakwmsClient) -> Iterator[StockLevel]:
    """Every stock row (`GET /stock/keySet`), lazily: [guess] one per variant, or one per variant and warehouse."""
    for record in client.key_set("stock"):
        yield StockLevel.parse(record)


def stock_of(client: PeakwmsClient, product_id: str, variant_id: str) -> StockLevel | None:
    """The variant's stock [seen P1: `GET /stock/{productId}?variantId=`]; several rows (per warehouse or lot
    [guess]) are summed; None when PeakWMS keeps no stock of it."""
    try:
        answer = client.get(f"stock/{product_id}", {"variantId": variant_id})
    except PeakwmsNotFound:
        return None
    records = [answer] if isinstance(answer, dict) and "productId" in answer else rows(answer)
    levels = [StockLevel.parse(record) for record in records]
    mine = [level for level in levels if level.variant_id in (None, variant_id) and level.product_id == product_id]
    if not mine:
        return None
    return StockLevel(
        product_id=product_id,
        variant_id=variant_id,
        item_number=next((level.item_number for level in mine if level.item_number), None),
        quantity=sum(level.quantity for level in mine),
        reserved_quantity=sum(level.reserved_quantity for level in mine),
        id=mine[0].id if len(mine) == 1 else None,
    )


def record_sales_history(client: PeakwmsClient, history: Iterable[SalesHistoryRow]) -> int:
    """Sends the rows in batches of `HISTORY_BATCH` and returns how many were sent."""
    sent, batch = 0, []
    for row in history:
        batch.append(row.body())
        if len(batch) == HISTORY_BATCH:
            client.post("salesHistory", batch)
            sent, batch = sent + len(batch), []
    if batch:
        client.post("salesHistory", batch)
        sent += len(batch)
    return sent
