"""Sales history: `POST /salesHistory` with `[{productId, variantId, itemNumber, date (yyyy-MM-dd), quantity}]`, at
most 500 rows a call.

Guess, agreed with the connector (the fact sheet has no sales-history endpoint; PeakWMS's forecasting reads past
sales from somewhere): the rows are checked as a whole — one bad row refuses the call naming it, nothing stored —
and a row repeated (same productId, variantId and date) replaces the earlier one, so a retried call never counts
twice (rules.history_rows_replace; off, rows are appended).
"""

from __future__ import annotations

from crossdock_local.sims.base import SimRequest, SimResponse, json_response
from crossdock_local.sims.peakwms.session import Route, Session
from crossdock_local.sims.peakwms.state import Record
from crossdock_local.sims.peakwms.wire import DATE, body_of, host_id, invalid, text, whole

MAX_ROWS = 500


def rows_of(value: object) -> list[Record]:
    if not isinstance(value, list):
        raise invalid("body", "must be a list of sales-history rows")
    if len(value) > MAX_ROWS:
        raise invalid("body", f"must hold at most {MAX_ROWS} rows")
    rows = []
    for index, raw in enumerate(value):
        where = f"[{index}]"
        if not isinstance(raw, dict):
            raise invalid(where, "must be an object")
        day = text(raw.get("date"), f"{where}.date", required=True, max_length=10) or ""
        if not DATE.match(day):
            raise invalid(f"{where}.date", "must be yyyy-MM-dd")
        rows.append(
            {
                "productId": host_id(raw.get("productId"), f"{where}.productId"),
                "variantId": host_id(raw.get("variantId"), f"{where}.variantId", required=False),
                "itemNumber": text(raw.get("itemNumber"), f"{where}.itemNumber", max_length=100),
                "date": day,
                "quantity": whole(raw.get("quantity"), f"{where}.quantity", minimum=0),
            }
        )
    return rows


def record(session: Session, rows: list[Record]) -> int:
    customer = session.customer
    for row in rows:
        if session.rules.history_rows_replace:
            customer.sales_history[(row["productId"], row["variantId"], row["date"])] = row
        else:
            customer.history_appended.append(row)
    return len(rows)


def stored(session: Session) -> list[Record]:
    customer = session.customer
    rows = [*customer.sales_history.values(), *customer.history_appended]
    return sorted(rows, key=lambda r: (r["date"], r["productId"], r["variantId"]))


def post_history(session: Session, request: SimRequest) -> SimResponse:
    rows = rows_of(body_of(request))
    return json_response(200, {"received": record(session, rows)})


ROUTES: tuple[Route, ...] = (("POST", "/salesHistory", post_history),)
