"""Tags, Shopbox's product categories: `GET /tags` → `{id, name}`, `POST /tags` and a tag's products
`GET /tags/{id}/products?cashRegister=<uid>&per-page=-1` [seen S2].

A product names its tag by id (`tag` in the upsert body); the settings map tag ids to Rackbeat product groups.
Guess: every register sells the whole catalogue, so `cashRegister` only has to name one of the client's.
"""

from __future__ import annotations

from crossdock_local.sims.base import SimRequest, SimResponse
from crossdock_local.sims.shopbox.paging import listing
from crossdock_local.sims.shopbox.session import Route, Session
from crossdock_local.sims.shopbox.state import ClientState, Record
from crossdock_local.sims.shopbox.wire import body_of, invalid, not_found, single, text, uid_param


def new_tag(client: ClientState, uid: int, name: str) -> Record:
    tag: Record = {"id": uid, "name": name}
    client.tags[uid] = tag
    return tag


def _list(session: Session, request: SimRequest) -> SimResponse:
    client = session.tenant
    rows = [client.tags[uid] for uid in sorted(client.tags)]
    return listing(request, "/tags", rows, session.rules)


def _create(session: Session, request: SimRequest) -> SimResponse:
    name = text(body_of(request).get("name"), "name", required=True) or ""
    return single(session.rules, new_tag(session.tenant, session.next_uid(), name), 201)


def _products(session: Session, request: SimRequest, uid: str) -> SimResponse:
    client = session.tenant
    tag = uid_param(uid, "Tag")
    if tag not in client.tags:
        raise not_found("Tag")
    register = request.arg("cashRegister")
    if register and (not register.isdigit() or int(register) not in client.registers):
        raise invalid("cashRegister", "is not a cash register of this client")
    rows = [client.products[p] for p in sorted(client.products) if client.products[p]["tag"] == tag]
    return listing(request, f"/tags/{tag}/products", rows, session.rules)


ROUTES: list[Route] = [
    ("GET", "/tags", _list, "client"),
    ("POST", "/tags", _create, "client"),
    ("GET", "/tags/{uid}/products", _products, "client"),
]
