"""Guided setup step 5, `messages` (issue 16, item 2): the PeakWMS webhooks of the messages switched on, each at
its own address carrying the connection's key, registered in the PeakWMS simulator (in process); those switched
off removed; rerunnable; kept by the self-check once the merchant ran the step."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from peakwms_fakes import CUSTOMER
from peakwms_message_fakes import BASE, CONNECTION, World, make_world

from crossdock.connectors.peakwms import webhooks as peakwms_webhooks
from crossdock.connectors.peakwms.secret_names import WEBHOOK_KEY
from crossdock.integrations.peakwms_shopify import setup_messages
from crossdock.store import events, setup_progress

DEFAULT_EVENTS = {"stock_adjust": 100, "ean_updates": 101, "pick_order_packed": 102, "order_state_changed": 109}


@pytest.fixture(autouse=True)
def metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    # Finished events are counted (Powertools metrics), which needs a namespace.
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Crossdock")


@pytest.fixture
def world(table: Any, shopify_payload: Callable[[str], Any]) -> Iterator[World]:
    made = make_world(table, shopify_payload("2025-01/order_0.json")["order"])
    for hook in peakwms_webhooks.list_webhooks(made.peakwms) or []:  # a PeakWMS none of whose webhooks are ours yet
        peakwms_webhooks.delete_webhook(made.peakwms, str(hook["id"]))
    made.settings = {}
    yield made


def _ours(world: World) -> dict[str, tuple[int, str | None]]:
    """Event name → (PeakWMS event number, key in the address) of this connection's registrations."""
    found = {}
    for hook in peakwms_webhooks.list_webhooks(world.peakwms) or []:
        url = urlsplit(str(hook["url"]))
        if url.path.startswith(f"/webhooks/peakwms/{CONNECTION}/"):
            found[url.path.rsplit("/", 1)[-1]] = (hook["name"], url.query.removeprefix("key="))
    return found


def test_the_step_registers_the_default_messages_with_a_new_key_it_never_shows(world: World) -> None:
    """GIVEN a connection with the default messages and no webhook key yet WHEN step 5 runs THEN one chunk finishes
    it: 100, 101, 102 and 109 are registered at `<base>/webhooks/peakwms/<connection>/<event>?key=<key>`, the key is
    made and stored as the connection's WEBHOOK_KEY, and neither the note nor the state carries it."""
    chunk = world.run_messages_step()

    key = world.ports.secrets.get(CONNECTION, WEBHOOK_KEY)
    assert key and len(key) >= 40
    assert chunk.finished and (chunk.done, chunk.total) == (4, 4)
    assert _ours(world) == {name: (number, key) for name, number in DEFAULT_EVENTS.items()}
    assert key not in chunk.note and key not in repr(chunk.state)
    assert "stock_adjust (100)" in chunk.note and "PeakWMS's settings" in chunk.note
    hook = next(iter(peakwms_webhooks.list_webhooks(world.peakwms) or []))
    assert str(hook["url"]).startswith(f"{BASE}/webhooks/peakwms/{CONNECTION}/")


def test_a_rerun_keeps_what_is_there_and_a_settings_change_is_followed(world: World) -> None:
    """GIVEN the step ran with the defaults WHEN it runs again THEN nothing is registered or removed; WHEN stock
    adjustments are switched off and refunds on, and it runs again THEN the 100 is removed, the 104 registered, the
    rest kept — and PeakWMS's next stock message no longer reaches the connection."""
    world.run_messages_step()
    again = world.run_messages_step()
    changed = world.run_messages_step(messages={"stock_adjustments": False, "order_refunded": True})

    assert (again.state["registered"], again.state["removed"]) == ([], [])
    assert changed.state["removed"] == ["stock_adjust"] and changed.state["registered"] == ["order_refunded"]
    assert set(_ours(world)) == {"ean_updates", "pick_order_packed", "order_state_changed", "order_refunded"}
    variant = world.product("MUG-9")
    world.warehouse.sim.receive_stock(CUSTOMER, str(variant["product_id"]), str(variant["id"]), 3)
    assert [name for name, _ in world.delivered()] == []


def test_another_connections_registrations_on_the_same_peakwms_account_are_left_alone(world: World) -> None:
    """GIVEN another shop's connection registered its own 100 on the same PeakWMS account WHEN this connection's
    step runs with stock adjustments off THEN the other connection's registration stays."""
    other = f"{BASE}/webhooks/peakwms/c-other-shop/stock_adjust?key=other-key"
    peakwms_webhooks.register_webhook(world.peakwms, 100, other)

    world.run_messages_step(messages={"stock_adjustments": False})

    urls = [hook["url"] for hook in peakwms_webhooks.list_webhooks(world.peakwms) or []]
    assert other in urls
    assert "stock_adjust" not in _ours(world)


def test_the_self_check_follows_the_settings_only_once_the_step_was_run(world: World) -> None:
    """GIVEN a connection whose step 5 was never run WHEN the self-check looks THEN it registers nothing; GIVEN the
    step done and a webhook deleted in PeakWMS since WHEN the self-check looks THEN it registers it again and leaves
    an event saying so (without the key)."""
    connection = world.connection()
    table = world.ports.table

    before = setup_messages.UPKEEP.check(connection, world.ports.clients, world.ports.secrets, BASE, table)
    assert before == [] and _ours(world) == {}

    run = setup_progress.claim_run(table, CONNECTION, "messages", "2026-12-07T12:00:00Z", resume=False)
    chunk = world.run_messages_step()
    setup_progress.save_chunk(
        table, CONNECTION, "messages", run, finished=True, done=4, total=4, state=chunk.state, note=chunk.note,
        now_text="2026-12-07T12:00:01Z",
    )  # fmt: skip
    (lost,) = [h for h in peakwms_webhooks.list_webhooks(world.peakwms) or [] if "/ean_updates?" in str(h["url"])]
    peakwms_webhooks.delete_webhook(world.peakwms, str(lost["id"]))

    repaired = setup_messages.UPKEEP.check(connection, world.ports.clients, world.ports.secrets, BASE, table)

    assert repaired == ["peakwms:ean_updates"]
    assert set(_ours(world)) == set(DEFAULT_EVENTS)
    (recorded,) = [e for e in events.list_events(table, CONNECTION) if e["topic"] == setup_messages.SELF_CHECK_TOPIC]
    assert "ean_updates (101)" in recorded["reason"]
    assert world.ports.secrets.get(CONNECTION, WEBHOOK_KEY) not in str(events.with_payload(recorded))
