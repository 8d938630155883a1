"""Finding a connection without loading it: which connection owns a shop, and whether a connection exists.

This is all ingest asks of the connections on every webhook. It lives apart from `store.connections` so that ingest's
cold start does without the settings models (pydantic), which `store.connections` needs to load and save a
connection and which would otherwise be most of ingest's import time (bench/cold_import.py, DESIGN §8).
"""

from __future__ import annotations

from typing import Any

from crossdock.store import keys


def connection_id_for_shop(table: Any, shop_domain: str) -> str | None:
    item = table.get_item(Key={"pk": keys.shop_pk(shop_domain), "sk": keys.META}).get("Item")
    return str(item["connection_id"]) if item else None


def connection_exists(table: Any, connection_id: str) -> bool:
    """True when the connection is stored (an erased one leaves only a tombstone, which does not count)."""
    key = {"pk": keys.connection_pk(connection_id), "sk": keys.META}
    return "Item" in table.get_item(Key=key, ProjectionExpression="pk")
