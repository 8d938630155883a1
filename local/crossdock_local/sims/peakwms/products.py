"""Products (seen P1, P2): keyed by the host's `productId` + `variantId`, PeakWMS's own int `id` beside them.

`POST /product` (answers the record with `id`), `PUT /product` (the body names the variant; only the fields it
carries change — guess), `GET /product/{productId}` (its variants), `DELETE /product/{id}` (internal id),
`GET /product/keySet`. `availableToSell`, `availableInStock` and `orderedByCustomers` are PeakWMS's figures
(stock.product_figures), never taken from the host; `createdAt`/`updatedAt` are PeakWMS's clock.
"""

from __future__ import annotations

from typing import Any

from crossdock_local.sims.base import SimRequest, SimResponse, json_response
from crossdock_local.sims.peakwms import stock
from crossdock_local.sims.peakwms.paging import keyset
from crossdock_local.sims.peakwms.session import Route, Session
from crossdock_local.sims.peakwms.state import CustomerState, Record
from crossdock_local.sims.peakwms.wire import (
    DUPLICATE_PRODUCT_CODE,
    WRONG_STATE_CODE,
    country,
    flag,
    host_id,
    invalid,
    not_found,
    number,
    object_body,
    refuse,
    render,
    text,
)

TEXTS = {"itemNumber": 100, "description": 500, "ean": 50, "brand": 200}
NUMBERS = (
    "weight",
    "netWeight",
    "length",
    "width",
    "height",
    "costPricePiece",
    "averageCostPrice",
    "salesPricePerPiece",
)


def fields_of(body: Record, creating: bool) -> Record:
    """The writable fields `body` carries, checked; a bad one is refused naming it, before anything is written."""
    chosen: Record = {}
    for name, limit in TEXTS.items():
        if name in body or (creating and name == "itemNumber"):
            chosen[name] = text(body.get(name), name, required=name == "itemNumber", max_length=limit)
    for name in NUMBERS:
        if name in body:
            chosen[name] = number(body[name], name)
    if "countryOfOrigin" in body:
        chosen["countryOfOrigin"] = country(body["countryOfOrigin"], "countryOfOrigin")
    if "lotNumberControlled" in body:
        chosen["lotNumberControlled"] = bool(flag(body["lotNumberControlled"], "lotNumberControlled"))
    if "customsTariffs" in body:
        chosen["customsTariffs"] = _listed(body["customsTariffs"], "customsTariffs", ("code",))
    if "vendors" in body:
        chosen["vendors"] = _listed(body["vendors"], "vendors", ("name", "vendorName"))
    return chosen


def _listed(value: Any, field: str, keys: tuple[str, ...]) -> list[Record]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid(field, "must be a list")
    rows = []
    for index, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise invalid(f"{field}[{index}]", "must be an object")
        rows.append({key: text(entry.get(key), f"{field}[{index}].{key}", max_length=200) for key in keys})
    return rows


def find(customer: CustomerState, product_id: str, variant_id: str) -> Record | None:
    for row in customer.variants(product_id):
        if row["variantId"] == variant_id:
            return row
    return None


def view(customer: CustomerState, row: Record) -> Record:
    return {**render(row), **stock.product_figures(customer, row["productId"], row["variantId"])}


def create(session: Session, body: Record) -> Record:
    customer = session.customer
    product_id = host_id(body.get("productId"), "productId")
    variant_id = host_id(body.get("variantId"), "variantId", required=False)
    chosen = fields_of(body, creating=True)
    if find(customer, product_id, variant_id) is not None and session.rules.refuse_duplicate_product:
        raise refuse(
            400,
            f"A product with productId {product_id} and variantId {variant_id} exists",
            DUPLICATE_PRODUCT_CODE,
            "productId",
            "variantId",
        )
    now = session.timestamp()
    row: Record = {
        "id": customer.next_id("products"),
        "productId": product_id,
        "variantId": variant_id,
        "description": None,
        "ean": None,
        "brand": None,
        "vendors": [],
        "countryOfOrigin": None,
        "customsTariffs": [],
        "weight": None,
        "netWeight": None,
        "length": None,
        "width": None,
        "height": None,
        "costPricePiece": None,
        "averageCostPrice": None,
        "salesPricePerPiece": None,
        "lotNumberControlled": False,
        **chosen,
        "createdAt": now,
        "updatedAt": now,
    }
    customer.add_product(row)
    stock.ensure_item(customer, product_id, variant_id, row["itemNumber"])
    return row


def update(session: Session, body: Record) -> Record:
    customer = session.customer
    product_id = host_id(body.get("productId"), "productId")
    variant_id = host_id(body.get("variantId"), "variantId", required=False)
    row = find(customer, product_id, variant_id)
    if row is None:
        raise not_found("product", f"{product_id}/{variant_id}")
    row.update(fields_of(body, creating=False))
    row["updatedAt"] = session.timestamp()
    for item in stock.items_of(customer, product_id, variant_id):
        item["itemNumber"] = row["itemNumber"]
    return row


# ---- the API ------------------------------------------------------------------------------------------------------


def post_product(session: Session, request: SimRequest) -> SimResponse:
    return json_response(200, view(session.customer, create(session, object_body(request))))


def put_product(session: Session, request: SimRequest) -> SimResponse:
    return json_response(200, view(session.customer, update(session, object_body(request))))


def get_product(session: Session, request: SimRequest, productId: str) -> SimResponse:
    customer = session.customer
    rows = customer.variants(productId)
    if not rows and not session.rules.unknown_product_empty_list:
        raise not_found("product", productId)
    return json_response(200, [view(customer, r) for r in rows])


def delete_product(session: Session, request: SimRequest, id: str) -> SimResponse:
    customer = session.customer
    row = customer.of("products").get(int(id)) if id.isdigit() else None
    if row is None:
        raise not_found("product", id)
    items = stock.items_of(customer, row["productId"], row["variantId"])
    wanted = sum(int(i["reservedQuantity"]) for i in items) + stock.held_demand(
        customer, row["productId"], row["variantId"]
    )
    if wanted:
        # Guess: a WMS refuses to forget an item open orders still want (the sheet does not say).
        raise refuse(400, f"Product {id} cannot be deleted: open sales orders want {wanted}", WRONG_STATE_CODE, "id")
    customer.remove_product(row)
    # Guess: its stock items go with it (a WMS would refuse with stock on the shelf; the sheet does not say).
    for item in items:
        customer.remove_stock(item)
    return SimResponse(204)


def product_key_set(session: Session, request: SimRequest) -> SimResponse:
    customer = session.customer
    return keyset(request, session.rules, customer.of("products"), lambda r: view(customer, r))


ROUTES: tuple[Route, ...] = (
    ("POST", "/product", post_product),
    ("PUT", "/product", put_product),
    ("GET", "/product/keySet", product_key_set),
    ("GET", "/product/{productId}", get_product),
    ("DELETE", "/product/{id}", delete_product),
)
