"""The merchant's Rackbeat API key tested at install, for every kind: Rackbeat says whose it is (`GET /self`), or
the refusal is one problem under `rackbeat_api_key`, listed with the install's other problems."""

from __future__ import annotations

from crossdock.connections.settings_rules import SettingProblem
from crossdock.connectors.rackbeat import identity
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.errors import FailureClass, PermanentError


def tested_account(api_key: str, rackbeat: RackbeatClient, problems: list[SettingProblem]) -> int | None:
    """The key's Rackbeat company id, or None with the reason added to `problems`. `rackbeat` is a client with the
    key; a Rackbeat that cannot be reached raises its `RetryableError` (nothing is wrong with the key)."""
    if not api_key.strip():
        problems.append(SettingProblem("rackbeat_api_key", "is empty"))
        return None
    try:
        return identity.account_id(rackbeat)
    except PermanentError as refused:
        if refused.failure_class is not FailureClass.AUTH:
            raise
        problems.append(SettingProblem("rackbeat_api_key", f"Rackbeat refused the key: {refused.reason}"))
        return None
