"""ID mappings ("bindings"): which record in one system stands for which in the other (DESIGN §3)."""

from __future__ import annotations

import time
from typing import Any

from crossdock.store import keys


def put_mapping(
    table: Any, connection_id: str, entity: str, system: str, external_id: str, target_id: str, **details: Any
) -> None:
    table.put_item(
        Item={
            "pk": keys.connection_pk(connection_id),
            "sk": keys.mapping_sk(entity, system, external_id),
            "target_id": target_id,
            "synced_at": int(time.time()),
            **details,
        }
    )


def get_mapping(table: Any, connection_id: str, entity: str, system: str, external_id: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = table.get_item(
        Key={"pk": keys.connection_pk(connection_id), "sk": keys.mapping_sk(entity, system, external_id)}
    ).get("Item")
    return item
