"""The reconciliation sweep (SPEC §5) heals what webhooks missed, end to end on the embedded stack: webhooks lost
in flight in the Shopify simulator, the connection's own EventBridge Scheduler schedules (one per stream, run by the
poll function) firing on the virtual clock, and the repairs done by the ordinary machinery (dispatch, the order
workflow, the stock push)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from crossdock.connections.model import ConnectionState
from crossdock.connectors.shopify.order_query import epoch, search_time
from crossdock.flows.poll import lease_name
from crossdock.flows.poll_schedules import poll_event, schedule_name
from crossdock.integrations.rackbeat_shopify import lifecycle
from crossdock.integrations.rackbeat_shopify.reconciliation import ORDER_STREAM, STOCK_STREAM, SWEEP_TOPIC
from crossdock.store import connections, cursors, leases
from crossdock.store.events import received_stamp
from crossdock.topics import RESYNC_TOPIC
from crossdock_local.scenarios.demo import demo_settings
from crossdock_local.stack import LocalStack

CREDITING = {"refunds_as_credit_notes": True, "rackbeat_status": "invoiced_and_shipped"}
ALL_LOCATIONS = {"rackbeat_location": None}


def _group(stack: LocalStack) -> str:
    return stack.aws.resources["PollScheduleGroup"].ref


def _schedule(merchant: Any, stream: str = ORDER_STREAM) -> dict[str, Any] | None:
    scheduler = boto3.client("scheduler", region_name=merchant.stack.aws.region)
    name = schedule_name(stream, merchant.connection.connection_id)
    try:
        found: dict[str, Any] = scheduler.get_schedule(Name=name, GroupName=_group(merchant.stack))
    except scheduler.exceptions.ResourceNotFoundException:
        return None
    return found


def _scheduled(merchant: Any, stream: str = ORDER_STREAM) -> bool:
    """Whether the embedded scheduler runs the stream's schedule (it is told of creations and deletions)."""
    key = (_group(merchant.stack), schedule_name(stream, merchant.connection.connection_id))
    return key in merchant.stack.aws.scheduler.scheduled()


def _poll(merchant: Any, stream: str) -> dict[str, Any]:
    """One run of the stream, as its schedule invokes the poll function."""
    payload: dict[str, Any] = merchant.poll(stream)
    return payload


def _sweep(merchant: Any) -> dict[str, Any]:
    """One sweep: a run of each stream (orders, then stock), as their schedules invoke them, and everything they
    queued worked off; the orders run's result with the stock run's findings and both failures (by part). It runs a
    few seconds after what the test did: a sweep looks at updates before the second it starts in (the next one looks
    at that second)."""
    merchant.stack.aws.clock.advance(3)
    orders, stock = _poll(merchant, ORDER_STREAM), _poll(merchant, STOCK_STREAM)
    merchant.stack.settle()
    failures = [
        {"part": stream.split("#")[-1], **run["failure"]}
        for stream, run in ((ORDER_STREAM, orders), (STOCK_STREAM, stock))
        if run["failure"] is not None
    ]
    return {
        **orders,
        "stock_checked": stock.get("stock_checked", 0),
        "stock_corrected": stock.get("stock_corrected", []),
        "failures": failures,
    }


def _sweep_events(merchant: Any) -> list[dict[str, Any]]:
    return [event for event in merchant.events() if event["topic"] == SWEEP_TOPIC]


def _cursor(merchant: Any, stream: str = ORDER_STREAM) -> str | None:
    found = cursors.load(merchant.stack.table, merchant.connection.connection_id, stream)
    return found.position if found else None


def _lost(stack: LocalStack, merchant: Any, order: dict[str, Any], *, paid: bool = True) -> dict[str, Any]:
    """An order placed in the shop whose webhooks never reach Crossdock."""
    placed: dict[str, Any] = stack.shopify.create_order(merchant.domain, order, paid=paid)
    assert stack.shopify.lose_pending(merchant.domain) >= 1
    return placed


