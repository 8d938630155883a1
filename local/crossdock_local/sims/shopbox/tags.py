"""Tags, Shopbox's product categories: `GET /tags` → `{id, name}` and `POST /tags` [seen S2].

A product names its tag by id (`tag` in the upsert body); the settings map tag ids to Rackbeat product groups.
"""

from __future__ import annotations

from crossdock_local.sims.base import SimRequest, SimResponse
from crossdock_local.sims.shopbox.paging import listing
from crossdock_local.sims.shopbox.session import Route, Session
from crossdock_local.sims.shopbox.state import ClientState, Record
from crossdock_local.sims.shopbox.wire import body_of, single, text


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


ROUTES: list[Route] = [
    ("GET", "/tags", _list, "client"),
    ("POST", "/tags", _create, "client"),
]
