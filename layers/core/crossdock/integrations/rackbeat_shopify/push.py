"""The outbound commands of `rackbeat_shopify` (the shop's outbound queue) besides the stock push (which is
`flows.stock_push`'s): push an item's product data. A product push finishes the Rackbeat event that asked for it."""

from __future__ import annotations

from typing import Any

from crossdock.connections.model import Connection
from crossdock.errors import PermanentError
from crossdock.integration import CommandHandler
from crossdock.integrations.rackbeat_shopify import products
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection
from crossdock.ports import CommandPorts
from crossdock.store.outcome import Outcome, finish_event


def push_product(connection: Connection, command: dict[str, Any], ports: CommandPorts) -> str:
    product_deps = products.ProductDeps(ports.table, ports.clients.rackbeat, ports.clients.shopify)
    try:
        outcome = products.push_item(
            RackbeatShopifyConnection.of(connection),
            str(command["number"]),
            command.get("kind", "product"),
            product_deps,
        )
    except PermanentError as refused:
        outcome = Outcome.needs_attention(refused.reason, refused.failure_class)
    details = {"failure_class": outcome.failure_class.value} if outcome.failure_class else {}
    finish_event(ports.table, connection.id, str(command["event_sk"]), outcome.status, outcome.reason, **details)
    return outcome.reason


# `stock.push` is the stock flow's (flows.stock_push, with this kind's `stock.STOCK`).
COMMANDS: dict[str, CommandHandler] = {"product.push": push_product}
