"""Which Rackbeat company an API key belongs to: `GET /self` (reference/rackbeat.md, "Auth")."""

from __future__ import annotations

from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.errors import FailureClass, PermanentError


def account_id(client: RackbeatClient) -> int:
    """The company id behind the client's API key. A key Rackbeat refuses raises `PermanentError` of class auth
    (the client's own translation of 401/403); an answer without an id is refused too, as nothing could be keyed
    on it."""
    answer = client.get("self")
    account = answer.get("user_account") if isinstance(answer, dict) else None
    identity = account.get("id") if isinstance(account, dict) else None
    if not isinstance(identity, int) or isinstance(identity, bool):
        raise PermanentError("Rackbeat's GET /self named no company id (user_account.id)", FailureClass.AUTH)
    return identity
