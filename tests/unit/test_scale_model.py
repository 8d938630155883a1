"""bench/scale_model.py's arithmetic (issue 18's paper model), checked row by row against sums done by hand from the
inputs it names: a quota's binding point, a derived integration's units, a month's fixed cost, and the report."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _bench_module(name: str) -> ModuleType:
    """bench/ holds scripts, not a package: load the model from its file."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


model = _bench_module("scale_model")


def _quota(name_starts: str) -> Any:
    kinds = model.integrations(100)
    return next(quota for quota in model.quotas(kinds, 100) if quota.name.startswith(name_starts))


def test_step_functions_start_rate_binds_where_the_hand_sum_says() -> None:
    # GIVEN 100 orders a day, a tenth in the busiest hour, Black Friday five times that: 50 orders an hour
    peak_per_second = 100 * 0.10 * 5 / 3600
    # and 0.95 executions per web order (45 % of the orders), one per till sale (30 %); the others run none
    starts_per_merchant = peak_per_second * (0.45 * 0.95 + 0.30 * 1)
    # WHEN the model works out the StartExecution row
    quota = _quota("Step Functions StartExecution")
    # THEN it adds what the hand sum adds, and binds at 300 a second over it
    assert quota.per_merchant == pytest.approx(starts_per_merchant)
    assert quota.binds_at() == pytest.approx(300 / starts_per_merchant)
    assert round(quota.binds_at()) == round(300 / (100 * 0.10 * 5 / 3600 * 0.7275))


def test_the_self_check_binds_first_at_150_merchants() -> None:
    # GIVEN four connections a merchant, two platform calls each at 0.25 s, in one 300-second invocation
    quota = _quota("self-check")
    # THEN one merchant takes 2 s of it: 150 merchants fill it
    assert quota.per_merchant == pytest.approx(4 * 2 * 0.25)
    assert quota.binds_at() == pytest.approx(150)


def test_a_derived_integration_scales_the_shopify_order_by_its_aws_requests() -> None:
    # GIVEN PeakWMS's steps per order: received 22, held 9.9 (a fifth), packed 54.4, shipped 7.7, refunded 28.1 (a
    # tenth) and five shelf counts a day of 8.1 over its 25 orders
    calls = 22 + 9.9 * 0.2 + 54.4 + 7.7 + 28.1 * 0.1 + 8.1 * 5 / 25
    packs = next(kind for kind in model.integrations(100) if kind.kind == "peakwms_shopify")
    # THEN its AWS requests are that sum, its write units the Shopify order's 99.2 scaled by 133 requests
    assert packs.aws_calls == pytest.approx(calls)
    assert packs.units["dynamodb_wru"] == pytest.approx(99.2 * calls / 133)
    # and it runs no workflow, and pays API Gateway for its own webhooks only
    assert packs.units["sfn_transitions"] == 0 and packs.units["api_requests"] == packs.webhooks


def test_a_till_sale_is_its_measured_requests_plus_the_second_followers_stock_work() -> None:
    # GIVEN the bench's 80.10 AWS requests a sale with one follower, and 5 stock changes × 8.1 for the Shopify shop
    pos = next(kind for kind in model.integrations(100) if kind.kind == "rackbeat_shopbox")
    # THEN the sale makes both, runs one workflow of 4.04 / 0.95 transitions, and pays for 10 stock webhooks
    assert pos.aws_calls == pytest.approx(model.SHOPBOX_SALE_AWS_CALLS + 5 * 8.1)
    assert pos.units["sfn_executions"] == 1 and pos.units["sfn_transitions"] == pytest.approx(4.04 / 0.95)
    assert pos.units["api_requests"] == 10 and pos.events == 11


def test_a_connections_poll_runs_cost_what_poll_md_prices_a_run() -> None:
    # GIVEN the Webshipper stream every 5 minutes: 288 runs a day, 8,640 a month
    prices = model.Prices.load()
    fixed = model.fixed_usd_per_month("rackbeat_webshipper", 100, prices)
    # THEN each run pays 1 Scheduler and 1 Lambda invocation, 0.25 GB-s, 3 WRU and 1.5 RRU, plus the self-check share
    per_run = (
        prices.unit["scheduler_invocations"]
        + prices.unit["lambda_invocations"]
        + 0.25 * prices.unit["lambda_gb_seconds"]
        + 3 * prices.unit["dynamodb_wru"]
        + 1.5 * prices.unit["dynamodb_rru"]
    )
    assert sum(fixed.values()) == pytest.approx(8640 * per_run + 0.02)


def test_the_report_prints_every_section_with_the_binding_limits_in_order() -> None:
    printed = model.report(1000, 100)
    for heading in ("1. Per order", "2. Per merchant per month", "3. Peak", "Hot keys", "4. Per merchant"):
        assert any(line.startswith(heading) or heading in line for line in printed), heading
    limits = [line for line in printed if line.startswith("| ") and "binds" not in line]
    peak_rows = [line for line in limits if line.split(" | ")[0].lstrip("| ").startswith(("self-check", "API Gateway"))]
    assert peak_rows[0].startswith("| self-check")  # the first to bind, at the smallest number of merchants
