"""Stock from a kind's stock master to its target (SPEC §1.3 `stock_sync`), coalesced and last-write-wins.

A stock change only marks the item as changed (`ports.StockMarks`; in the table, `store.stock`) and asks for a
push on the target's outbound queue. The push waits, within its invocation, until a burst has settled (no change
for `QUIET_SECONDS`, but never holds a change longer than `MAX_HOLD_SECONDS`), then, a target batch at a time:
reads each item's current quantity from the source and has the target set every level that differs. Because the
quantity is read when the push runs, duplicated or reordered webhooks cannot make an old quantity win, and 10,000
changes over 2,000 items become ⌈2,000 / batch⌉ batches. Source and target are the integration's
(`ports.StockSync`).

A source that can share its reads between connections of one stock-master account (`SharedReadSource`) is asked
with a moment the connection's changes of the item all came before (`DirtyItem.changed_by`: when ingest heard the
latest, for a webhook fanned out to the account's followers, else when it was marked): it may answer from a read
that started after that moment (another connection's, moments ago) instead of calling the master again, never
from an earlier one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from crossdock.connections.model import Connection
from crossdock.model.product import StockLevel
from crossdock.ports import CommandPorts, StockPushReport, StockSource, StockSync, StockTarget
from crossdock.store.stock import DirtyItem

# The outbound command that asks for a connection's push (`ports.CommandPorts.request_stock_push` sends it).
STOCK_PUSH = "stock.push"
QUIET_SECONDS = 3.0
MAX_HOLD_SECONDS = 60.0
SECONDS_PER_BATCH_RESERVE = 45.0  # stop starting batches when less Lambda time than this is left


@runtime_checkable
class SharedReadSource(Protocol):
    """A `ports.StockSource` whose reads serve every connection on the same stock-master account."""

    def quantity_after(self, number: str, changed_at: float, table: Any, now: Callable[[], float]) -> int | None:
        """As `quantity`, from a read that started at or after `changed_at` (a kept one, or a new one)."""
        ...


def push_stock(connection: Connection, sync: StockSync, ports: CommandPorts) -> StockPushReport:
    report = StockPushReport()
    if not sync.enabled(connection):
        for item in ports.marks.dirty(connection.id):
            ports.marks.clear(connection.id, item)
        return report
    dirty = _settled_burst(connection, ports, report)
    if not dirty:
        return report
    source, target = sync.endpoints(connection, ports.clients)
    size = target.batch_size
    for start in range(0, len(dirty), size):
        if ports.seconds_left() < SECONDS_PER_BATCH_RESERVE:
            report.more = True
            ports.continue_stock_push(connection.id)
            break
        _push_batch(connection, dirty[start : start + size], source, target, report, ports)
    return report


def _settled_burst(connection: Connection, ports: CommandPorts, report: StockPushReport) -> list[DirtyItem]:
    """The changed items once the burst has paused (or the oldest change is due), waiting in this invocation.

    FIFO queues have no per-message delay, so a push asking for itself again would run at once, spin, and collapse
    into its own deduplication id; waiting here costs a few seconds of one function instead. [] when there is
    nothing to push, or when this invocation has too little time left to wait and push (then a later one goes on).
    """
    while dirty := ports.marks.dirty(connection.id):
        now = ports.now()
        quiet_for = now - max(item.last_dirty_at for item in dirty)
        held_for = now - min(item.first_dirty_at for item in dirty)
        if quiet_for >= QUIET_SECONDS or held_for >= MAX_HOLD_SECONDS:
            return dirty
        wait = min(QUIET_SECONDS - quiet_for, MAX_HOLD_SECONDS - held_for)
        if ports.seconds_left() - wait < SECONDS_PER_BATCH_RESERVE:
            report.waiting, report.more = len(dirty), True
            ports.continue_stock_push(connection.id)
            return []
        ports.sleep(wait)
    return []


def _push_batch(
    connection: Connection,
    batch: list[DirtyItem],
    source: StockSource,
    target: StockTarget,
    report: StockPushReport,
    ports: CommandPorts,
) -> None:
    wanted: dict[str, StockLevel] = {}
    for item in batch:
        if isinstance(source, SharedReadSource):
            quantity = source.quantity_after(item.number, item.changed_by, ports.table, ports.now)
        else:
            quantity = source.quantity(item.number)
        if quantity is None:
            report.problems.append(f"{item.number}: {source.missing}")
            continue
        wanted[item.number] = StockLevel(item.number, quantity)
    if wanted:
        target.set_levels(wanted, report)
    for item in batch:
        ports.marks.clear(connection.id, item)
