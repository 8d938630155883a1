"""Pausing, resuming and uninstalling a Shopbox connection as an operator (issue 14; `crossdock connections
pause|resume|uninstall`), end to end on the embedded stack with the Shopbox and Rackbeat simulators.

Paused, the connection's poll schedules are gone (their cursors kept) and Rackbeat's deliveries are skipped; resumed,
the schedules are back and the first run transfers the sales of the pause; uninstalled, its schedules, its Rackbeat
webhooks and every secret are gone and its history stays. `install-link` says a Shopbox connection has none.
"""

from __future__ import annotations

import io
import json
from typing import Any

import boto3
import pytest
from test_shopbox_sales import Till, connected_till

from crossdock.flows.poll_schedules import schedule_name
from crossdock.integrations.rackbeat_shopbox.sales_stream import STREAM
from crossdock.store import connections, cursors, mappings
from crossdock_local import operator_cli
from crossdock_local.stack import LocalStack


@pytest.fixture
def till(stack: LocalStack) -> Till:
    return connected_till(stack)


def _schedule(stack: LocalStack, connection_id: str) -> str | None:
    scheduler = boto3.client("scheduler", region_name=stack.aws.region)
    group = stack.aws.resources["PollScheduleGroup"].ref
    try:
        found = scheduler.get_schedule(Name=schedule_name(STREAM, connection_id), GroupName=group)
    except scheduler.exceptions.ResourceNotFoundException:
        return None
    return str(found["ScheduleExpression"])


def _cli(stack: LocalStack, *argv: str) -> tuple[int, str]:
    report = io.StringIO()
    code = operator_cli.run(list(argv), stack.operator, report)
    return code, report.getvalue()


def _cli_json(stack: LocalStack, *argv: str) -> dict[str, Any]:
    code, text = _cli(stack, *argv, "--json")
    assert code == 0, text
    found: dict[str, Any] = json.loads(text)
    return found


def _our_rackbeat_webhooks(till: Till) -> list[str]:
    hooks = till.stack.rackbeat.state(till.account).webhooks.values()
    url = till.stack.rackbeat_webhook_url(till.connection_id)
    return sorted(hook["event"] for hook in hooks if hook["url"] == url)


def _stock_delivery(till: Till) -> list[dict[str, Any]]:
    """Rackbeat's stock change of the mug, delivered to the connection; the events it left."""
    till.stack.rackbeat.set_stock(till.account, "MUG-1", 41, "L1")
    till.stack.settle()
    return [event for event in till.events() if event["topic"] == "product.stock_changed"]


def test_a_paused_till_is_not_polled_and_its_sales_arrive_once_resumed(till: Till) -> None:
    # GIVEN an active Shopbox connection that has polled once (a cursor), with its schedule and Rackbeat webhooks
    till.poll()
    assert _schedule(till.stack, till.connection_id) == "rate(5 minutes)"
    assert "product.stock_changed" in _our_rackbeat_webhooks(till)
    cursor = cursors.load(till.stack.table, till.connection_id, STREAM)
    assert cursor is not None
    # WHEN the operator pauses it
    paused = _cli_json(till.stack, "connections", "pause", till.connection_id)
    # THEN it is paused, its poll schedule is gone and its cursor kept
    assert (paused["before"], paused["state"], paused["kind"]) == ("active", "paused", "rackbeat_shopbox")
    assert paused["account"] == f"Shopbox client {till.client}"
    assert _schedule(till.stack, till.connection_id) is None
    assert cursors.load(till.stack.table, till.connection_id, STREAM) == cursor
    # AND Rackbeat's stock changes are not queued for it while paused (the account's webhook stays registered,
    # and ingest fans a delivery out to active followers only)
    assert _stock_delivery(till) == []
    assert "product.stock_changed" in _our_rackbeat_webhooks(till)
    # AND a sale rung up meanwhile does not reach Rackbeat
    basket = till.sell(3)
    assert till.orders(basket) == []
    # WHEN it is resumed (a second resume is refused)
    code, text = _cli(till.stack, "connections", "resume", till.connection_id)
    assert code == 0, text
    assert f"({'Shopbox client'} {till.client}): paused → active" in text
    assert _cli(till.stack, "connections", "resume", till.connection_id)[0] == 1
    # THEN its schedule is back, and the next run transfers the sale of the pause from the kept cursor, once
    assert _schedule(till.stack, till.connection_id) == "rate(5 minutes)"
    run = till.poll()
    assert run["sold_enqueued"] == [basket]
    assert till.only_order(basket)["is_invoiced"]
    assert till.poll()["sold_enqueued"] == [] and len(till.orders(basket)) == 1


def test_a_settings_save_while_paused_makes_no_schedule_and_the_resume_follows_it(till: Till) -> None:
    # GIVEN a paused connection
    _cli_json(till.stack, "connections", "pause", till.connection_id)
    # WHEN its poll interval is changed while it is paused
    code, text = _cli(till.stack, "settings", "set", till.connection_id, "sales.poll_minutes=10")
    # THEN the version is saved, and no schedule appears until it is resumed, with the new interval
    assert code == 0, text
    assert _schedule(till.stack, till.connection_id) is None
    _cli_json(till.stack, "connections", "resume", till.connection_id)
    assert _schedule(till.stack, till.connection_id) == "rate(10 minutes)"


def test_uninstall_removes_schedules_rackbeat_webhooks_and_secrets_and_keeps_the_history(till: Till) -> None:
    # GIVEN a connection that transferred a sale
    basket = till.sell(1)
    till.poll()
    order = till.only_order(basket)
    assert connections.stored_secret_names(till.stack.table, till.connection_id)
    # WHEN the operator uninstalls it
    done = _cli_json(till.stack, "connections", "uninstall", till.connection_id)
    # THEN its Rackbeat webhooks, its schedule and its cursor, and every secret are gone
    assert (done["before"], done["state"]) == ("active", "uninstalled")
    assert done["webhooks_removed"] == {"rackbeat": ["product.stock_changed"]}
    assert _our_rackbeat_webhooks(till) == []
    assert _schedule(till.stack, till.connection_id) is None
    assert cursors.load(till.stack.table, till.connection_id, STREAM) is None
    assert connections.stored_secret_names(till.stack.table, till.connection_id) == []
    # AND its history stays: the sale's event, its mapping to the Rackbeat order, the uninstall itself
    mapped = mappings.get_mapping(till.stack.table, till.connection_id, "order", "shopbox", basket)
    assert mapped is not None and str(mapped["target_id"]) == str(order["number"])
    (event,) = [e for e in till.events() if e["topic"] == "operator/uninstall"]
    assert event["status"] == "done" and event["event_id"] == done["event_id"]
    # AND a later sale is never transferred; a second uninstall and a resume are refused
    later = till.sell(1)
    assert till.poll().get("skipped")
    assert till.orders(later) == []
    assert _cli(till.stack, "connections", "uninstall", till.connection_id)[0] == 1
    assert _cli(till.stack, "connections", "resume", till.connection_id)[0] == 1


def test_install_link_says_a_shopbox_connection_has_none(till: Till, capsys: Any) -> None:
    # WHEN the operator asks for the install link of a Shopbox connection
    code, _ = _cli(till.stack, "connections", "install-link", till.connection_id)
    # THEN it is refused, saying an install link is a Shopify app's and how this kind becomes active
    assert code == 1
    err = capsys.readouterr().err
    assert "rackbeat_shopbox: an install link is a Shopify app's" in err and "settings set" in err
