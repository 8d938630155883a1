"""The embedded runtime patches moto internals: it refuses to start on a moto it was not written against."""

from __future__ import annotations

from pathlib import Path

import pytest

from crossdock_local.aws.moto_version import PATCHED_MOTO, UnpatchedMoto, require_patched_moto

LOCK = Path(__file__).resolve().parents[2] / "requirements.lock"


def test_the_patched_release_is_the_one_the_lock_pins() -> None:
    pins = dict(line.split("==", 1) for line in LOCK.read_text().splitlines() if "==" in line)
    assert pins["moto"] == PATCHED_MOTO


def test_another_moto_release_is_refused_with_what_to_do() -> None:
    with pytest.raises(UnpatchedMoto, match=r"moto 5\.3\.0 is installed, but .* written against moto 5\.2\.5"):
        require_patched_moto("5.3.0")
    require_patched_moto(PATCHED_MOTO)  # the pinned one starts
