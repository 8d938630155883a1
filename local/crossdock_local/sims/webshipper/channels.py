"""Order channels: `GET /order_channels[/{id}]` (doc W1) and a channel's rates `GET /order_channels/{id}/shipping_rates`
(seen W4). Read-only through the API: channels are set up in Webshipper's UI (here: the control API)."""

from __future__ import annotations

from crossdock_local.sims.base import SimRequest, SimResponse
from crossdock_local.sims.webshipper.listing import Filterable, by_id, by_text, listing
from crossdock_local.sims.webshipper.session import Route, Session
from crossdock_local.sims.webshipper.state import Record
from crossdock_local.sims.webshipper.views import document
from crossdock_local.sims.webshipper.wire import id_param, jsonapi, not_found

FILTERS: Filterable = {"id": by_id("_id"), "channel_label": by_text("channel_label")}
RATE_FILTERS: Filterable = {"id": by_id("_id"), "carrier_id": by_id("_carrier"), "name": by_text("name")}


def channel(session: Session, raw: str) -> Record:
    found = session.account.of("order_channels").get(id_param(raw, "order_channels"))
    if found is None:
        raise not_found("order_channels", raw)
    return found


def list_channels(session: Session, request: SimRequest) -> SimResponse:
    return listing(session, request, "order_channels", list(session.account.of("order_channels").values()), FILTERS)


def show_channel(session: Session, request: SimRequest, id: str) -> SimResponse:
    return jsonapi(200, document(session, "order_channels", channel(session, id)))


def channel_rates(session: Session, request: SimRequest, id: str) -> SimResponse:
    owner = channel(session, id)["_id"]
    rows = [r for r in session.account.of("shipping_rates").values() if r["_order_channel"] == owner]
    return listing(session, request, "shipping_rates", rows, RATE_FILTERS)


ROUTES: tuple[Route, ...] = (
    ("GET", "/order_channels", list_channels, "token"),
    ("GET", "/order_channels/{id}", show_channel, "token"),
    ("GET", "/order_channels/{id}/shipping_rates", channel_rates, "token"),
)
