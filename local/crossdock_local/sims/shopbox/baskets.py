"""Sales ("baskets"): `GET /baskets`, `GET /baskets/{uid}` and `PUT /baskets/{uid}/cancel` [seen S2, S3], and
the sale at the till (`sell`) and its later cancellation (`cancel`) that the control API makes.

What a poller has to cope with is here on purpose:
- a basket is listed only `rules.listing_delay_seconds` after it was rung up (Guess: eventual consistency), though
  its detail call answers at once;
- the list is newest first (Guess; `rules.newest_first=False` lists the oldest first) and has no date filter
  [seen S3], so rows shift between pages while sales arrive;
- list rows carry no lines; the detail call adds them under `rules.basket_lines_key` (Guess: `sales`), with the
  basket's `total`, `currency`, `customer` and `payments`;
- `page=1` sometimes answers 500 (`rules.first_page_error_rate`) [seen S3];
- a basket may later flip to `canceled: true` with a new `tstamp` [seen S3];
- a return at the till (Guess, the sheet says nothing) is a basket of negative quantities; one rung up against its
  receipt names the sale under `rules.return_reference_key` (`return_of` by default) on the detail call.
Money is integer øre including VAT: a line's `selling_price` per unit, its `discount` for the whole line (Guess),
`vat_rate` in percent (Guess).
"""

from __future__ import annotations

from typing import Any

from crossdock_local.sims.base import SimRequest, SimResponse
from crossdock_local.sims.shopbox.paging import listing
from crossdock_local.sims.shopbox.session import Route, Session
from crossdock_local.sims.shopbox.state import ClientState, Record, StockKey
from crossdock_local.sims.shopbox.wire import integer, invalid, not_found, refuse, render, single, text, uid_param

ROW_FIELDS = ("uid", "crdate", "tstamp", "canceled", "branch", "cash_register")


def sell(session: Session, body: Record) -> Record:
    """Ring up a sale at the till as `body` describes it (see docs/simulators.md, Shopbox); 422 naming the field
    when it cannot be, before anything is written."""
    client = session.tenant
    branch = integer(body.get("branch"), "branch")
    if branch not in client.branches:
        raise invalid("branch", "is not a branch of this client")
    register = integer(body.get("cash_register"), "cash_register")
    if client.registers.get(register, {}).get("branch") != branch:
        raise invalid("cash_register", "is not a cash register of the branch")
    raw_lines = body.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise invalid("lines", "must be a non-empty list")
    lines = [_line(session, client, index, line) for index, line in enumerate(raw_lines)]
    total = sum(line["quantity"] * line["selling_price"] - line["discount"] for line in lines)
    return_of = _return_of(client, body.get("return_of"), lines)
    made_at = body.get("made_at")
    if made_at is not None and (isinstance(made_at, bool) or not isinstance(made_at, int | float) or made_at < 0):
        raise invalid("made_at", "must be Unix seconds")
    crdate = session.unix_now if made_at is None else int(made_at)
    basket: Record = {
        "uid": session.next_uid(),
        "crdate": crdate,
        "tstamp": crdate,
        "canceled": False,
        "branch": branch,
        "cash_register": register,
        "total": total,
        "currency": session.rules.currency,
        "customer": _customer(session, body.get("customer")),
        "payments": _payments(body.get("payments"), total),
        "_lines": lines,
        "_return_of": return_of,
        # On the simulator's clock: when the listing shows it, however far back `made_at` says it was made.
        "_listed_at": session.clock + session.rules.listing_delay_seconds,
        "_drew_stock": session.rules.sales_draw_stock,
    }
    if basket["_drew_stock"]:
        _move_stock(session, client, basket, -1)
    client.baskets[basket["uid"]] = basket
    session.sold(client, basket, +1)
    return basket


def cancel(session: Session, client: ClientState, basket: Record) -> Record:
    """Flip a basket to `canceled` with a new `tstamp`; the stock it drew goes back (Guess). A basket cancelled
    already is refused with 422 (Guess)."""
    if basket["canceled"]:
        raise invalid("canceled", "the basket is canceled already")
    basket["canceled"] = True
    basket["tstamp"] = max(session.unix_now, basket["tstamp"] + 1)
    if basket["_drew_stock"]:
        _move_stock(session, client, basket, +1)
    session.sold(client, basket, -1)
    return basket


def _listed(session: Session, basket: Record) -> bool:
    return bool(basket["_listed_at"] <= session.clock)


def row_view(basket: Record) -> Record:
    return {name: basket[name] for name in ROW_FIELDS}


def detail_view(session: Session, basket: Record) -> Record:
    shown = render(basket)
    shown[session.rules.basket_lines_key] = render({"lines": basket["_lines"]})["lines"]
    if basket.get("_return_of") is not None:
        shown[session.rules.return_reference_key] = basket["_return_of"]
    return shown


def _return_of(client: ClientState, raw: Any, lines: list[Record]) -> int | None:
    """The sale a return basket hands back (Guess: a return is rung up against its receipt, every line negative);
    None for a sale, or for a return made without the receipt."""
    if raw is None:
        return None
    original = integer(raw, "return_of")
    if original not in client.baskets:
        raise invalid("return_of", "is not a basket of this client")
    if any(line["quantity"] > 0 for line in lines):
        raise invalid("return_of", "a return's lines must all have negative quantities")
    return original


