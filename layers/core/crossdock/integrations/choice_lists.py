"""The lists several kinds' settings choose from, as setting choices: the Rackbeat account's reference lists
(customer groups, layouts, payment terms, employees, product groups, locations, delivery terms, custom item
fields) and the shop's Shopify locations.

A kind names the same list under several fields (three location settings, two employee settings): `RackbeatLists`
reads each list at most once per look, as a save's reference check does (`connectors.rackbeat.reference_lists`).
A value is what the settings document holds: a Rackbeat number as an int where the setting is a `RackbeatNumber`,
the number as text where the setting is text (locations, delivery terms, field ids).
"""

from __future__ import annotations

from typing import Any

from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.rackbeat.fields import CustomField, item_fields
from crossdock.connectors.rackbeat.reference_lists import LOCATIONS, ReferenceList, entries
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.connectors.shopify.locations import shop_locations
from crossdock.integration import Choice


class RackbeatLists:
    """One look at a Rackbeat account's lists: each read when first asked for, then kept."""

    def __init__(self, client: RackbeatClient) -> None:
        self._client = client
        self._lists: dict[ReferenceList, dict[str, dict[str, Any]]] = {}
        self._fields: dict[str, CustomField] | None = None

    def numbered(self, kind: ReferenceList) -> list[Choice]:
        """The list's entries for a setting that holds a Rackbeat number (an int): an entry whose number is not
        one (Rackbeat's numbers are text for some lists) cannot be named by such a setting and is left out."""
        return [
            Choice(int(key), _label(row, key))
            for key, row in self._entries(kind).items()
            if key.isdigit() and int(key) > 0
        ]

    def as_text(self, kind: ReferenceList) -> list[Choice]:
        """The list's entries for a setting that holds the number as text (a location, a delivery term)."""
        rows = self._entries(kind)
        if kind is LOCATIONS:
            # Locations nest (warehouse → sub-locations): a shelf is named after its warehouse, so two shelves
            # called "A" in two warehouses can be told apart.
            return [Choice(key, _location_label(row, key, rows)) for key, row in rows.items()]
        return [Choice(key, _label(row, key)) for key, row in rows.items()]

    def item_fields(self, *, holding: str) -> list[Choice]:
        """The custom item fields a setting may name: `holding` "checkbox" (a ticked box publishes an item) or
        "text" (a field that takes a Shopbox UID). A field whose type the list leaves out is offered, as a save
        takes it on trust."""
        if self._fields is None:
            self._fields = item_fields(self._client)
        wanted = [
            found
            for found in self._fields.values()
            if (found.holds_text if holding == "text" else found.type in (None, "checkbox"))
        ]
        return [Choice(found.id, found.name or f"field {found.id}") for found in wanted]

    def _entries(self, kind: ReferenceList) -> dict[str, dict[str, Any]]:
        found = self._lists.get(kind)
        if found is None:
            found = self._lists[kind] = entries(self._client, kind)
        return found


def _label(row: dict[str, Any], key: str) -> str:
    name = str(row.get("name") or "").strip()
    return f"{name} ({key})" if name else key


def _location_label(row: dict[str, Any], key: str, rows: dict[str, dict[str, Any]]) -> str:
    # [guess] the parent's number as the simulator gives it (reference/rackbeat.md: "locations nest").
    parent = rows.get(str(row.get("parent_number") or ""))
    own = _label(row, key)
    if parent is None or parent is row:
        return own
    return f"{str(parent.get('name') or parent.get('number') or '').strip()} / {own}"


def shop_location_choices(admin: ShopifyAdmin) -> list[Choice]:
    """The shop's locations by their numeric id (as settings name them), deactivated ones marked: an order may
    still name one."""
    return [
        Choice(found.id, found.name if found.active else f"{found.name} (inactive)") for found in shop_locations(admin)
    ]
