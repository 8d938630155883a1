"""Stock markers remember when ingest heard of a change (`store.stock`, issue 18): the largest moment heard, never
an earlier one (messages of a standard queue arrive in any order), and only while every change was heard so — an
unheard change (a sweep's, a webhook to a connection's own address) makes the marker vouch by its marking time."""

from __future__ import annotations

from typing import Any

from crossdock.store import stock


def _marker(table: Any) -> stock.DirtyItem:
    (item,) = stock.dirty_items(table, "c-1")
    return item


def test_the_latest_heard_moment_is_kept_whatever_the_order_the_changes_are_marked_in(table: Any) -> None:
    # GIVEN a change heard at 100 marked at 103
    stock.mark_dirty(table, "c-1", "SKU-1", 103.0, heard_at=100.0)
    assert _marker(table).changed_by == 100.0
    # WHEN a change heard at 102 is marked at 104, then one heard at 101 (dispatched late) at 105
    stock.mark_dirty(table, "c-1", "SKU-1", 104.0, heard_at=102.0)
    stock.mark_dirty(table, "c-1", "SKU-1", 105.0, heard_at=101.0)
    # THEN the marker vouches by 102, the latest heard, and counted all three changes
    item = _marker(table)
    assert (item.heard_at, item.last_dirty_at, item.version) == (102.0, 105.0, 3)


def test_an_unheard_change_makes_the_marker_vouch_by_its_marking_time(table: Any) -> None:
    # GIVEN a heard change, then one without a heard moment (a sweep's)
    stock.mark_dirty(table, "c-1", "SKU-1", 103.0, heard_at=100.0)
    stock.mark_dirty(table, "c-1", "SKU-1", 110.0)
    # THEN the marker vouches by 110, when it was marked
    assert _marker(table).changed_by == 110.0
    # WHEN a heard change follows on the same marker
    stock.mark_dirty(table, "c-1", "SKU-1", 111.0, heard_at=109.0)
    # THEN the unheard one still counts: the marker keeps vouching by its marking time, now 111
    item = _marker(table)
    assert item.heard_at is None and item.changed_by == 111.0
