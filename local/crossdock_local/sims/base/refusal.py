"""A request refused before anything is written, and how the Python side of a simulator reports one.

Shared because every simulator with resource modules aborts a handler the same way — raise `Refused` carrying the
ready answer, let the pipeline (or the control router) answer it — and its Python control methods turn the same
refusal into a `ValueError` with the body, so a test reads why. What the answer looks like (the error body's shape)
is each system's own `wire.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from crossdock_local.sims.base.http import SimResponse


class Refused(Exception):
    """Aborts a handler with a ready answer; raised before anything is written."""

    def __init__(self, response: SimResponse) -> None:
        super().__init__(response.status)
        self.response = response


@contextmanager
def refusal_as_value_error() -> Iterator[None]:
    """A refusal met by a Python control method: raised as ValueError with the system's error body."""
    try:
        yield
    except Refused as refusal:
        raise ValueError(refusal.response.json()) from None
