"""Shipping rates `GET /shipping_rates[/{id}]` (doc W1) with `include=carrier` (seen W7), and the carriers they
name `GET /carriers[/{id}]`. Read-only through the API, like channels."""

from __future__ import annotations

from crossdock_local.sims.base import SimRequest, SimResponse
from crossdock_local.sims.webshipper.listing import Filterable, by_id, by_text, listing
from crossdock_local.sims.webshipper.session import Route, Session
from crossdock_local.sims.webshipper.state import Record
from crossdock_local.sims.webshipper.views import document, resource
from crossdock_local.sims.webshipper.wire import id_param, jsonapi, not_found, refuse

FILTERS: Filterable = {
    "id": by_id("_id"),
    "carrier_id": by_id("_carrier"),
    "order_channel_id": by_id("_order_channel"),
    "name": by_text("name"),
}
INCLUDABLE = ("carrier",)


def _includes(request: SimRequest) -> tuple[str, ...]:
    asked = tuple(name for name in (request.arg("include") or "").split(",") if name)
    for name in asked:
        if name not in INCLUDABLE:
            # JSON:API: an include the server cannot honour is a 400.
            raise refuse(400, f"include {name} is not supported on shipping_rates", "include")
    return asked


def _carriers_of(session: Session, rates: list[Record]) -> list[Record]:
    carriers = session.account.of("carriers")
    ids = sorted({r["_carrier"] for r in rates if r.get("_carrier") in carriers})
    return [resource(session, "carriers", carriers[i]) for i in ids]


def list_rates(session: Session, request: SimRequest) -> SimResponse:
    wanted = _includes(request)
    rows = list(session.account.of("shipping_rates").values())
    included = (lambda page: _carriers_of(session, page)) if "carrier" in wanted else None
    return listing(session, request, "shipping_rates", rows, FILTERS, included=included)


def show_rate(session: Session, request: SimRequest, id: str) -> SimResponse:
    wanted = _includes(request)
    rate = session.account.of("shipping_rates").get(id_param(id, "shipping_rates"))
    if rate is None:
        raise not_found("shipping_rates", id)
    shown = document(session, "shipping_rates", rate)
    if "carrier" in wanted:
        shown["included"] = _carriers_of(session, [rate])
    return jsonapi(200, shown)


def list_carriers(session: Session, request: SimRequest) -> SimResponse:
    rows = list(session.account.of("carriers").values())
    return listing(session, request, "carriers", rows, {"id": by_id("_id"), "alias": by_text("alias")})


def show_carrier(session: Session, request: SimRequest, id: str) -> SimResponse:
    carrier = session.account.of("carriers").get(id_param(id, "carriers"))
    if carrier is None:
        raise not_found("carriers", id)
    return jsonapi(200, document(session, "carriers", carrier))


ROUTES: tuple[Route, ...] = (
    ("GET", "/shipping_rates", list_rates, "token"),
    ("GET", "/shipping_rates/{id}", show_rate, "token"),
    ("GET", "/carriers", list_carriers, "token"),
    ("GET", "/carriers/{id}", show_carrier, "token"),
)
