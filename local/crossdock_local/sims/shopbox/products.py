"""Products and their variants (`product_variances`): `GET /products`, `GET /products/{uid}` and the upsert
`POST /products/create-or-update` [seen S2, body seen S6].

Money is integer øre, VAT included [seen S6]. The upsert: `uid` null (or absent) creates a product, a known `uid`
updates the fields the body carries, an unknown one is 404 (Guess). Variants come in as `variants: [{uid?, name,
sku_code, code, selling_price}]` and go out as `product_variances` with their own uids. When `variants` is given
on an update it is the product's whole list (Guess): a variant is matched by its `uid`, else by its `sku_code`
(Guess: so a create-or-update sent again after a lost answer does not double the variants), else it is new, and
an existing variance the list leaves out is removed with its stock. The whole body is checked before anything is
written, so a refusal leaves the product as it was.
"""

from __future__ import annotations

from crossdock_local.sims.base import SimRequest, SimResponse
from crossdock_local.sims.shopbox.paging import listing
from crossdock_local.sims.shopbox.session import Route, Session
from crossdock_local.sims.shopbox.state import ClientState, Record
from crossdock_local.sims.shopbox.wire import body_of, integer, invalid, not_found, single, text, uid_param

TEXT_FIELDS = ("code", "sku_code", "integration_number", "integration_type")
PRICE_FIELDS = ("selling_price", "stock_price")


def upsert(session: Session, body: Record) -> tuple[Record, bool]:
    """Create or update the product `body` describes: (the product, whether it was created)."""
    client = session.tenant
    raw_uid = body.get("uid")
    existing: Record | None = None
    if raw_uid is not None:
        existing = client.products.get(integer(raw_uid, "uid"))
        if existing is None:
            raise not_found("Product")
    fields = _product_fields(client, body, creating=existing is None)
    price: int = fields["selling_price"] if "selling_price" in fields else (existing or {}).get("selling_price", 0)
    variants = _variants(body, existing, price)
    if existing is None:
        # Guess: what a new product's body leaves out starts empty (no prices, no tag, stock on the product).
        product: Record = {
            "uid": session.next_uid(),
            "name": "",
            "selling_price": 0,
            "stock_price": 0,
            "tag": None,
            **{name: None for name in TEXT_FIELDS},
            "inventory_on_variants": False,
            "crdate": session.unix_now,
            "tstamp": session.unix_now,
            "product_variances": [],
        }
        client.products[product["uid"]] = product
    else:
        product = existing
        # An update always moves `tstamp` on, within the same second too, so whoever compares it sees the change.
        product["tstamp"] = max(session.unix_now, product["tstamp"] + 1)
    product.update(fields)
    if variants is not None:
        _replace_variances(session, client, product, variants)
    return product, existing is None


def delete(client: ClientState, uid: int) -> Record:
    """Remove a product and its stock rows (what a user does in Shopbox's back office); KeyError if unknown."""
    product = client.products.pop(uid)
    for key in [key for key in client.inventories if key[1] == uid]:
        del client.inventories[key]
    return product


def _product_fields(client: ClientState, body: Record, *, creating: bool) -> Record:
    fields: Record = {}
    if creating or "name" in body:
        fields["name"] = text(body.get("name"), "name", required=True)
    for name in PRICE_FIELDS:
        if body.get(name) is not None:
            fields[name] = integer(body[name], name, minimum=0)
    for name in TEXT_FIELDS:
        if name in body:
            fields[name] = text(body[name], name)
    if "tag" in body:
        tag = body["tag"]
        # Guess: a tag that is not the client's is refused, not stored dangling.
        if tag is not None and integer(tag, "tag") not in client.tags:
            raise invalid("tag", "is not a tag of this client")
        fields["tag"] = tag
    if "inventory_on_variants" in body:
        flag = body["inventory_on_variants"]
        if not isinstance(flag, bool):
            raise invalid("inventory_on_variants", "must be true or false")
        fields["inventory_on_variants"] = flag
    return fields


def _variants(body: Record, existing: Record | None, default_price: int) -> list[Record] | None:
    """The variants the body lists, checked (each with the `uid` of the variance it updates, or None for a new
    one), or None when the body lists none."""
    if body.get("variants") is None:
        return None
    raw = body["variants"]
    if not isinstance(raw, list):
        raise invalid("variants", "must be a list")
    known = {v["uid"]: v for v in existing["product_variances"]} if existing else {}
    by_sku = {v["sku_code"]: v["uid"] for v in known.values() if v.get("sku_code")}
    checked: list[Record] = []
    for index, variant in enumerate(raw):
        where = f"variants[{index}]"
        if not isinstance(variant, dict):
            raise invalid(where, "must be an object")
        sku = text(variant.get("sku_code"), f"{where}.sku_code")
        uid = _variance_uid(variant, where, known, by_sku.get(sku or ""))
        if uid is not None and uid in {v["uid"] for v in checked}:
            raise invalid(where, "names a variant already listed")
        previous: Record = known.get(uid, {}) if uid is not None else {}
        price = variant.get("selling_price")
        checked.append(
            {
                "uid": uid,
                "name": text(variant.get("name"), f"{where}.name", required=not previous) or previous.get("name"),
                "sku_code": sku if "sku_code" in variant else previous.get("sku_code"),
                "code": text(variant.get("code"), f"{where}.code") if "code" in variant else previous.get("code"),
                # A variant without a price of its own keeps the one it had, a new one takes the product's.
                "selling_price": previous.get("selling_price", default_price)
                if price is None
                else integer(price, f"{where}.selling_price", minimum=0),
            }
        )
    return checked


def _variance_uid(variant: Record, where: str, known: dict[int, Record], same_sku: int | None) -> int | None:
    """The variance a listed variant updates: the one its `uid` names (which must be the product's), else the one
    with its SKU (Guess), else none (a new one)."""
    if variant.get("uid") is None:
        return same_sku
    uid = integer(variant["uid"], f"{where}.uid")
    if uid not in known:
        raise invalid(f"{where}.uid", "is not a variant of this product")
    return uid


def _replace_variances(session: Session, client: ClientState, product: Record, variants: list[Record]) -> None:
    kept = {v["uid"] for v in variants if v["uid"] is not None}
    for gone in [v["uid"] for v in product["product_variances"] if v["uid"] not in kept]:
        for key in [key for key in client.inventories if key[1] == product["uid"] and key[2] == gone]:
            del client.inventories[key]
    for variant in variants:
        if variant["uid"] is None:
            variant["uid"] = session.next_uid()
        variant["product"] = product["uid"]
    product["product_variances"] = variants


def _list(session: Session, request: SimRequest) -> SimResponse:
    client = session.tenant
    rows = [client.products[uid] for uid in sorted(client.products)]
    return listing(request, "/products", rows, session.rules)


def _get(session: Session, request: SimRequest, uid: str) -> SimResponse:
    product = session.tenant.products.get(uid_param(uid, "Product"))
    if product is None:
        raise not_found("Product")
    return single(session.rules, product)


def _create_or_update(session: Session, request: SimRequest) -> SimResponse:
    product, created = upsert(session, body_of(request))
    # Guess: 201 for a product made, 200 for one updated (the client takes any 2xx).
    return single(session.rules, product, 201 if created else 200)


# Literal paths before `{uid}`: the router takes the first match (and `create-or-update` is POST only anyway).
ROUTES: list[Route] = [
    ("GET", "/products", _list, "client"),
    ("POST", "/products/create-or-update", _create_or_update, "client"),
    ("GET", "/products/{uid}", _get, "client"),
]
