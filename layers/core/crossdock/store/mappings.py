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


def claim_mapping(
    table: Any, connection_id: str, entity: str, system: str, external_id: str, target_id: str, **details: Any
) -> dict[str, Any] | None:
    """Puts the mapping only where none exists yet: None when this call put it, else the mapping already there
    (a repeat of work that was bound before keeps the first binding)."""
    key = {"pk": keys.connection_pk(connection_id), "sk": keys.mapping_sk(entity, system, external_id)}
    try:
        table.put_item(
            Item={**key, "target_id": target_id, "synced_at": int(time.time()), **details},
            ConditionExpression="attribute_not_exists(pk)",
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return get_mapping(table, connection_id, entity, system, external_id) or {}
    return None


def mark_cancelled_if_unmapped(table: Any, connection_id: str, entity: str, system: str, external_id: str) -> bool:
    """Puts a "cancelled" mark (no target) where no mapping exists yet; True if it did. A transfer that finds the
    mark skips, so a cancellation that overtakes its order cannot be followed by the order appearing in the ERP."""
    try:
        table.put_item(
            Item={
                "pk": keys.connection_pk(connection_id),
                "sk": keys.mapping_sk(entity, system, external_id),
                "target_id": "",
                "status": "cancelled",
                "synced_at": int(time.time()),
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def shopify_order_mappings(table: Any, connection_id: str, order_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The mappings of those Shopify orders that have one, by order id. They hold ids, a status and the order's
    total, nothing about the customer, so a privacy request reports them and leaves them in place."""
    found: dict[str, dict[str, Any]] = {}
    for order_id in order_ids:
        mapping = get_mapping(table, connection_id, "order", "shopify", order_id)
        if mapping is not None:
            found[order_id] = mapping
    return found


# ---- mappings of an account that several connections share ------------------------------------------------------
# Same shapes as a connection's (`MAP#<entity>#<system>#<external id>` → `target_id`), under the account's partition
# (`keys.account_pk`): e.g. which PeakWMS product carries a SKU, for every shop that sells from that stock.


def put_account_mapping(
    table: Any, system: str, account: str, entity: str, source: str, external_id: str, target_id: str, **details: Any
) -> None:
    table.put_item(
        Item={
            "pk": keys.account_pk(system, account),
            "sk": keys.mapping_sk(entity, source, external_id),
            "target_id": target_id,
            "synced_at": int(time.time()),
            **details,
        }
    )


def get_account_mapping(
    table: Any, system: str, account: str, entity: str, source: str, external_id: str
) -> dict[str, Any] | None:
    item: dict[str, Any] | None = table.get_item(
        Key={"pk": keys.account_pk(system, account), "sk": keys.mapping_sk(entity, source, external_id)},
        ConsistentRead=True,
    ).get("Item")
    return item


def get_account_mappings(
    table: Any, system: str, account: str, entity: str, source: str, external_ids: list[str]
) -> dict[str, dict[str, Any]]:
    """The mappings of those ids that have one, by id: one BatchGetItem per 100 ids (unprocessed keys asked again)."""
    found: dict[str, dict[str, Any]] = {}
    pk = keys.account_pk(system, account)
    wanted = list(dict.fromkeys(external_ids))
    prefix = keys.mapping_sk(entity, source, "")
    for start in range(0, len(wanted), 100):
        # The table's own client: it takes and gives plain values, as the table does.
        batch = [{"pk": pk, "sk": prefix + i} for i in wanted[start : start + 100]]
        request: dict[str, Any] = {table.name: {"Keys": batch, "ConsistentRead": True}}
        while request:
            answer = table.meta.client.batch_get_item(RequestItems=request)
            for item in answer.get("Responses", {}).get(table.name, []):
                found[str(item["sk"])[len(prefix) :]] = item
            request = answer.get("UnprocessedKeys") or {}
    return found


def delete_account_mapping(table: Any, system: str, account: str, entity: str, source: str, external_id: str) -> None:
    table.delete_item(Key={"pk": keys.account_pk(system, account), "sk": keys.mapping_sk(entity, source, external_id)})
