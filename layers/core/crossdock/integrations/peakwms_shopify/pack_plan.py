"""A pack's fulfilment recorded before Shopify is asked, so that a retry knows its own (docs/peakwms.md "Messages to
the shop").

`fulfillmentCreate` takes no key, and the record that a pick order (102) or an order state change (109) was
fulfilled is written after Shopify answered. An attempt that dies in between (a Lambda crash or timeout, a lost
answer) leaves the units fulfilled and no record; a 102 with tracking finds its number on a fulfilment, but one
without (the sweep's recovered pack, a pick order with no tracking, a 109) would find its units no longer left and
need attention, and the order would never be captured. So, as the refunds store their plan before `refundCreate`,
the handler records here what it is about to fulfil — the message (pick order key, or `STATE_CHANGE` for a 109),
whether the sweep sent it, each line's units and what Shopify had left of it, and the order's fulfilment ids — then
calls Shopify, then writes its records and closes the plan.

One plan per order (mapping `pack_plan`, keyed by the Shopify order id): every message of an order holds the
order's lease (`message_basics.order_lock`), and each first settles the plan an earlier attempt left before it
plans its own. Settling compares the plan with the fulfillment orders read now:
- a fulfilment made since the plan and every planned line's remaining units down by at least its planned units:
  the fulfilment happened, and the new fulfilments are it (the handler adopts them);
- no fulfilment since, or none of the planned lines down at all: it did not happen (fulfil as normal; a later
  message's plan replaces it, so a retry never mistakes another pack's fulfilment for its own);
- a fulfilment since, and some line down by less: something else fulfilled part of those lines (the merchant in
  Shopify, or an attempt that died between the calls of an order split over locations) — the plan's own message
  needs attention naming that line, and nothing is fulfilled again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crossdock.connectors.shopify import fulfillments
from crossdock.connectors.shopify.fulfillments import OrderFulfillment
from crossdock.store import mappings

PLAN = "pack_plan"
SYSTEM = "peakwms"
PLANNED = "planned"
DONE = "done"
STATE_CHANGE = "order-state-change"  # the message of a 109's plan: every 109 of an order fulfils the same


@dataclass(frozen=True)
class PlannedLine:
    index: int  # the line's place in the message (`orderLines[index]`)
    units: int  # what the attempt was about to fulfil
    left: int  # what Shopify had left of the line then


@dataclass(frozen=True)
class PackPlan:
    order_id: str
    message: str  # the pick order key, or STATE_CHANGE
    swept: bool  # the PeakWMS sweep's recovered pack
    lines: dict[str, PlannedLine]  # by order line GID
    before: tuple[str, ...]  # the order's fulfilment ids when planned

    def units(self) -> dict[str, int]:
        return {gid: line.units for gid, line in self.lines.items()}


@dataclass(frozen=True)
class Settled:
    """What became of a plan: `happened` with the fulfilments made since it, or `problem` naming the line that
    something else fulfilled part of; neither: it did not happen."""

    happened: bool
    fulfillment_ids: tuple[str, ...] = ()
    problem: str | None = None


def record(
    table: Any,
    connection_id: str,
    state: OrderFulfillment,
    order_id: str,
    message: str,
    units: dict[str, int],
    indexes: dict[str, int],
    swept: bool = False,
) -> PackPlan:
    """The fulfilment about to be made (`units` and `indexes` by order line id or GID), stored before the call."""
    lines = {}
    for line, count in units.items():
        gid = fulfillments.line_item_gid(line)
        lines[gid] = PlannedLine(indexes.get(line, indexes.get(gid, 0)), int(count), _left(state, gid))
    plan = PackPlan(order_id, message, swept, lines, state.fulfillment_ids)
    stored = {
        _number(gid): {"index": line.index, "units": line.units, "left": line.left} for gid, line in lines.items()
    }
    mappings.put_mapping(
        table,
        connection_id,
        PLAN,
        SYSTEM,
        order_id,
        "",
        state=PLANNED,
        order=order_id,
        message=message,
        swept=swept,
        lines=stored,
        before=list(plan.before),
    )
    return plan


def pending(table: Any, connection_id: str, order_id: str) -> PackPlan | None:
    """The order's plan that no attempt closed yet, or None."""
    item = mappings.get_mapping(table, connection_id, PLAN, SYSTEM, order_id)
    if item is None or item.get("state") != PLANNED:
        return None
    lines = {
        fulfillments.line_item_gid(number): PlannedLine(int(line["index"]), int(line["units"]), int(line["left"]))
        for number, line in (item.get("lines") or {}).items()
    }
    before = tuple(str(found) for found in item.get("before") or [])
    return PackPlan(order_id, str(item.get("message") or ""), bool(item.get("swept")), lines, before)


def close(table: Any, connection_id: str, plan: PackPlan) -> None:
    """The plan's records are written: nothing is left to settle."""
    mappings.put_mapping(
        table, connection_id, PLAN, SYSTEM, plan.order_id, "", state=DONE, order=plan.order_id, message=plan.message
    )


def settle(plan: PackPlan, state: OrderFulfillment) -> Settled:
    """Whether the plan's fulfilment happened, read from the fulfillment orders now (see the module's rules)."""
    made = tuple(found for found in state.fulfillment_ids if found not in plan.before)
    if not made:
        return Settled(False)
    dropped = {gid: line.left - _left(state, gid) for gid, line in plan.lines.items()}
    if all(dropped[gid] >= line.units for gid, line in plan.lines.items()):
        return Settled(True, made)
    if not any(count > 0 for count in dropped.values()):
        return Settled(False)
    gid, line = min(
        ((gid, line) for gid, line in plan.lines.items() if dropped[gid] < line.units), key=lambda item: item[1].index
    )
    problem = (
        f"orderLines[{line.index}]: {line.units} unit(s) of line {_number(gid)} were being fulfilled with "
        f"{line.left} left, and {state.name} has {_left(state, gid)} left now after {len(made)} fulfilment(s) made "
        f"since ({', '.join(found.rsplit('/', 1)[-1] for found in made)}) that fulfilled {max(dropped[gid], 0)} of "
        "it: something else fulfilled part of these lines (check the order in Shopify and fulfil what is missing "
        "there)"
    )
    return Settled(False, made, problem)


def _left(state: OrderFulfillment, gid: str) -> int:
    """What Shopify has left of the order line on any of its fulfillment orders."""
    return sum(line.remaining for fo in state.fulfillment_orders for line in fo.lines if line.line_item_id == gid)


def _number(gid: str) -> str:
    return str(gid).rsplit("/", 1)[-1]
