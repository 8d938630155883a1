"""Credentials held in memory during an install, before anything is stored: a connector's token source reads and
renews them exactly as it would a stored connection's, and nothing reaches the table until every check passed.

Shopbox and Webshipper log in at install (their tokens renew through `ports.Secrets` and `ports.Leases`); these
give them a secret store and a lease of the one install that holds the credentials.
"""

from __future__ import annotations

# The connection has no id the platform's calls would name yet; the credentials are kept under this one, in memory.
INSTALLING = "installing"


class UnsavedSecrets:
    """`ports.Secrets` in memory, for the one install that holds it."""

    def __init__(self, values: dict[str, str]) -> None:
        self._values = dict(values)

    def get(self, connection_id: str, name: str) -> str | None:
        return self._values.get(name)

    def fresh(self, connection_id: str, name: str) -> str | None:
        return self._values.get(name)

    def put(self, connection_id: str, name: str, value: str) -> None:
        self._values[name] = value

    def delete(self, connection_id: str, name: str) -> None:
        self._values.pop(name, None)

    def values(self) -> dict[str, str]:
        """What is held now (a token renewed during the install included): what the install stores."""
        return dict(self._values)


class OnlyHolder:
    """`ports.Leases` for a credential no other container knows: its one holder always has the lease."""

    def claim(self, name: str, holder: str, now: float, seconds: float) -> bool:
        return True

    def release(self, name: str, holder: str) -> None:
        return None
