"""`ConnectionClients.shopbox`: one Shopbox client per connection in a container (one HTTP pool, one pacer for the
connection's token), none shared between connections, and a connection without a Shopbox account refused as a bug."""

from __future__ import annotations

from typing import Any, cast

import pytest
from flow_fakes import FakeSecrets
from shopbox_catalog_fakes import connection

from crossdock.errors import FailureClass, PermanentError
from crossdock.integrations.clients import ConnectionClients
from crossdock.store.secrets import SecretStore


def clients() -> ConnectionClients:
    # Building a client reads no secret and calls no one: the token is read on the first call.
    return ConnectionClients(cast(SecretStore, FakeSecrets()), table=None)


def test_a_connection_has_one_shopbox_client_per_container() -> None:
    # GIVEN one container's clients and two Shopbox connections
    made = clients()
    first, second = connection("c-1"), connection("c-2")
    # WHEN each asks for its client twice
    # THEN a connection gets the same client again, and the other connection its own
    assert made.shopbox(first) is made.shopbox(first)
    assert made.shopbox(second) is not made.shopbox(first)


def test_a_connection_without_a_shopbox_account_is_a_bug() -> None:
    # GIVEN a connection whose accounts hold no Shopbox account (a Shopify connection's, say)
    class NoShopbox:
        id = "c-shopify"
        kind = "rackbeat_shopify"

        class accounts:  # stands in for the Accounts model
            @staticmethod
            def by_system() -> dict[str, Any]:
                return {}

    # WHEN its Shopbox client is asked for  THEN it is refused as a bug naming the connection
    with pytest.raises(PermanentError) as refused:
        clients().shopbox(cast(Any, NoShopbox()))
    assert refused.value.failure_class is FailureClass.BUG and "c-shopify" in str(refused.value)
