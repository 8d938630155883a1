"""Leases in the table (store/leases.py, `LOCK#<name>`), on moto: one holder at a time, released only by it, taken
over once it lapses."""

from __future__ import annotations

from typing import Any

from crossdock.store import leases

NOW = 1_767_225_600.0


def _item(table: Any, name: str) -> dict[str, Any]:
    found: dict[str, Any] = table.get_item(Key={"pk": f"LOCK#{name}", "sk": "-"})["Item"]
    return found


def test_a_free_lease_is_claimed_with_its_holder_and_expiry(table: Any) -> None:
    lease = leases.claim(table, "poll#c-1#s", "run-1", NOW, 360)

    assert lease == leases.Lease("poll#c-1#s", "run-1", NOW + 360)
    item = _item(table, "poll#c-1#s")
    assert item["holder"] == "run-1" and float(item["lease_until"]) == NOW + 360
    assert int(item["expires_at"]) == int(NOW + 360 + leases.FORGET_AFTER)  # the table's TTL forgets it later


def test_a_held_lease_cannot_be_claimed_by_another_holder(table: Any) -> None:
    # GIVEN run-1 holds the lease
    leases.claim(table, "poll#c-1#s", "run-1", NOW, 360)
    # WHEN run-2 tries while it lasts
    taken = leases.claim(table, "poll#c-1#s", "run-2", NOW + 359, 360)
    # THEN it is refused, and run-1 still holds it
    assert taken is None
    assert _item(table, "poll#c-1#s")["holder"] == "run-1"


def test_leases_of_other_names_are_independent(table: Any) -> None:
    assert leases.claim(table, "poll#c-1#orders", "run-1", NOW, 360) is not None
    assert leases.claim(table, "poll#c-1#stock", "run-2", NOW, 360) is not None
    assert leases.claim(table, "poll#c-2#orders", "run-3", NOW, 360) is not None


def test_a_released_lease_can_be_claimed_at_once(table: Any) -> None:
    lease = leases.claim(table, "poll#c-1#s", "run-1", NOW, 360)
    assert lease is not None

    assert leases.release(table, lease) is True

    assert leases.claim(table, "poll#c-1#s", "run-2", NOW + 1, 360) is not None


def test_a_lapsed_lease_is_taken_over(table: Any) -> None:
    # GIVEN run-1 crashed holding the lease
    leases.claim(table, "poll#c-1#s", "run-1", NOW, 360)
    # WHEN run-2 comes after it lapsed
    taken = leases.claim(table, "poll#c-1#s", "run-2", NOW + 361, 360)
    # THEN run-2 holds it
    assert taken is not None and _item(table, "poll#c-1#s")["holder"] == "run-2"


def test_only_the_holder_releases_a_lease(table: Any) -> None:
    # GIVEN run-1's lease lapsed and run-2 took it over
    stale = leases.claim(table, "poll#c-1#s", "run-1", NOW, 360)
    assert stale is not None
    leases.claim(table, "poll#c-1#s", "run-2", NOW + 400, 360)
    # WHEN run-1 finally finishes and releases what it believes is its lease
    released = leases.release(table, stale)
    # THEN run-2's lease is left alone
    assert released is False
    item = _item(table, "poll#c-1#s")
    assert item["holder"] == "run-2" and float(item["lease_until"]) == NOW + 760
    assert leases.claim(table, "poll#c-1#s", "run-3", NOW + 401, 360) is None


def test_a_holder_claiming_again_extends_its_own_lease(table: Any) -> None:
    leases.claim(table, "poll#c-1#s", "run-1", NOW, 360)

    extended = leases.claim(table, "poll#c-1#s", "run-1", NOW + 300, 360)

    assert extended is not None and float(_item(table, "poll#c-1#s")["lease_until"]) == NOW + 660
