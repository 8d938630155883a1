"""Rackbeat's reference lists — employees, layouts, payment terms, customer groups, locations, delivery terms,
product groups, custom item fields — and finding which of the entries a connection's settings name are missing.

Every kind's settings name entries of these lists by their number (a custom field by its id); a save checks that
each exists. The lists are short and read whole, each at most once per check and only when some setting names an
entry of it, so a check costs one call per list whatever the number of settings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from crossdock.connectors.rackbeat.client import NotFound, RackbeatClient


@dataclass(frozen=True)
class ReferenceList:
    """A Rackbeat list whose entries settings refer to: where it is read, its plural key, what an entry is called
    in a message, and the field that names an entry."""

    path: str
    plural: str
    noun: str
    key: str = "number"
    params: tuple[tuple[str, str], ...] = ()


CUSTOMER_GROUPS = ReferenceList("customer-groups", "customer_groups", "customer group")
LAYOUTS = ReferenceList("layouts", "layouts", "layout")
PAYMENT_TERMS = ReferenceList("payment-terms", "payment_terms", "payment terms")
EMPLOYEES = ReferenceList("employees", "employees", "employee")
PRODUCT_GROUPS = ReferenceList("product-groups", "product_groups", "product group")
LOCATIONS = ReferenceList("locations", "locations", "location")
DELIVERY_TERMS = ReferenceList("delivery-terms", "delivery_terms", "delivery terms")
ITEM_FIELDS = ReferenceList("fields", "fields", "item custom field", key="id", params=(("for", "item"),))

# A setting that names an entry: (its dotted key, the value it names, the list the value must be in).
Reference = tuple[str, "int | str", ReferenceList]


@dataclass(frozen=True)
class Found:
    """A named entry looked up: `entry` is the list's row, None when the list has none by that number."""

    key: str
    value: int | str
    kind: ReferenceList
    entry: dict[str, Any] | None

    @property
    def missing_message(self) -> str:
        return f"{self.kind.noun} {self.value} does not exist in Rackbeat"


def entries(client: RackbeatClient, kind: ReferenceList) -> dict[str, dict[str, Any]]:
    """The list's entries by key as text: reference data comes keyed by number, some of it numeric, some not."""
    rows = client.iterate(kind.path, kind.plural, **dict(kind.params))
    return {str(row[kind.key]): row for row in rows if row.get(kind.key) is not None}


def look_up(client: RackbeatClient, references: Iterable[Reference]) -> list[Found]:
    """Every reference with the entry it names (or None), in the order given; each list read once."""
    wanted = list(references)
    lists = {kind: entries(client, kind) for kind in dict.fromkeys(kind for _, _, kind in wanted)}
    return [Found(key, value, kind, lists[kind].get(str(value))) for key, value, kind in wanted]


def missing(client: RackbeatClient, references: Iterable[Reference]) -> list[Found]:
    """The references whose entry the account does not have."""
    return [found for found in look_up(client, references) if found.entry is None]


def exists(client: RackbeatClient, path: str) -> bool:
    """Whether Rackbeat has the one resource at `path` (a customer, an item): for what is looked up one by one
    because its list can be long."""
    try:
        client.get(path)
    except NotFound:
        return False
    return True
