"""Rackbeat's custom field definitions (`GET /fields?for=item|customer`, reference/rackbeat.md): which fields an
account has and what kind of value each holds, so settings that name a field can be checked before a sync writes
into it. An item's values are read in `products`."""

from __future__ import annotations

from dataclasses import dataclass

from crossdock.connectors.rackbeat.client import RackbeatClient

# Rackbeat's names for fields that hold free text (a Shopbox UID is written as text).
TEXT_TYPES = frozenset({"text", "textarea"})


@dataclass(frozen=True)
class CustomField:
    id: str
    name: str
    # Rackbeat's own name for the field's kind ("checkbox", "text", "number", …); None when the list leaves it out.
    type: str | None

    @property
    def holds_text(self) -> bool:
        return self.type is None or self.type in TEXT_TYPES


def item_fields(client: RackbeatClient) -> dict[str, CustomField]:
    """The account's custom item fields by id (as text: settings and field values name them so)."""
    rows = client.iterate("fields", "fields", **{"for": "item"})
    return {
        str(row["id"]): CustomField(str(row["id"]), str(row.get("name") or ""), row.get("type"))
        for row in rows
        if row.get("id") is not None
    }
