"""Stock per branch: `GET /product-inventories?branch=<uid>` and `POST /product-inventories` [seen S2].

A row is `{uid, branch, product, product_variance, sku_code, quantity}`, one per (branch, product, variance). A
POST sets the absolute quantity (Guess; `rules.inventory_delta` makes it add the quantity instead: the client
re-reads after writing, so either works). Guess: a product with `inventory_on_variants` keeps stock per variant
(`product_variance` required), any other on the product itself (`product_variance` null). The page size is
`num_per_page` here [seen S2]; `per-page` is read too, as the client sends both.
"""

from __future__ import annotations

from crossdock_local.sims.base import SimRequest, SimResponse
from crossdock_local.sims.shopbox.paging import listing
from crossdock_local.sims.shopbox.session import Route, Session
from crossdock_local.sims.shopbox.state import ClientState, Record, StockKey
from crossdock_local.sims.shopbox.wire import body_of, integer, invalid, single, text

PAGE_SIZE_NAMES = ("num_per_page", "per-page")


def stock_key(client: ClientState, branch: object, product: object, variance: object) -> StockKey:
    """The checked (branch, product, variance) a stock write or a sale names; 422 naming the wrong field."""
    branch_uid = integer(branch, "branch")
    if branch_uid not in client.branches:
        raise invalid("branch", "is not a branch of this client")
    product_uid = integer(product, "product")
    found = client.products.get(product_uid)
    if found is None:
        raise invalid("product", "is not a product of this client")
    if variance is None:
        if found["inventory_on_variants"]:
            raise invalid("product_variance", "is required: the product keeps its stock per variant")
        return branch_uid, product_uid, None
    variance_uid = integer(variance, "product_variance")
    if variance_uid not in {v["uid"] for v in found["product_variances"]}:
        raise invalid("product_variance", "is not a variant of the product")
    if not found["inventory_on_variants"]:
        raise invalid("product_variance", "must be null: the product keeps its stock on the product")
    return branch_uid, product_uid, variance_uid


def _list(session: Session, request: SimRequest) -> SimResponse:
    client = session.tenant
    rows = list(client.inventories.values())
    raw_branch = request.arg("branch")
    if raw_branch:
        # Guess: a filter naming no branch of the client is refused rather than answered with nothing.
        if not raw_branch.isdigit() or int(raw_branch) not in client.branches:
            raise invalid("branch", "is not a branch of this client")
        rows = [row for row in rows if row["branch"] == int(raw_branch)]
    rows.sort(key=lambda row: row["uid"])
    return listing(request, "/product-inventories", rows, session.rules, names=PAGE_SIZE_NAMES)


def _set(session: Session, request: SimRequest) -> SimResponse:
    client = session.tenant
    body = body_of(request)
    key = stock_key(client, body.get("branch"), body.get("product"), body.get("product_variance"))
    quantity = integer(body.get("quantity"), "quantity")
    text(body.get("note"), "note")
    if session.rules.inventory_delta:
        quantity += client.stock(key)
    row: Record = client.set_stock(key, quantity, session.next_uid)
    # Guess: the write answers 201 with the row as it now is (the client re-reads anyway).
    return single(session.rules, row, 201)


ROUTES: list[Route] = [
    ("GET", "/product-inventories", _list, "client"),
    ("POST", "/product-inventories", _set, "client"),
]
