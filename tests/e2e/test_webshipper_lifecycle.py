"""Pausing, resuming and uninstalling a Webshipper connection as an operator (`crossdock connections
pause|resume|uninstall`), end to end on the embedded stack with the Webshipper and Rackbeat simulators.

Paused, nothing is removed but the poll's schedule (its cursor kept) and deliveries are skipped; resumed, the
schedule is back, the webhooks in both systems are repaired and the operator is told what the poll recovers and
what not; uninstalled, its webhooks in both systems and every secret are gone and
its history stays.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from test_webshipper_onboarding import Shipper, new_shipper

from crossdock.connectors.webshipper.secret_names import WEBHOOK_SECRET
from crossdock.integrations.rackbeat_webshipper import activation
from crossdock.store import connections
from crossdock_local import operator_cli
from crossdock_local.stack import LocalStack


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seed=16) as running:
        yield running


@pytest.fixture
def shipper(stack: LocalStack) -> Shipper:
    return new_shipper(stack)


def _cli(stack: LocalStack, *argv: str) -> tuple[int, str]:
    report = io.StringIO()
    code = operator_cli.run(list(argv), stack.operator, report)
    return code, report.getvalue()


def _cli_json(stack: LocalStack, *argv: str) -> dict[str, Any]:
    code, text = _cli(stack, *argv, "--json")
    assert code == 0, text
    found: dict[str, Any] = json.loads(text)
    return found


ALL_TOPICS = ["order/created", "order/updated", "shipment/created"]


def _our_webshipper_topics(stack: LocalStack, shipper: Shipper, connection_id: str) -> list[str]:
    url = activation.webhook_url(stack.base_url, connection_id)
    return sorted(str(hook["topic"]) for hook in shipper.webshipper_hooks() if hook["url"] == url)


def test_a_paused_warehouse_keeps_its_webhooks_and_resuming_repairs_them(stack: LocalStack, shipper: Shipper) -> None:
    # GIVEN an active Webshipper connection with its webhooks in both systems
    created = shipper.create()
    connection_id = created.connection_id
    # WHEN the operator pauses it
    paused = _cli_json(stack, "connections", "pause", connection_id)
    # THEN it is paused and nothing was removed
    assert (paused["before"], paused["state"], paused["kind"]) == ("active", "paused", "rackbeat_webshipper")
    assert paused["account"] == f"Webshipper account {shipper.account}"
    assert _our_webshipper_topics(stack, shipper, connection_id) == [
        "order/created",
        "order/updated",
        "shipment/created",
    ]
    # AND WHEN a Webshipper user deletes the shipment webhook during the pause and the operator resumes
    hooks = stack.webshipper.account(shipper.account).of("webhooks")
    url = activation.webhook_url(stack.base_url, connection_id)
    (shipment_hook,) = [k for k, h in hooks.items() if h["url"] == url and h["topic"] == "shipment/created"]
    del hooks[shipment_hook]
    code, text = _cli(stack, "connections", "resume", connection_id)
    # THEN it is active, the webhook is back, and the operator is told that the poll reads what Webshipper changed
    # during the pause and how to send what Rackbeat booked or shipped meanwhile (nothing polls Rackbeat)
    assert code == 0, text
    assert f"(Webshipper account {shipper.account}): paused → active" in text
    assert "webshipper:shipment/created" in text
    assert "webshipper#orders created; the next poll run reads what Webshipper changed during the pause" in text
    assert "orders sync <connection> rackbeat:<number>" in text
    assert _our_webshipper_topics(stack, shipper, connection_id) == [
        "order/created",
        "order/updated",
        "shipment/created",
    ]
    loaded = connections.load_connection(stack.table, connection_id)
    assert loaded is not None and loaded.state.value == "active"
    # AND a second resume is refused
    assert _cli(stack, "connections", "resume", connection_id)[0] == 1


def test_uninstall_removes_webhooks_in_both_systems_and_secrets_and_keeps_the_history(
    stack: LocalStack, shipper: Shipper
) -> None:
    # GIVEN an active Webshipper connection, beside another connection's webhooks on the same Rackbeat account
    created = shipper.create()
    connection_id = created.connection_id
    assert shipper.rackbeat_hooks(connection_id) == ["order.booked", "order_shipment.shipped"]
    assert WEBHOOK_SECRET in connections.stored_secret_names(stack.table, connection_id)
    # WHEN the operator uninstalls it
    done = _cli_json(stack, "connections", "uninstall", connection_id)
    # THEN its webhooks are gone in Webshipper and in Rackbeat, and so is every secret
    assert (done["before"], done["state"]) == ("active", "uninstalled")
    assert done["webhooks_removed"] == {
        "webshipper": ["order/created", "order/updated", "shipment/created"],
        "rackbeat": ["order.booked", "order_shipment.shipped"],
    }
    assert _our_webshipper_topics(stack, shipper, connection_id) == []
    assert shipper.rackbeat_hooks(connection_id) == []
    assert connections.stored_secret_names(stack.table, connection_id) == []
    # AND the connection itself stays, uninstalled, for its history; a second uninstall and a resume are refused
    loaded = connections.load_connection(stack.table, connection_id)
    assert loaded is not None and loaded.state.value == "uninstalled"
    assert _cli(stack, "connections", "uninstall", connection_id)[0] == 1
    assert _cli(stack, "connections", "resume", connection_id)[0] == 1