def test_orders_whose_webhooks_were_lost_arrive_once_when_the_schedule_fires(
    stack: LocalStack, merchant_with: Any
) -> None:
    # GIVEN a shop whose webhooks for three paid orders and one unpaid order were lost on the way
    merchant = merchant_with()
    lost = [_lost(stack, merchant, merchant.order(index)) for index in range(3)]
    unpaid = _lost(stack, merchant, merchant.order(3), paid=False)
    delivered = stack.shopify.create_order(merchant.domain, merchant.order(4), paid=True)
    stack.settle()
    assert all(merchant.rackbeat_orders(order) == [] for order in lost)
    assert _schedule(merchant) is not None and _scheduled(merchant)
    # WHEN the connection's schedule comes due on the clock
    group, name = _group(stack), schedule_name(ORDER_STREAM, merchant.connection.connection_id)
    due = stack.aws.scheduler.due_at(name, group)
    assert due is not None
    stack.aws.clock.advance_to(due + 1)
    stack.settle()
    # THEN every lost paid order is in Rackbeat exactly once; the unpaid one is not (transfer_when is paid)
    assert any(run.schedule == name for run in stack.aws.schedule_runs)
    for order in [*lost, delivered]:
        assert merchant.stage_of(merchant.only_rackbeat_order(order)) == "invoiced_and_shipped"
    assert merchant.rackbeat_orders(unpaid) == []
    (repaired,) = _sweep_events(merchant)
    assert repaired["status"] == "done"
    assert repaired["reason"].startswith("sent for repair: 3 order(s) without a Rackbeat order: ")
    assert all(order["name"] in repaired["reason"] for order in lost)
    resyncs = [event for event in merchant.events() if event["topic"] == RESYNC_TOPIC]
    assert len(resyncs) == 3 and all(event["status"] == "done" for event in resyncs)
    # AND a second sweep finds nothing left to repair and records nothing
    report = _sweep(merchant)
    assert report["orders_enqueued"] == [] and report["failures"] == []
    assert len(_sweep_events(merchant)) == 1
    for order in lost:
        merchant.only_rackbeat_order(order)


def test_an_order_whose_webhook_arrives_after_the_sweep_is_not_duplicated(
    stack: LocalStack, merchant_with: Any
) -> None:
    merchant = merchant_with()
    # GIVEN a paid order whose webhooks are still on their way when the sweep runs
    order = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
    stack.aws.clock.advance(3)
    assert _poll(merchant, ORDER_STREAM)["orders_enqueued"] == [order["name"]]
    stack.aws.drain()  # the sweep's resync is worked off first
    # WHEN the late webhooks arrive after all
    stack.settle()
    # THEN the order is in Rackbeat once, and the late deliveries were refused as repeats
    merchant.only_rackbeat_order(order)
    late = [e for e in merchant.events() if e["topic"] in ("orders/create", "orders/paid")]
    assert late and all(e["status"] == "skipped" for e in late)


