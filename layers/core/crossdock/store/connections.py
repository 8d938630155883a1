"""Connections and their settings. Every write goes through the settings model, so nothing invalid is stored."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr

from crossdock.connections.model import Connection
from crossdock.store import keys


class ShopTaken(Exception):
    """Another connection already owns this shop domain."""


def save_connection(table: Any, connection: Connection) -> None:
    """Stores the connection and claims its shop domain; a domain owned by another connection is refused."""
    item = connection.model_dump(mode="json")
    try:
        table.put_item(
            Item={"pk": keys.shop_pk(connection.shop_domain), "sk": keys.META, "connection_id": connection.id},
            ConditionExpression=Attr("pk").not_exists() | Attr("connection_id").eq(connection.id),
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException as taken:
        raise ShopTaken(connection.shop_domain) from taken
    table.put_item(Item={"pk": keys.connection_pk(connection.id), "sk": keys.META, **item})


def load_connection(table: Any, connection_id: str) -> Connection | None:
    item = table.get_item(Key={"pk": keys.connection_pk(connection_id), "sk": keys.META}).get("Item")
    if item is None:
        return None
    fields = {k: v for k, v in item.items() if k not in ("pk", "sk")}
    return Connection.model_validate(_plain(fields))


def connection_id_for_shop(table: Any, shop_domain: str) -> str | None:
    item = table.get_item(Key={"pk": keys.shop_pk(shop_domain), "sk": keys.META}).get("Item")
    return str(item["connection_id"]) if item else None


def _plain(value: Any) -> Any:
    """DynamoDB hands numbers back as Decimal; settings hold ints."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    return value
