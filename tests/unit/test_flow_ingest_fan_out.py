"""Ingest's fan-out (flows/ingest.py `fan_out`, issue 18): a delivery to an account's own webhook address is
authenticated with the account's secrets and queued once per active follower of that account that wants the event,
against in-memory fakes of the followers index, the secrets and the queue."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from flow_fakes import SECRET_NAMES, SYSTEM, FakeClaims, FakeDeliveries, FakeSecrets, MadeUpKind, registered, sign

from crossdock.flows.ingest import IngestAnswer, IngestDeps, receive_webhook
from crossdock.ports import Follower
from crossdock.store import keys

ACCOUNT = "a" * 32
OTHER_ACCOUNT = "b" * 32
SECRET = "account-s3cret"
TOPIC = "orders/created"
BODY = json.dumps({"key_name": "number", "key": "1021"}).encode()


def follower(connection_id: str, state: str = "active", events: frozenset[str] = frozenset({TOPIC})) -> Follower:
    return Follower(connection_id, "made_up_pair", state, events)


@dataclass
class Harness:
    claims: FakeClaims = field(default_factory=FakeClaims)
    secrets: FakeSecrets = field(default_factory=FakeSecrets)
    queued: list[dict[str, Any]] = field(default_factory=list)
    batches: list[int] = field(default_factory=list)  # sizes of the batched sends

    def enqueue(self, message: dict[str, Any]) -> None:
        self.queued.append(message)

    def enqueue_all(self, messages: list[dict[str, Any]]) -> None:
        self.batches.append(len(messages))
        self.queued.extend(messages)

    def receive(self, account: str = ACCOUNT, secret: str = SECRET, topic: str = TOPIC) -> IngestAnswer:
        deps = IngestDeps(
            table=None,
            secrets=self.secrets,
            enqueue=self.enqueue,
            enqueue_all=self.enqueue_all,
            account_claims=self.claims,
            delivery_log=FakeDeliveries(),
        )
        headers = {"X-Topic": topic, "X-Signature": sign(BODY, secret)}
        return receive_webhook(SYSTEM, headers, BODY, deps, webhook_account=account)


@pytest.fixture
def harness() -> Any:
    with registered(MadeUpKind()):
        made = Harness()
        made.secrets.put(keys.account_secrets_scope(SYSTEM, ACCOUNT), SECRET_NAMES[0], SECRET)
        made.secrets.put(keys.account_secrets_scope(SYSTEM, OTHER_ACCOUNT), SECRET_NAMES[0], "other-secret")
        yield made


def test_one_delivery_is_queued_once_for_each_active_follower_that_wants_it_in_one_batch(harness: Harness) -> None:
    # GIVEN an account followed by two shops and a till wanting the event, a paused shop, and one wanting others
    harness.claims.following[(SYSTEM, ACCOUNT)] = [
        follower("shop-1"),
        follower("shop-2"),
        follower("till-1"),
        follower("shop-paused", state="paused"),
        follower("shop-other", events=frozenset({"orders/paid"})),
    ]
    # WHEN Rackbeat sends the event once to the account's address
    answer = harness.receive()
    # THEN it is queued for the three active followers that want it, in one batched send, with the same body
    assert answer == IngestAnswer(200, {"status": "queued", "followers": 3})
    assert sorted(m["connection_id"] for m in harness.queued) == ["shop-1", "shop-2", "till-1"]
    assert harness.batches == [3]
    assert {m["payload"] for m in harness.queued} == {BODY.decode()} and {m["topic"] for m in harness.queued} == {TOPIC}
    assert len({m["event_id"] for m in harness.queued}) == 1  # one delivery: one event id in every follower's log


def test_a_single_follower_gets_one_plain_send(harness: Harness) -> None:
    # GIVEN an account with one follower
    harness.claims.following[(SYSTEM, ACCOUNT)] = [follower("shop-1")]
    # WHEN the event arrives
    harness.receive()
    # THEN one message, sent without a batch
    assert [m["connection_id"] for m in harness.queued] == ["shop-1"] and harness.batches == []


def test_another_accounts_token_is_refused_and_nothing_is_queued(harness: Harness) -> None:
    # GIVEN two accounts, each followed by its own shop
    harness.claims.following[(SYSTEM, ACCOUNT)] = [follower("shop-1")]
    harness.claims.following[(SYSTEM, OTHER_ACCOUNT)] = [follower("shop-9")]
    # WHEN a delivery made with the other account's secret is sent to this account's address
    answer = harness.receive(secret="other-secret")
    # THEN it is refused, and neither account's followers get anything
    assert answer.status == 401 and harness.queued == []


def test_a_delivery_reaches_only_the_followers_of_the_account_it_was_sent_to(harness: Harness) -> None:
    # GIVEN two accounts, each followed by its own shop
    harness.claims.following[(SYSTEM, ACCOUNT)] = [follower("shop-1")]
    harness.claims.following[(SYSTEM, OTHER_ACCOUNT)] = [follower("shop-9")]
    # WHEN the other account sends its event to its own address
    harness.receive(account=OTHER_ACCOUNT, secret="other-secret")
    # THEN only its shop gets it
    assert [m["connection_id"] for m in harness.queued] == ["shop-9"]


def test_an_address_nobody_follows_is_404_and_followers_that_want_nothing_of_it_a_200(harness: Harness) -> None:
    # GIVEN an account whose only follower is paused
    harness.claims.following[(SYSTEM, ACCOUNT)] = [follower("shop-1", state="paused")]
    # WHEN the event arrives there, and at an address of no account
    paused = harness.receive()
    unknown = harness.receive(account="c" * 32)
    # THEN the first is answered 200 with nothing queued (Rackbeat need not retry), the second 404
    assert paused == IngestAnswer(200, {"status": "no follower wants it"})
    assert unknown.status == 404 and harness.queued == []


def test_a_token_added_since_this_container_cached_the_accounts_is_accepted(harness: Harness) -> None:
    # GIVEN a follower, and ingest's cached copy of the account's secret taken before another follower added one
    harness.claims.following[(SYSTEM, ACCOUNT)] = [follower("shop-1")]
    scope = keys.account_secrets_scope(SYSTEM, ACCOUNT)
    harness.secrets.cached[(scope, SECRET_NAMES[0])] = "an-older-secret"
    # WHEN a delivery signed with the stored secret arrives
    answer = harness.receive()
    # THEN it is queued: the secret was read again before refusing
    assert answer.status == 200 and [m["connection_id"] for m in harness.queued] == ["shop-1"]
