"""The connection's PeakWMS account: the PeakWMS customer (warehouse) and where its integration API answers
(reference/peakwms.md "Auth and transport").

Several shops may share one PeakWMS stock, so this account is never claimed by a connection: its `account` names
it (for the shared rate limiter and for the operator), not a connection.
"""

from __future__ import annotations

from crossdock.connections.model import Account

# [seen P1] the live and the sandbox hosts; a simulator's base is given per connection.
PEAKWMS_API = "https://api.peakwms.com/api/integration/v1"
PEAKWMS_SANDBOX_API = "https://api-test.peakwms.com/api/integration/v1"


class PeakwmsAccount(Account):
    # The name the merchant gives the PeakWMS customer at install: what names the account (its API key is the
    # credential, stored as a secret, never here).
    account: str
    # Per connection so the same client talks to PeakWMS, its sandbox or a simulator.
    api_base: str = PEAKWMS_API

    @property
    def identity(self) -> str:
        return self.account
