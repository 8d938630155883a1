"""`crossdock demo`: 200 varied Shopify orders through the embedded stack into Rackbeat, then an audit.

The audit reads the simulators' own state, not Crossdock's: every paid Shopify order must exist exactly once in
Rackbeat, processed to the connection's target, with the same total; every unpaid one must not exist. The run
exits non-zero if any of that fails.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from crossdock.integrations.rackbeat_shopify.settings import RackbeatStatus
from crossdock.store import events
from crossdock_local.scenarios import demo_catalog, demo_orders, demo_peakwms, demo_shopbox, demo_webshipper
from crossdock_local.scenarios.demo_catalog import CatalogAudit
from crossdock_local.sims.shopify.order_generator import varied_orders
from crossdock_local.stack import ROUNDING_ITEM, SHIPPING_ITEM, LocalStack

DEMO_LOG = Path(tempfile.gettempdir()) / "crossdock-demo.log"
DEMO_SKUS = [f"SKU-{n:03d}" for n in range(1, 41)]
SHOPBOX_ITEMS, SHOPBOX_SALES = 12, 60


def demo_settings(
    target: RackbeatStatus = RackbeatStatus.INVOICED_AND_SHIPPED, transfer_when: str = "paid"
) -> dict[str, Any]:
    return {
        "shipping_product_number": SHIPPING_ITEM,
        "customer_defaults": {
            "currency": "DKK",
            "language": "da",
            "vat_zone": "domestic",
            "customer_group": 1,
            "layout": 1,
            "payment_terms": 1,
        },
        "employees": {"web": 1, "pos": 2},
        "orders": {"transfer_when": transfer_when, "rackbeat_status": target.value},
        "fulfillment": {"rackbeat_location": "L1"},
        "advanced": {"rounding_product_number": ROUNDING_ITEM},
    }


@dataclass
class Audit:
    """What the run produced, checked against what Shopify holds."""

    orders_received: int = 0
    expected_in_rackbeat: int = 0
    rackbeat_orders: int = 0
    per_stage: Counter[str] = field(default_factory=Counter)
    missing: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    wrong_stage: list[str] = field(default_factory=list)
    total_mismatch: list[str] = field(default_factory=list)
    events: Counter[str] = field(default_factory=Counter)
    needs_attention: Counter[str] = field(default_factory=Counter)
    duplicates_suppressed: int = 0
    api_calls: dict[str, int] = field(default_factory=dict)
    http_429: int = 0
    wall_seconds: float = 0.0
    catalog: CatalogAudit = field(default_factory=CatalogAudit)
    after_sales: demo_orders.AfterSalesAudit = field(default_factory=demo_orders.AfterSalesAudit)
    shopbox: demo_shopbox.ShopboxAudit = field(default_factory=demo_shopbox.ShopboxAudit)
    webshipper: demo_webshipper.WebshipperAudit = field(default_factory=demo_webshipper.WebshipperAudit)
    peakwms: demo_peakwms.PeakwmsAudit = field(default_factory=demo_peakwms.PeakwmsAudit)

    @property
    def ok(self) -> bool:
        problems = (self.missing, self.duplicated, self.unexpected, self.wrong_stage, self.total_mismatch)
        orders_ok = not any(problems) and self.rackbeat_orders == self.expected_in_rackbeat
        parts_ok = self.catalog.ok and self.after_sales.ok and self.shopbox.ok and self.webshipper.ok
        parts_ok = parts_ok and self.peakwms.ok
        return orders_ok and not self.needs_attention and parts_ok


def rackbeat_stage(order: dict[str, Any], shipments: list[dict[str, Any]], invoice: dict[str, Any] | None) -> str:
    """Names the SPEC §1.5 status a Rackbeat order is in, from its flags, shipments and invoice."""
    if not order.get("is_booked"):
        return RackbeatStatus.DRAFT.value
    shipped = any(s.get("is_shipped") for s in shipments)
    if invoice is None:
        if not shipments:
            return RackbeatStatus.BOOKED.value
        return RackbeatStatus.SHIPPED.value if shipped else RackbeatStatus.READY_TO_SHIP.value
    if not invoice.get("is_booked"):
        return RackbeatStatus.READY_TO_INVOICE.value
    if not shipments:
        return RackbeatStatus.INVOICED.value
    return RackbeatStatus.INVOICED_AND_SHIPPED.value if shipped else RackbeatStatus.INVOICED_READY_TO_SHIP.value


def audit(stack: LocalStack, account: int, domain: str, connection_id: str, target: RackbeatStatus) -> Audit:
    result = Audit()
    state = stack.rackbeat.state(account)
    by_reference: dict[str, list[dict[str, Any]]] = {}
    for order in state.orders.values():
        by_reference.setdefault(str(order.get("other_reference", "")), []).append(order)
    shop_orders = list(stack.shopify.shop(domain).orders.values())
    result.orders_received = len(shop_orders)
    for shop_order in shop_orders:
        reference = f"Shopify {shop_order['name']} ({shop_order['id']})"
        found = by_reference.get(reference, [])
        should_exist = shop_order.get("financial_status") in ("paid", "partially_refunded", "refunded")
        result.expected_in_rackbeat += should_exist
        if should_exist and not found:
            result.missing.append(reference)
        elif not should_exist and found:
            result.unexpected.append(reference)
        if len(found) > 1:
            result.duplicated.append(reference)
        for order in found[:1]:
            _audit_order(result, state, order, shop_order, reference, target)
    result.rackbeat_orders = len(state.orders)
    for event in events.list_events(stack.table, connection_id):
        result.events[str(event["status"])] += 1
        if event["status"] == "needs_attention":
            result.needs_attention[str(event.get("reason", ""))[:110]] += 1
        if "already being transferred" in str(event.get("reason", "")) or "already Rackbeat order" in str(
            event.get("reason", "")
        ):
            result.duplicates_suppressed += 1
    result.duplicates_suppressed += _repeated_deliveries(stack)
    return result


def _audit_order(
    result: Audit,
    state: Any,
    order: dict[str, Any],
    shop_order: dict[str, Any],
    reference: str,
    target: RackbeatStatus,
) -> None:
    shipments = [s for s in state.shipments.values() if s.get("order_number") == order["number"]]
    invoices = [i for i in state.invoices.values() if i.get("order_number") == order["number"]]
    stage = rackbeat_stage(order, shipments, invoices[0] if invoices else None)
    result.per_stage[stage] += 1
    if stage != target.value:
        result.wrong_stage.append(f"{reference}: {stage}")
    if Decimal(str(order["total"])) != Decimal(str(shop_order["total_price"])):
        result.total_mismatch.append(f"{reference}: Rackbeat {order['total']} vs Shopify {shop_order['total_price']}")


def _repeated_deliveries(stack: LocalStack) -> int:
    scan = stack.table.scan(
        FilterExpression="begins_with(pk, :dlv) AND repeats > :zero",
        ExpressionAttributeValues={":dlv": "DLV#", ":zero": 0},
    )
    return sum(int(item["repeats"]) for item in scan["Items"])


def run_demo(
    order_count: int = 200, seed: int = 2026, rackbeat_rate_limit: int = 480, log_path: Path = DEMO_LOG
) -> Audit:
    """Runs the demo; what the functions print (their JSON logs and metrics, as in CloudWatch) goes to `log_path`."""
    started = time.perf_counter()
    target = RackbeatStatus.INVOICED_AND_SHIPPED
    with (
        log_path.open("w") as log,
        contextlib.redirect_stdout(log),
        LocalStack(rackbeat_rate_limit=rackbeat_rate_limit, seed=seed) as stack,
    ):
        settings = {**demo_settings(target), **demo_catalog.catalog_settings()}
        settings["orders"] = {**settings["orders"], "refunds_as_credit_notes": True}
        connection = stack.create_connection(settings, rackbeat_seed=demo_catalog.seed_reference_data)
        outlet = stack.create_connection(settings, shop_domain=demo_catalog.OUTLET_DOMAIN, rackbeat_account=connection)
        demo_catalog.publish_catalog(stack, connection, DEMO_SKUS, stock=10_000)
        stack.settle()
        plans = varied_orders(order_count, seed, DEMO_SKUS)
        created = [(plan, plan.create(stack.shopify, connection.shop_domain)) for plan in plans]
        stack.settle()
        for plan, order in created:
            plan.pay(stack.shopify, connection.shop_domain, int(order["id"]))
        stack.settle()
        after_sales = demo_orders.refund_and_cancel(stack, connection, seed)
        result = audit(stack, connection.rackbeat_account_id, connection.shop_domain, connection.connection_id, target)
        result.after_sales = after_sales
        demo_catalog.audit_shops(stack, [connection, outlet], DEMO_SKUS, result.catalog)
        # A Shopbox café on the same Rackbeat account, after the Shopify audit so it leaves that one alone.
        result.shopbox = demo_shopbox.run(
            stack, connection, DEMO_SKUS[:SHOPBOX_ITEMS], demo_catalog.PRODUCT_GROUP, SHOPBOX_SALES, rackbeat_stage
        )
        # A Webshipper warehouse on the same Rackbeat account (with a second shop whose orders it ships), also after.
        result.webshipper = demo_webshipper.run(
            stack, connection, demo_settings(target), DEMO_SKUS, demo_catalog.PRODUCT_GROUP, seed
        )
        # A PeakWMS warehouse connected to a new shop of its own (no Rackbeat), through its guided setup.
        result.peakwms = demo_peakwms.run(stack, seed)
        demo_catalog.run_initial_sync(stack, demo_settings(target), result.catalog)
        result.api_calls = {
            "rackbeat": stack.rackbeat.calls,
            "shopify (webhook deliveries)": len(stack.shopify.delivery_log),
            "shopify (Admin API)": stack.shopify.calls,
            "webshipper": stack.webshipper.calls,
            "peakwms": stack.peakwms.calls,
            **{f"aws {service}": sum(ops.values()) for service, ops in stack.aws.usage()["api_calls"].items()},
        }
        result.http_429 = stack.rackbeat.calls_by_status.get(429, 0)
    result.wall_seconds = time.perf_counter() - started
    return result


def render(result: Audit) -> str:
    rows: list[tuple[str, str]] = [
        ("Shopify orders received", str(result.orders_received)),
        ("paid (expected in Rackbeat)", str(result.expected_in_rackbeat)),
        ("Rackbeat orders", str(result.rackbeat_orders)),
        *[(f"  at stage {stage}", str(n)) for stage, n in sorted(result.per_stage.items())],
        ("duplicates suppressed", str(result.duplicates_suppressed)),
        *[(f"events {status}", str(n)) for status, n in sorted(result.events.items())],
        ("needs attention", str(sum(result.needs_attention.values()))),
        *[(f"  {reason}", str(n)) for reason, n in result.needs_attention.most_common()],
        (
            "missing / duplicated / unexpected",
            f"{len(result.missing)} / {len(result.duplicated)} / {len(result.unexpected)}",
        ),
        ("wrong stage / total mismatch", f"{len(result.wrong_stage)} / {len(result.total_mismatch)}"),
        *[(f"API calls: {system}", str(n)) for system, n in result.api_calls.items()],
        *demo_orders.render(result.after_sales),
        *demo_catalog.render(result.catalog),
        *demo_shopbox.render(result.shopbox),
        *demo_webshipper.render(result.webshipper),
        *demo_peakwms.render(result.peakwms),
        ("Rackbeat 429 answers", str(result.http_429)),
        ("wall time", f"{result.wall_seconds:.1f} s"),
        (
            "RESULT",
            "OK: every paid order reached its target once, totals equal; refunds credited once; products, stock "
            "and initial sync match; every Shopbox sale once at its target, cancelled ones credited, products "
            "equal, stock equal per branch; every Webshipper order sent, imported and shipped once, each Shopify "
            "one fulfilled once with its tracking; every PeakWMS order once, held until stock, fulfilled per pick "
            "order with its tracking and captured once, stock equal, refunded once"
            if result.ok
            else "FAILED",
        ),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"{label.ljust(width)}  {value}" for label, value in rows]
    for title, items in (
        ("missing", result.missing),
        ("duplicated", result.duplicated),
        ("unexpected", result.unexpected),
        ("wrong stage", result.wrong_stage),
        ("total mismatch", result.total_mismatch),
    ):
        lines.extend(f"{title}: {item}" for item in items[:10])
    lines.extend(f"catalog: {problem}" for problem in demo_catalog.problems(result.catalog))
    lines.extend(f"after sales: {problem}" for problem in result.after_sales.problems[:10])
    lines.extend(f"shopbox: {problem}" for problem in result.shopbox.problems[:10])
    lines.extend(f"webshipper: {problem}" for problem in result.webshipper.problems[:10])
    lines.extend(f"peakwms: {problem}" for problem in result.peakwms.problems[:10])
    return "\n".join(lines)