def _line(session: Session, client: ClientState, index: int, raw: Any) -> Record:
    where = f"lines[{index}]"
    if not isinstance(raw, dict):
        raise invalid(where, "must be an object")
    product_uid = integer(raw.get("product"), f"{where}.product")
    product = client.products.get(product_uid)
    if product is None:
        raise invalid(f"{where}.product", "is not a product of this client")
    variance: Record | None = None
    if raw.get("product_variance") is not None:
        variance_uid = integer(raw["product_variance"], f"{where}.product_variance")
        variance = next((v for v in product["product_variances"] if v["uid"] == variance_uid), None)
        if variance is None:
            raise invalid(f"{where}.product_variance", "is not a variant of the product")
    elif product["product_variances"]:
        raise invalid(f"{where}.product_variance", "is required: the product has variants")
    quantity = integer(raw.get("quantity"), f"{where}.quantity")
    if quantity == 0:
        # A negative quantity is a return at the till (Guess); nothing sold is no line.
        raise invalid(f"{where}.quantity", "must not be 0")
    price = (variance or product)["selling_price"]
    if raw.get("selling_price") is not None:
        price = integer(raw["selling_price"], f"{where}.selling_price")
    discount = 0 if raw.get("discount") is None else integer(raw["discount"], f"{where}.discount", minimum=0)
    name = text(raw.get("name"), f"{where}.name") or (
        product["name"] if variance is None else f"{product['name']} - {variance['name']}"
    )
    return {
        "uid": session.next_uid(),
        "product": product_uid,
        "product_variance": None if variance is None else variance["uid"],
        "sku_code": (variance or product).get("sku_code"),
        "name": name,
        "quantity": quantity,
        "selling_price": price,
        "discount": discount,
        "vat_rate": session.rules.vat_rate,
    }


def _customer(session: Session, raw: Any) -> Record | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise invalid("customer", "must be an object or null")
    uid = raw.get("uid")
    return {
        # Guess: a customer rung up without a uid of their own is given one, as a new customer record would be.
        "uid": session.next_uid() if uid is None else integer(uid, "customer.uid"),
        "name": text(raw.get("name"), "customer.name", required=True),
        "email": text(raw.get("email"), "customer.email"),
        # Guess: the phone's key (the fact sheet names no customer fields); the client reads `phone_number` and
        # `mobile` too.
        "phone": text(raw.get("phone"), "customer.phone"),
    }


def _payments(raw: Any, total: int) -> list[Record]:
    if raw is None:
        # Guess: a sale without named payments was paid in cash, in full.
        return [{"payment_type": "cash", "amount": total}]
    if not isinstance(raw, list):
        raise invalid("payments", "must be a list")
    payments: list[Record] = []
    for index, payment in enumerate(raw):
        if not isinstance(payment, dict):
            raise invalid(f"payments[{index}]", "must be an object")
        payments.append(
            {
                "payment_type": text(payment.get("payment_type"), f"payments[{index}].payment_type", required=True),
                "amount": integer(payment.get("amount"), f"payments[{index}].amount"),
            }
        )
    return payments


def _move_stock(session: Session, client: ClientState, basket: Record, sign: int) -> None:
    for line in basket["_lines"]:
        product = client.products.get(line["product"])
        if product is None:
            continue  # deleted since the sale: its stock rows went with it
        variance = line["product_variance"] if product["inventory_on_variants"] else None
        key: StockKey = (basket["branch"], line["product"], variance)
        client.set_stock(key, client.stock(key) + sign * line["quantity"], session.next_uid)


def _list(session: Session, request: SimRequest) -> SimResponse:
    if request.arg("page") == "1" and session.roll(session.rules.first_page_error_rate):
        raise refuse(500, "Internal server error")
    baskets = [basket for basket in session.tenant.baskets.values() if _listed(session, basket)]
    # Guess: ordered by when the sale was made, a later cancellation does not move it; same second, by uid.
    baskets.sort(key=lambda basket: (basket["crdate"], basket["uid"]), reverse=session.rules.newest_first)
    return listing(request, "/baskets", baskets, session.rules, row_view)


def _find(session: Session, uid: str) -> Record:
    basket = session.tenant.baskets.get(uid_param(uid, "Basket"))
    if basket is None:
        raise not_found("Basket")
    return basket


def _get(session: Session, request: SimRequest, uid: str) -> SimResponse:
    # Guess: the detail answers as soon as the sale is made; only the listing lags.
    return single(session.rules, detail_view(session, _find(session, uid)))


def _cancel(session: Session, request: SimRequest, uid: str) -> SimResponse:
    basket = cancel(session, session.tenant, _find(session, uid))
    return single(session.rules, detail_view(session, basket))


ROUTES: list[Route] = [
    ("GET", "/baskets", _list, "client"),
    ("GET", "/baskets/{uid}", _get, "client"),
    ("PUT", "/baskets/{uid}/cancel", _cancel, "client"),
]
