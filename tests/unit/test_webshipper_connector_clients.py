"""`ConnectionClients.webshipper`: one Webshipper client per connection in a container, paced per Webshipper account
(about a call a second, shared through the table by every connection and container on the account), and a
connection without a Webshipper account refused as a bug."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from flow_fakes import FakeSecrets

from crossdock import pacing
from crossdock.connectors.rackbeat.account import RackbeatAccount
from crossdock.connectors.webshipper.account import WebshipperAccount, api_base_for
from crossdock.errors import FailureClass, PermanentError
from crossdock.integrations.clients import WEBSHIPPER_CALLS_PER_MINUTE, ConnectionClients
from crossdock.integrations.rackbeat_webshipper.connection import (
    RackbeatWebshipperAccounts,
    RackbeatWebshipperConnection,
)
from crossdock.integrations.rackbeat_webshipper.settings import RackbeatWebshipperSettings
from crossdock.store.secrets import SecretStore


def connection(connection_id: str, account: str) -> RackbeatWebshipperConnection:
    return RackbeatWebshipperConnection(
        id=connection_id,
        accounts=RackbeatWebshipperAccounts(
            rackbeat=RackbeatAccount(account_id=42),
            webshipper=WebshipperAccount(account=account, api_base=api_base_for(account), username="lager@x.dk"),
        ),
        settings=RackbeatWebshipperSettings.model_validate({"order_channel": "3"}),
    )


@dataclass
class StoppedClock:
    """`pacing.Clock` that only moves when slept on, and keeps the sleeps."""

    now: float = 1_765_000_000.0
    sleeps: list[float] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_a_connection_has_one_webshipper_client_per_container(table: Any) -> None:
    # GIVEN one container's clients (building one reads no secret and calls no one)
    made = ConnectionClients(cast(SecretStore, FakeSecrets()), table)
    first, second = connection("c-1", "nordlager"), connection("c-2", "sydlager")
    # THEN a connection gets the same client again, the other connection its own, each for its own account
    assert made.webshipper(first) is made.webshipper(first)
    assert made.webshipper(second) is not made.webshipper(first)
    assert made.webshipper(second).account.account == "sydlager"


def test_connections_on_one_webshipper_account_share_its_pace(table: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN two containers, with two connections on one Webshipper account and one on another
    clock = StoppedClock()
    monkeypatch.setattr(pacing, "clock", clock)
    here, there = (ConnectionClients(cast(SecretStore, FakeSecrets()), table) for _ in range(2))
    same_a = here.webshipper(connection("c-1", "nordlager")).pacer
    same_b = there.webshipper(connection("c-2", "nordlager")).pacer
    other = there.webshipper(connection("c-3", "sydlager")).pacer
    assert same_a is not None and same_b is not None and other is not None
    # WHEN each takes turns
    same_a.wait_turn()
    same_b.wait_turn()
    other.wait_turn()
    same_a.wait_turn()
    # THEN the account's calls were a second apart across both containers; the other account waited for no one
    assert clock.sleeps == [pytest.approx(60.0 / WEBSHIPPER_CALLS_PER_MINUTE)] * 2


def test_a_connection_without_a_webshipper_account_is_a_bug() -> None:
    class NoWebshipper:
        id = "c-shopify"
        kind = "rackbeat_shopify"

        class accounts:  # stands in for the Accounts model
            @staticmethod
            def by_system() -> dict[str, Any]:
                return {"rackbeat": RackbeatAccount(account_id=1)}

    with pytest.raises(PermanentError) as refused:
        ConnectionClients(cast(SecretStore, FakeSecrets()), table=None).webshipper(cast(Any, NoWebshipper()))
    assert refused.value.failure_class is FailureClass.BUG and "c-shopify" in str(refused.value)
