"""The warehouses a PeakWMS customer has, as far as its integration API tells: it lists none (reference/peakwms.md
has no warehouse endpoint), but its stock movement log names the warehouse of every movement (`GET /stockAction`,
`warehouseName`, seen P3). A warehouse with no movement in the window read is not known here.

The log is read from `since` in keyset order (`lastId`, as the other lists), at most `max_pages` pages: a setting's
drop-down must not spend minutes of the customer's 240 calls a minute on a busy warehouse's log.
"""

from __future__ import annotations

from datetime import datetime

from crossdock.connectors.peakwms import wire
from crossdock.connectors.peakwms.client import MAX_PAGE_SIZE, PeakwmsClient

# [seen P3] the movement log's time filters are `yyyy-MM-ddTHH:mm:ss`.
LOG_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
MAX_LOG_PAGES = 4


def warehouses_in_stock_log(client: PeakwmsClient, since: datetime, *, max_pages: int = MAX_LOG_PAGES) -> list[str]:
    """The warehouse names the stock movements since `since` name, each once, in the order first seen."""
    seen: dict[str, None] = {}
    last: int | None = None
    for _ in range(max(1, max_pages)):
        query: dict[str, object] = {"fromTime": since.strftime(LOG_TIME_FORMAT), "pageSize": MAX_PAGE_SIZE}
        if last is not None:
            query["lastId"] = last
        page = wire.rows(client.get("stockAction", query))
        for row in page:
            name = str(row.get("warehouseName") or "").strip()
            if name:
                seen.setdefault(name)
        ids = [found for found in (wire.whole(row.get("id")) for row in page) if found is not None]
        if len(page) < MAX_PAGE_SIZE or not ids or (last is not None and max(ids) <= last):
            break
        last = max(ids)
    return list(seen)
