"""The self-check's two halves (flows/webhook_self_check.py, issue 18): the schedule's run lists the connections to
queue, one check each, and the queue's consumer loads each again before checking it (on moto's table, with Shopify
connections, whose check is the function's own); a seam kind's check goes through `Integration.webhooks` (a
made-up kind)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from flow_fakes import MadeUpKind, connection, registered

from crossdock.connections.model import Connection, ConnectionState
from crossdock.connectors.shopify.account import ShopifyAccount
from crossdock.errors import RetryableError
from crossdock.flows import webhook_self_check
from crossdock.integration import Integration
from crossdock.integrations.rackbeat_shopify.connection import (
    KIND as SHOPIFY_KIND,
)
from crossdock.integrations.rackbeat_shopify.connection import (
    RackbeatShopifyAccounts,
    RackbeatShopifyConnection,
)
from crossdock.integrations.rackbeat_shopify.settings import RackbeatShopifySettings
from crossdock.store import connections

OWN = frozenset({SHOPIFY_KIND})


def _shop(number: int, state: ConnectionState = ConnectionState.ACTIVE) -> RackbeatShopifyConnection:
    settings = RackbeatShopifySettings.model_validate({"shipping_product_number": "FRAGT"})
    shop = ShopifyAccount(shop_domain=f"shop-{number}.myshopify.com")
    return RackbeatShopifyConnection(
        id=f"c-{number}", state=state, accounts=RackbeatShopifyAccounts(shopify=shop), settings=settings
    )


def test_the_run_queues_every_active_connection_whose_kind_is_checked(table: Any) -> None:
    # GIVEN three shops, one paused, one uninstalled
    for number, state in enumerate([ConnectionState.ACTIVE, ConnectionState.PAUSED, ConnectionState.UNINSTALLED]):
        connections.save_connection(table, _shop(number, state))
    # WHEN the schedule's run lists what to queue THEN only the active one is queued
    assert webhook_self_check.connections_to_check(table, OWN) == ["c-0"]
    # AND a kind keeping no webhooks through the seam is queued only when the function checks it itself
    assert webhook_self_check.connections_to_check(table, frozenset()) == []


def test_a_connection_paused_after_it_was_queued_is_not_checked(table: Any) -> None:
    # GIVEN a shop queued while active, then paused
    connections.save_connection(table, _shop(1))
    assert webhook_self_check.connections_to_check(table, OWN) == ["c-1"]
    connections.set_state(table, "c-1", ConnectionState.PAUSED, "2026-12-07T00:00:00Z")
    # WHEN its queued check loads it THEN there is nothing to check; nor for a connection erased meanwhile
    assert webhook_self_check.load_to_check(table, "c-1", OWN) is None
    assert webhook_self_check.load_to_check(table, "c-gone", OWN) is None
    connections.set_state(table, "c-1", ConnectionState.ACTIVE, "2026-12-07T00:01:00Z")
    loaded = webhook_self_check.load_to_check(table, "c-1", OWN)
    assert loaded is not None and loaded.id == "c-1"


class Upkeep:
    def __init__(self) -> None:
        self.checked: list[str] = []
        self.failing: set[str] = set()

    def check(self, connection: Connection, clients: Any, secrets: Any, webhook_base_url: str, table: Any) -> list[str]:
        self.checked.append(connection.id)
        if connection.id in self.failing:
            raise RetryableError("the platform answered 503")
        return ["made_up:orders/created"]


class KeepingWebhooks(MadeUpKind):
    def __init__(self) -> None:
        super().__init__()
        self.upkeep = Upkeep()

    def integration(self) -> Integration:
        return dataclasses.replace(super().integration(), webhooks=self.upkeep)


@pytest.fixture
def kind() -> Any:
    with registered(KeepingWebhooks()) as made:
        yield made


def test_each_seam_check_is_its_own_and_a_failing_one_raises_for_its_record_alone(kind: Any) -> None:
    # GIVEN two connections of a kind keeping its webhooks through the seam, the first one's platform down
    kind.upkeep.failing.add("c-1")
    results: dict[str, Any] = {}
    # WHEN each queued check runs
    for name in ("c-1", "c-2"):
        try:
            results[name] = webhook_self_check.check_connection(connection(name), None, None, "https://hub", None)
        except RetryableError as failure:
            results[name] = failure.failure_class.value
    # THEN the failing one raised its transient error (its record goes back to SQS), the other was repaired
    assert results == {"c-1": "target_down", "c-2": ["made_up:orders/created"]}
    assert kind.upkeep.checked == ["c-1", "c-2"]
    assert webhook_self_check.has_upkeep(kind.integration().kind)


def test_a_kind_without_seam_upkeep_is_refused_by_the_seam_check() -> None:
    with registered(MadeUpKind()) as made, pytest.raises(ValueError, match="no webhooks"):
        webhook_self_check.check_connection(connection("c-1", kind=made.integration().kind), None, None, "x", None)
