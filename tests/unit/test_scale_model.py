"""bench/scale_model.py's arithmetic (issue 18's paper model), checked row by row against sums done by hand from the
inputs it names: a quota's binding point, a derived integration's units, a month's fixed cost, and the report."""

from __future__ import annotations

from typing import Any

import pytest
from bench_modules import bench_module

model = bench_module("scale_model")


def _quota(name_starts: str) -> Any:
    kinds = model.integrations(100)
    return next(quota for quota in model.quotas(kinds, 100) if quota.name.startswith(name_starts))


def test_step_functions_start_rate_binds_where_the_hand_sum_says() -> None:
    # GIVEN 100 orders a day, a tenth in the busiest hour, Black Friday five times that: 50 orders an hour
    peak_per_second = 100 * 0.10 * 5 / 3600
    # and 0.95 executions per web order (45 % of the orders), 1.10 per till sale (30 %); the others run none
    starts_per_merchant = peak_per_second * (0.45 * 0.95 + 0.30 * 1.10)
    # WHEN the model works out the StartExecution row
    quota = _quota("Step Functions StartExecution")
    # THEN it adds what the hand sum adds, and binds at 300 a second over it
    assert quota.per_merchant == pytest.approx(starts_per_merchant)
    assert quota.binds_at() == pytest.approx(300 / starts_per_merchant)


def test_the_self_checks_consumers_bind_where_20_containers_fill_the_hour() -> None:
    # GIVEN four connections a merchant, two platform calls each at 0.25 s, checked by 20 containers every hour
    quota = _quota("self-check: the queue's consumers")
    # THEN one merchant takes 2 container-seconds of the 72,000: 36,000 merchants fill them
    assert quota.per_merchant == pytest.approx(4 * 2 * 0.25)
    assert quota.binds_at() == pytest.approx(36_000)


def test_the_self_checks_queueing_run_binds_where_its_120_seconds_are_full() -> None:
    # GIVEN four connections a merchant, each a 500th of an index page and a tenth of a SendMessageBatch, 10 ms each
    quota = _quota("self-check: the schedule's run")
    # THEN one merchant takes 4 × 1.02 ms of the run's 120 s
    assert quota.per_merchant == pytest.approx(4 * (0.010 / 500 + 0.010 / 10))
    assert quota.binds_at() == pytest.approx(120 / (4 * 0.00102))


def test_peakwms_orders_are_the_cost_benchs_units_and_the_calls_benchs_requests() -> None:
    # GIVEN PeakWMS's steps per order: received 22, held 9.9 (a fifth), packed 54.4, shipped 7.7, refunded 28.1 (a
    # tenth) and five shelf counts a day of 8.1 over its 25 orders
    calls = 22 + 9.9 * 0.2 + 54.4 + 7.7 + 28.1 * 0.1 + 8.1 * 5 / 25
    packs = next(kind for kind in model.integrations(100) if kind.kind == "peakwms_shopify")
    # THEN its AWS requests are that sum (Lambda's time on AWS), its billed units cost_all.py's as measured
    assert packs.aws_calls == pytest.approx(calls)
    assert packs.units["dynamodb_wru"] == 74.9 and packs.units["api_requests"] == packs.webhooks == 8.47
    # and it runs no workflow
    assert packs.units["sfn_transitions"] == 0 and packs.units["sfn_executions"] == 0


def test_a_till_sale_adds_the_second_followers_stock_work_to_what_was_measured() -> None:
    # GIVEN a measured sale (45.6 WRU, 5.16 webhooks, 4.40 transitions in 1.10 executions) and, for the merchant's
    # Shopify shop, 5 stock changes × 8.1 AWS requests priced as a Shopify order's 90.8 WRU over its 133 requests
    pos = next(kind for kind in model.integrations(100) if kind.kind == "rackbeat_shopbox")
    # THEN the sale pays for both, and runs the workflow as measured
    assert pos.aws_calls == pytest.approx(80.10 + 5 * 8.1)
    assert pos.units["dynamodb_wru"] == pytest.approx(45.6 + 90.8 * 5 * 8.1 / 133)
    assert pos.units["api_requests"] == pytest.approx(5.16 + 5) and pos.events == pytest.approx(5.16 + 5 + 1)
    assert pos.units["sfn_executions"] == 1.10 and pos.units["sfn_transitions"] == 4.40


def test_a_connections_poll_runs_cost_what_their_idle_run_measured() -> None:
    # GIVEN the Webshipper stream every 5 minutes: 288 runs a day, 8,640 a month, $0.0000040 a run measured
    prices = model.Prices.load()
    fixed = model.fixed_usd_per_month("rackbeat_webshipper", 100, prices)
    # THEN the month is those runs plus the connection's share of the self-check
    assert sum(fixed.values()) == pytest.approx(8640 * 0.0000040 + 0.02)
    assert fixed["EventBridge Scheduler"] == pytest.approx(8640 * prices.unit["scheduler_invocations"])


def test_the_report_prints_every_section_with_the_binding_limits_in_order() -> None:
    printed = model.report(1000, 100)
    for heading in ("1. Per order", "2. Per merchant per month", "3. Peak", "Hot keys", "4. Per merchant"):
        assert any(line.startswith(heading) or heading in line for line in printed), heading
    limits = [line for line in printed if line.startswith("| ") and "binds" not in line]
    peak_rows = [line for line in limits if line.split(" | ")[0].lstrip("| ").startswith(("self-check", "API Gateway"))]
    # the first to bind, at the smallest number of merchants, now the webhook API's throttle (the self-check queues)
    assert peak_rows[0].startswith("| API Gateway stage throttle")
