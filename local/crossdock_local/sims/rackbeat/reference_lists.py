"""Rackbeat's reference data, read-only lists the other resources point at by number: employees, layouts, payment
terms, customer groups, locations and delivery terms. The simulator's `seed_*` control methods fill them."""

from __future__ import annotations

from collections.abc import Callable

from crossdock_local.sims.base import SimRequest, SimResponse
from crossdock_local.sims.rackbeat.paging import REFERENCE_FILTERS, REFERENCE_SEARCH, page_response
from crossdock_local.sims.rackbeat.session import Route, Session
from crossdock_local.sims.rackbeat.state import Record
from crossdock_local.sims.rackbeat.wire import render

# path, plural key of the list, AccountState attribute
LISTS = (
    ("/employees", "employees", "employees"),
    ("/layouts", "layouts", "layouts"),
    ("/payment-terms", "payment_terms", "payment_terms"),
    ("/customer-groups", "customer_groups", "customer_groups"),
    ("/locations", "locations", "locations"),
    ("/delivery-terms", "delivery_terms", "delivery_terms"),
)


def _lister(plural: str, attribute: str) -> Callable[[Session, SimRequest], SimResponse]:
    def lister(session: Session, request: SimRequest) -> SimResponse:
        table: dict[str, Record] = getattr(session.account, attribute)
        return page_response(request, plural, list(table.values()), render, REFERENCE_FILTERS, REFERENCE_SEARCH)

    return lister


ROUTES: list[Route] = [("GET", path, _lister(plural, attribute)) for path, plural, attribute in LISTS]
