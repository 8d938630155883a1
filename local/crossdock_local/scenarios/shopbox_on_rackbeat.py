"""A Shopbox connection stored on an embedded stack's Rackbeat account, as an install leaves it before its webhooks:
the Shopbox client seeded with its branches and items, the connection saved active with both secrets, each item bound
to its Shopbox product as the initial sync binds it. The benches and tests that put Shopbox and shops on one Rackbeat
account start from here, then register the webhooks the way they measure or check."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from crossdock.connectors.rackbeat.account import RackbeatAccount
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.rackbeat.secret_names import RACKBEAT_API_KEY
from crossdock.connectors.shopbox.account import ShopboxAccount
from crossdock.connectors.shopbox.secret_names import SHOPBOX_API_TOKEN
from crossdock.integrations.rackbeat_shopbox import catalog_mapping
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxAccounts, RackbeatShopboxConnection
from crossdock.integrations.rackbeat_shopbox.settings import RackbeatShopboxSettings
from crossdock.operations import stack_access
from crossdock.store import connections
from crossdock.store.secrets import SecretStore
from crossdock_local.stack import LocalStack


@dataclass(frozen=True)
class StoredShopbox:
    connection: RackbeatShopboxConnection
    client: int
    branches: list[int]  # in the order of `branches` given
    products: dict[str, int]  # SKU -> Shopbox product uid
    secrets: SecretStore
    rackbeat: RackbeatClient  # the account's API as the connection calls it


def store_shopbox(
    stack: LocalStack,
    account: int,
    api_key: str,
    *,
    name: str,
    branches: dict[str, list[str]],
    locations: list[str],
    items: dict[str, str],
) -> StoredShopbox:
    """The connection stored as above; branch i (in `branches`' order) shows Rackbeat location `locations[i]`;
    `items` are SKU -> product name."""
    seeded = stack.shopbox.seed_client(name, branches=branches)
    client = int(seeded["uid"])
    branch_uids = [int(b["uid"]) for b in seeded["branches"]]
    products = {
        sku: int(stack.shopbox.upsert_product(client, {"uid": None, "name": title, "sku_code": sku})["uid"])
        for sku, title in items.items()
    }
    rackbeat_base = f"{stack.base_url}/_sim/rackbeat/api/"
    connection = RackbeatShopboxConnection(
        id=str(uuid.uuid4()),
        accounts=RackbeatShopboxAccounts(
            rackbeat=RackbeatAccount(account_id=account, api_base=rackbeat_base),
            shopbox=ShopboxAccount(api_base=stack.shopbox_api, client_uid=str(client)),
        ),
        settings=RackbeatShopboxSettings.model_validate(
            {
                "locations": {str(uid): location for uid, location in zip(branch_uids, locations, strict=True)},
                "sales": {"enabled": False},
            }
        ),
    )
    connections.save_connection(stack.table, connection)
    secrets = stack_access.secret_store(stack.operator)
    secrets.put(connection.id, RACKBEAT_API_KEY, api_key)
    secrets.put(connection.id, SHOPBOX_API_TOKEN, stack.shopbox.add_api_token(client))
    for sku, uid in products.items():
        catalog_mapping.bind_item(stack.table, connection.id, sku, str(uid), None, "initial sync")
    return StoredShopbox(connection, client, branch_uids, products, secrets, RackbeatClient(rackbeat_base, api_key))