def test_an_order_whose_webhook_came_first_is_not_sent_again(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    order = stack.shopify.create_order(merchant.domain, merchant.order(1), paid=True)
    stack.settle()

    report = _sweep(merchant)

    assert report["orders_examined"] >= 1 and report["orders_enqueued"] == []
    merchant.only_rackbeat_order(order)
    assert _sweep_events(merchant) == []
    assert [e for e in merchant.events() if e["topic"] == RESYNC_TOPIC] == []


def test_the_cursor_stays_while_the_queue_refuses_and_moves_once_the_work_is_queued(
    stack: LocalStack, merchant_with: Any
) -> None:
    merchant = merchant_with()
    _sweep(merchant)
    before = _cursor(merchant)
    stack.aws.clock.advance(60)
    order = _lost(stack, merchant, merchant.order(2))
    queue_url = stack.aws.function_env("PollFunction")["INBOUND_QUEUE_URL"]
    # GIVEN the inbound queue cannot be reached by the sweep
    stack.aws.update_function_environment("PollFunction", {"INBOUND_QUEUE_URL": queue_url + "-missing"})
    try:
        refused = _sweep(merchant)
    finally:
        stack.aws.update_function_environment("PollFunction", {"INBOUND_QUEUE_URL": queue_url})
    # THEN nothing moved: the cursor, no Rackbeat order, no sweep event, and the failure is reported
    assert [(f["part"], f["failure_class"]) for f in refused["failures"]] == [("orders", "target_down")]
    assert before is not None and _cursor(merchant) == before
    assert merchant.rackbeat_orders(order) == [] and _sweep_events(merchant) == []
    # WHEN the queue is back
    stack.aws.clock.advance(60)
    healed = _sweep(merchant)
    # THEN the same window is looked at again, the order arrives, and the cursor moves to the window's end
    assert healed["failures"] == [] and healed["orders_enqueued"] == [order["name"]]
    assert healed["window"][0] == refused["window"][0]
    merchant.only_rackbeat_order(order)
    assert _cursor(merchant) == healed["window"][1]


def test_the_overlap_reaches_behind_the_cursor_and_no_further(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN overlap_minutes 10: an order updated 11 minutes before the cursor and one updated 6 minutes before it,
    # both lost, as if Shopify had not indexed them yet when the previous sweep looked
    merchant = merchant_with(reconciliation={"interval_minutes": 15, "overlap_minutes": 10})
    too_old = _lost(stack, merchant, merchant.order(5))
    stack.aws.clock.advance(5 * 60)
    recent = _lost(stack, merchant, merchant.order(6))
    stack.aws.clock.advance(6 * 60)
    position = search_time(stack.aws.clock.time())
    cursors.save(stack.table, merchant.connection.connection_id, ORDER_STREAM, position, received_stamp())
    # WHEN the sweep runs
    report = _sweep(merchant)
    # THEN it looked from ten minutes before the cursor: the recent order arrives, the older one stays missing
    assert epoch(report["window"][0]) == epoch(position) - 10 * 60
    assert report["orders_enqueued"] == [recent["name"]]
    merchant.only_rackbeat_order(recent)
    assert merchant.rackbeat_orders(too_old) == []


def test_the_first_sweep_looks_back_one_interval_and_the_overlap(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with(reconciliation={"interval_minutes": 20, "overlap_minutes": 5})
    started = stack.aws.clock.time()

    report = _sweep(merchant)

    assert _cursor(merchant) == report["window"][1]
    assert epoch(report["window"][1]) - epoch(report["window"][0]) == pytest.approx(25 * 60, abs=2)
    assert epoch(report["window"][1]) == pytest.approx(started + 3, abs=2)


def test_a_refund_whose_webhook_was_lost_becomes_one_credit_note(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN an order invoiced in Rackbeat, then refunded in the shop with the refund's webhook lost
    merchant = merchant_with(orders=CREDITING)
    placed = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
    stack.settle()
    line = next(item for item in placed["line_items"] if item.get("sku"))
    refund = stack.shopify.refund(merchant.domain, placed["id"], [(line["id"], 1)])
    assert stack.shopify.lose_pending(merchant.domain, {"refunds/create"}) == 1
    stack.settle()
    assert list(stack.rackbeat.credit_notes(merchant.account)) == []
    # WHEN the sweep runs, twice
    first = _sweep(merchant)
    second = _sweep(merchant)
    # THEN the refund is one booked credit note, sent once
    assert first["refunds_enqueued"] == [str(refund["id"])] and second["refunds_enqueued"] == []
    (note,) = stack.rackbeat.credit_notes(merchant.account)
    assert note["is_booked"] and str(refund["id"]) in note["other_reference"]
    (repaired,) = _sweep_events(merchant)
    assert f"1 refund(s) without a credit note: {refund['id']}" in repaired["reason"]
    (credited,) = [e for e in merchant.events() if e["topic"] == "refunds/create"]
    assert credited["status"] == "done" and credited["source"] == "shopify"


def test_stock_that_differs_is_set_in_the_shop_by_the_stock_push(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN the shop shows 3 of an item Rackbeat holds 10,000 of (the stock webhook never came), another one right
    merchant = merchant_with(stock_sync={"enabled": True}, fulfillment=ALL_LOCATIONS)
    merchant.shop_product("SKU-001", available=3)
    merchant.shop_product("SKU-002", available=10_000)
    pushes = stack.shopify.mutation_count("inventorySetQuantities")
    # WHEN the sweep runs
    report = _sweep(merchant)
    # THEN the push set the difference, in one mutation, and the sweep says what it found
    assert merchant.shop_quantities("SKU-001") == [10_000]
    assert merchant.shop_quantities("SKU-002") == [10_000]
    assert [d["sku"] for d in report["stock_corrected"]] == ["SKU-001"]
    assert report["stock_corrected"][0] == {"sku": "SKU-001", "rackbeat": 10_000, "shop": [3]}
    assert stack.shopify.mutation_count("inventorySetQuantities") == pushes + 1
    (repaired,) = _sweep_events(merchant)
    assert "stock of 1 item(s) differs from Rackbeat: SKU-001 (Rackbeat 10000, shop [3])" in repaired["reason"]
    # AND the whole catalog fit in this sweep, so the walk starts over, and nothing differs any more
    assert _cursor(merchant, STOCK_STREAM) == "0"
    assert _sweep(merchant)["stock_corrected"] == []


def test_a_catalog_read_item_by_item_is_walked_in_pages_across_sweeps(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN stock read per location (one call per item): 150 more items, of which the last differs in the shop
    merchant = merchant_with(stock_sync={"enabled": True})
    extra = [f"ZZ-{n:03d}" for n in range(150)]
    stack.seed_items(merchant.account, extra, stock=7)
    merchant.shop_product(extra[-1], available=0)
    # WHEN the sweep runs: the first page does not reach it, the second does
    first = _sweep(merchant)
    assert first["stock_corrected"] == [] and _cursor(merchant, STOCK_STREAM) == "100"
    second = _sweep(merchant)
    # THEN it is corrected then, and the walk starts over
    assert [d["sku"] for d in second["stock_corrected"]] == [extra[-1]]
    assert merchant.shop_quantities(extra[-1]) == [7]
    assert _cursor(merchant, STOCK_STREAM) == "0"
    assert first["stock_checked"] == 100 and second["stock_checked"] == len(extra) + 42 - 100


def test_the_schedule_follows_the_interval_in_the_settings(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with(reconciliation={"interval_minutes": 30, "overlap_minutes": 5})
    schedule = _schedule(merchant)
    assert schedule is not None
    assert schedule["ScheduleExpression"] == "rate(30 minutes)"
    assert schedule["State"] == "ENABLED"
    assert json.loads(schedule["Target"]["Input"]) == {
        "connection_id": merchant.connection.connection_id,
        "stream": ORDER_STREAM,
    }
    assert schedule["Target"]["Arn"] == stack.aws.resources["PollFunction"].attrs["Arn"]
    assert schedule["Target"]["RoleArn"] == stack.aws.resources["PollScheduleRole"].attrs["Arn"]
    assert schedule["Target"]["DeadLetterConfig"]["Arn"] == stack.aws.queue_arn("PollDeadLetterQueue")
    name, group = schedule["Name"], _group(stack)
    created = stack.aws.clock.time()
    due = stack.aws.scheduler.due_at(name, group)
    assert due is not None and created + 29 * 60 < due <= created + 30 * 60
    # WHEN the merchant saves a longer interval
    settings = {**merchant.settings, "reconciliation": {"interval_minutes": 60, "overlap_minutes": 10}}
    stack.update_settings(merchant.connection, settings)
    # THEN the schedule fires hourly
    updated = _schedule(merchant)
    assert updated is not None and updated["ScheduleExpression"] == "rate(60 minutes)"
    runs = len([run for run in stack.aws.schedule_runs if run.schedule == name])
    stack.aws.clock.advance_to(created + 30 * 60 + 1)
    stack.aws.fire_due_schedules()  # the first run was set for 30 minutes; from then on it is hourly
    stack.aws.clock.advance(59 * 60)
    stack.aws.fire_due_schedules()
    stack.aws.clock.advance(2 * 60)
    stack.aws.fire_due_schedules()
    fired = [run for run in stack.aws.schedule_runs if run.schedule == name][runs:]
    assert len(fired) == 2 and all(run.error_type is None for run in fired)
    assert fired[1].fired_at - fired[0].fired_at >= 60 * 60
    stack.settle()


def test_with_reconciliation_off_there_is_no_schedule(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with(reconciliation={"enabled": False})
    assert _schedule(merchant) is None and not _scheduled(merchant)
    # Switching it on makes one; switching it off again removes it with the sweep's cursors.
    on = {**merchant.settings, "reconciliation": {"enabled": True}}
    stack.update_settings(merchant.connection, on)
    assert _schedule(merchant) is not None and _scheduled(merchant)
    _sweep(merchant)
    assert _cursor(merchant) is not None
    stack.update_settings(merchant.connection, {**on, "reconciliation": {"enabled": False}})
    assert _schedule(merchant) is None and not _scheduled(merchant)
    assert _cursor(merchant) is None


def test_uninstalling_the_app_removes_the_schedule(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    connection = connections.load_connection(stack.table, merchant.connection.connection_id)
    assert connection is not None and _schedule(merchant) is not None
    _sweep(merchant)
    outcome = lifecycle.uninstall(stack.table, stack.secrets, connection, "EVT#none", schedules=stack.poll_schedules())
    assert outcome.status.value == "done"
    assert _schedule(merchant) is None and not _scheduled(merchant)
    assert _cursor(merchant) is None


def test_a_schedule_left_behind_removes_itself_at_its_next_run(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN a connection uninstalled without its schedule being removed
    merchant = merchant_with()
    stack.shopify.uninstall(merchant.domain)
    stack.settle()
    stack.poll_schedules().schedules.put(
        schedule_name(ORDER_STREAM, merchant.connection.connection_id),
        "rate(15 minutes)",
        poll_event(merchant.connection.connection_id, ORDER_STREAM),
        "left behind",
    )
    # WHEN it fires
    report = _sweep(merchant)
    # THEN it did nothing but remove itself
    assert report["skipped"] == f"connection {merchant.connection.connection_id} is uninstalled"
    assert _schedule(merchant) is None


def test_a_paused_connection_keeps_its_schedule_and_is_caught_up_once_active(
    stack: LocalStack, merchant_with: Any
) -> None:
    merchant = merchant_with()
    connection_id = merchant.connection.connection_id
    _sweep(merchant)
    connections.set_state(stack.table, connection_id, ConnectionState.PAUSED, received_stamp())
    order = _lost(stack, merchant, merchant.order(7))

    paused = _sweep(merchant)

    assert paused["skipped"] == f"connection {connection_id} is paused"
    assert _schedule(merchant) is not None and _cursor(merchant) is not None
    connections.set_state(stack.table, connection_id, ConnectionState.ACTIVE, received_stamp())
    assert _sweep(merchant)["orders_enqueued"] == [order["name"]]
    merchant.only_rackbeat_order(order)


def test_installing_through_shopify_makes_the_schedule(stack: LocalStack) -> None:
    pending = stack.begin_install(
        {**demo_settings(), "reconciliation": {"interval_minutes": 45}}, shop_domain="reconcile-new.myshopify.com"
    )
    scheduler = boto3.client("scheduler", region_name=stack.aws.region)
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        scheduler.get_schedule(Name=schedule_name(ORDER_STREAM, pending.connection_id), GroupName=_group(stack))

    stack.install(pending)

    schedule = scheduler.get_schedule(Name=schedule_name(ORDER_STREAM, pending.connection_id), GroupName=_group(stack))
    assert schedule["ScheduleExpression"] == "rate(45 minutes)"
    assert (_group(stack), schedule_name(ORDER_STREAM, pending.connection_id)) in stack.aws.scheduler.scheduled()


def test_stock_sync_gives_the_stock_stream_a_schedule_of_its_own(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with(
        stock_sync={"enabled": True}, reconciliation={"interval_minutes": 20, "overlap_minutes": 5}
    )
    stock = _schedule(merchant, STOCK_STREAM)
    assert stock is not None and stock["ScheduleExpression"] == "rate(20 minutes)"
    assert json.loads(stock["Target"]["Input"])["stream"] == STOCK_STREAM and _scheduled(merchant, STOCK_STREAM)
    # WHEN stock sync is switched off, THEN the stock stream's schedule and cursor go; the orders' stay
    _sweep(merchant)
    assert _cursor(merchant, STOCK_STREAM) is not None
    stack.update_settings(merchant.connection, {**merchant.settings, "stock_sync": {"enabled": False}})
    assert _schedule(merchant, STOCK_STREAM) is None and not _scheduled(merchant, STOCK_STREAM)
    assert _cursor(merchant, STOCK_STREAM) is None
    assert _schedule(merchant, ORDER_STREAM) is not None and _cursor(merchant) is not None


def test_a_run_while_another_polls_the_stream_is_skipped(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN a run of the orders stream under way (its lease held), and an order whose webhooks were lost
    merchant = merchant_with()
    connection_id = merchant.connection.connection_id
    _sweep(merchant)
    before = _cursor(merchant)
    order = _lost(stack, merchant, merchant.order(8))
    now = stack.aws.clock.time()
    held = leases.claim(stack.table, lease_name(connection_id, ORDER_STREAM), "the other run", now, 600)
    assert held is not None
    # WHEN the schedule invokes the poll function again meanwhile
    stack.aws.clock.advance(3)
    skipped = _poll(merchant, ORDER_STREAM)
    # THEN it does nothing: the cursor stays and nothing is sent
    assert skipped["skipped"] == f"stream {ORDER_STREAM} of connection {connection_id} is being polled by another run"
    assert _cursor(merchant) == before and merchant.rackbeat_orders(order) == []
    # AND once that run is over, the next one finds the order
    leases.release(stack.table, held)
    assert _sweep(merchant)["orders_enqueued"] == [order["name"]]
