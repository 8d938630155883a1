"""Rackbeat webhook authentication: a static 32-character token per webhook, no HMAC (reference/rackbeat.md)."""

from __future__ import annotations

import hmac
from collections.abc import Iterable


def token_is_valid(presented: str | None, tokens: Iterable[str]) -> bool:
    if not presented:
        return False
    valid = False
    for token in tokens:
        valid |= hmac.compare_digest(presented.encode(), token.encode())
    return valid
