"""The simulators' shared base: the faults, limits, paging, webhook delivery and control API every simulator offers."""

from __future__ import annotations

import json

import pytest
from sim_fakes import FakeClock

from crossdock_local.sims.base import FaultPlan, Faults, ResponseDropped, ResponseHung, SimRequest, Simulator
from crossdock_local.sims.base.http import json_response
from crossdock_local.sims.base.paging import BadPaging, decode_cursor, encode_cursor, numbered_page
from crossdock_local.sims.base.throttle import LeakyBucket, SlidingWindow, too_many_requests
from crossdock_local.sims.base.webhooks import Attempt, Delivery, Dropped, WebhookOutbox, sign_base64, sign_hex


def _request(method: str, path: str, body: object = None) -> SimRequest:
    raw = b"" if body is None else json.dumps(body).encode()
    return SimRequest(method, path, {}, {}, raw)


def _delivery(n: int, tenant: str = "acme", topic: str = "orders/create") -> Delivery:
    return Delivery(f"d{n}", f"e{n}", tenant, "sub-1", topic, "https://hub/webhooks", json.dumps({"n": n}).encode())


class Receiver:
    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []

    def __call__(self, url: str, headers: dict[str, str], body: bytes) -> int:
        self.bodies.append(body)
        self.headers.append(headers)
        return self.status


# ---- faults --------------------------------------------------------------------------------------------------------


def test_an_outage_answers_503_before_any_other_fault() -> None:
    # GIVEN an outage until t=100 and every other fault on
    faults = Faults(outage_until=100, server_error_rate=1, throttle_rate=1, seed=1)
    # WHEN a request arrives at t=50
    answer = FaultPlan(faults, 50.0, "GET", "/orders").before()
    # THEN it is answered 503
    assert answer is not None and answer.status == 503


def test_a_throttle_fault_answers_429_with_a_retry_after_in_range() -> None:
    faults = Faults(throttle_rate=1, max_retry_after=3, seed=7)
    answers = [FaultPlan(faults, 0.0, "GET", "/x").before() for _ in range(20)]
    waits = {int(a.headers["Retry-After"]) for a in answers if a is not None}
    assert all(a is not None and a.status == 429 for a in answers)
    assert waits <= {1, 2, 3} and len(waits) > 1


def test_a_seeded_fault_plan_replays_the_same_answers() -> None:
    def statuses(seed: int) -> list[int | None]:
        faults = Faults(server_error_rate=0.5, seed=seed)
        return [getattr(FaultPlan(faults, 0.0, "GET", "/x").before(), "status", None) for _ in range(30)]

    assert statuses(3) == statuses(3)
    assert {500, 502, 503} & set(s for s in statuses(3) if s)


def test_a_dropped_response_is_raised_only_after_the_write_committed() -> None:
    # GIVEN every write loses its response
    faults = Faults(drop_response_rate=1, seed=1)
    plan = FaultPlan(faults, 0.0, "POST", "/orders")
    # WHEN the platform did the work
    assert plan.before() is None
    # THEN the answer is lost afterwards, naming the request
    with pytest.raises(ResponseDropped, match="POST /orders"):
        plan.after(json_response(201, {}))
    # AND a read never loses its answer
    read = FaultPlan(faults, 0.0, "GET", "/orders")
    assert read.before() is None
    read.after(json_response(200, {}))


def test_a_hung_write_either_hangs_before_or_after_committing() -> None:
    faults = Faults(timeout_rate=1, seed=4)
    before = after = 0
    for _ in range(40):
        plan = FaultPlan(faults, 0.0, "PUT", "/x")
        try:
            plan.before()
        except ResponseHung:
            before += 1
            continue
        with pytest.raises(ResponseHung):
            plan.after(json_response(200, {}))
        after += 1
    assert before > 0 and after > 0


def test_a_committed_write_can_crash_its_caller() -> None:
    crashes: list[str] = []
    faults = Faults(crash_after_write_rate=1, on_committed_write=lambda: crashes.append("x"), seed=1)
    plan = FaultPlan(faults, 0.0, "POST", "/x")
    plan.before()
    plan.after(json_response(422, {}))  # a refused write did not commit: no crash
    plan.after(json_response(201, {}))
    assert crashes == ["x"]


# ---- rate limits ---------------------------------------------------------------------------------------------------


def test_a_sliding_window_admits_its_limit_and_names_the_wait() -> None:
    # GIVEN 3 requests a minute
    window = SlidingWindow(limit=3, window_seconds=60)
    # WHEN four arrive at t=0, 10, 20, 30
    admitted = [window.admit("token", t) for t in (0.0, 10.0, 20.0, 30.0)]
    # THEN the fourth waits until the first slot frees at t=60
    assert admitted == [None, None, None, 30]
    # AND a refused request took no slot: at t=60 one is admitted again
    assert window.admit("token", 60.0) is None
    # AND another caller has a window of its own
    assert window.admit("other", 30.0) is None
    assert window.remaining("other", 30.0) == 2


def test_a_leaky_bucket_refills_and_refunds() -> None:
    bucket = LeakyBucket(capacity=100, refill_per_second=10)
    assert bucket.take(80, now=0.0) is None
    assert bucket.take(50, now=0.0) == pytest.approx(3.0)  # 30 missing at 10/s
    assert bucket.take(50, now=3.0) is None
    bucket.refund(20)
    assert bucket.available == pytest.approx(20)


def test_too_many_requests_carries_retry_after_and_the_platforms_body() -> None:
    answer = too_many_requests(7, {"message": "Too Many Attempts."}, {"X-RateLimit-Remaining": "0"})
    assert (answer.status, answer.headers["Retry-After"], answer.json()) == (
        429,
        "7",
        {"message": "Too Many Attempts."},
    )


# ---- paging --------------------------------------------------------------------------------------------------------


def test_numbered_pages_slice_and_count() -> None:
    page = numbered_page(list(range(45)), "3", "20", default_limit=10, max_limit=50)
    assert (page.items, page.pages, page.total) == (list(range(40, 45)), 3, 45)
    assert numbered_page([1, 2], None, None, default_limit=10, max_limit=50).items == [1, 2]


@pytest.mark.parametrize(
    ("page", "limit", "named"),
    [("0", "10", "page"), ("x", "10", "page"), ("1", "0", "limit"), ("1", "51", "limit")],
)
def test_a_bad_page_or_limit_is_refused_naming_it(page: str, limit: str, named: str) -> None:
    with pytest.raises(BadPaging, match=named):
        numbered_page([], page, limit, default_limit=10, max_limit=50)


def test_cursors_round_trip_and_foreign_cursors_are_refused() -> None:
    assert decode_cursor(encode_cursor(41)) == 41
    for foreign in ("nonsense", "Y3Vyc29yOng="):  # "cursor:x"
        with pytest.raises(BadPaging, match="cursor"):
            decode_cursor(foreign)


# ---- webhooks ------------------------------------------------------------------------------------------------------


def test_signatures_are_hmac_sha256_over_the_raw_body() -> None:
    # RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
    body = b"what do ya want for nothing?"
    assert sign_hex("Jefe", body) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert sign_base64("Jefe", body) == "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="


def test_the_outbox_delivers_in_queue_order_with_headers_made_at_send_time() -> None:
    # GIVEN headers signed with the secret current when the delivery is sent
    secret = {"value": "old"}
    receiver = Receiver()
    outbox = WebhookOutbox(receiver, lambda d: {"X-Sig": sign_hex(secret["value"], d.body), "X-Id": d.delivery_id})
    for n in range(3):
        outbox.queue(_delivery(n))
    # WHEN the secret rotates before delivery
    secret["value"] = "new"
    report = outbox.deliver()
    # THEN all three arrive in order, signed with the new secret
    assert [json.loads(b)["n"] for b in receiver.bodies] == [0, 1, 2]
    assert receiver.headers[0]["X-Sig"] == sign_hex("new", receiver.bodies[0])
    assert (report.delivered, report.pending) == (3, 0)


def test_a_failing_receiver_is_retried_then_given_up_on() -> None:
    # GIVEN a receiver that always answers 500 and a platform that tries 3 times
    given_up: list[str] = []
    outbox = WebhookOutbox(
        Receiver(500), lambda d: {}, max_attempts=3, on_give_up=lambda d: given_up.append(d.delivery_id)
    )
    outbox.queue(_delivery(1))
    # WHEN it is delivered three times
    reports = [outbox.deliver() for _ in range(3)]
    # THEN the second and third were retries, and after the third the platform gave up
    assert [r.retried for r in reports] == [0, 1, 1]
    assert given_up == ["d1"] and reports[-1].given_up == 1 and outbox.pending() == []
    assert [a.attempt for a in outbox.log] == [1, 2, 3]


def test_duplicates_keep_the_event_id_and_get_their_own_delivery_id() -> None:
    receiver = Receiver()
    outbox = WebhookOutbox(receiver, lambda d: {"X-Delivery": d.delivery_id, "X-Event": d.event_id}, seed=1)
    outbox.faults.duplicate_rate = 1.0
    outbox.queue(_delivery(5))
    report = outbox.deliver()
    assert report.delivered == 2 and report.duplicates_sent == 1
    assert {h["X-Event"] for h in receiver.headers} == {"e5"}
    assert len({h["X-Delivery"] for h in receiver.headers}) == 2


def test_delayed_reordered_and_lost_deliveries() -> None:
    # GIVEN every delivery delayed once
    receiver = Receiver()
    outbox = WebhookOutbox(receiver, lambda d: {}, seed=2)
    outbox.faults.delay_rate = 1.0
    outbox.queue(_delivery(1))
    # THEN the first deliver() holds it back and the second sends it
    assert outbox.deliver().delayed == 1 and receiver.bodies == []
    assert outbox.deliver().delivered == 1
    # GIVEN reordering: many deliveries arrive in another order than queued
    outbox.faults.delay_rate = 0.0
    outbox.faults.reorder = True
    for n in range(20):
        outbox.queue(_delivery(n))
    outbox.deliver()
    order = [json.loads(b)["n"] for b in receiver.bodies[1:]]
    assert sorted(order) == list(range(20)) and order != list(range(20))
    # GIVEN a tenant's pending deliveries are lost in flight
    outbox.queue(_delivery(1, tenant="acme"))
    outbox.queue(_delivery(2, tenant="other"))
    assert outbox.lose("acme") == 1 and [d.tenant for d in outbox.pending()] == ["other"]


def test_delivering_without_a_sink_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="no webhook sink"):
        WebhookOutbox(None, lambda d: {}).deliver()


def test_giving_up_can_drop_the_subscription_and_what_was_queued_for_it() -> None:
    # GIVEN a platform that removes the subscription after 2 failed attempts, and three deliveries queued for it
    receiver = Receiver(500)
    removed: list[str] = []

    def give_up(delivery: Delivery) -> Dropped:  # called without the outbox's lock, so it may call back in
        removed.append(delivery.subscription)
        return Dropped(subscriptions=1, deliveries=outbox.forget_subscription(delivery.subscription))

    outbox: WebhookOutbox[Delivery] = WebhookOutbox(receiver, lambda d: {}, max_attempts=2, on_give_up=give_up)
    for n in range(3):
        outbox.queue(_delivery(n))
    # WHEN only the first is sent, twice
    reports = [outbox.deliver(limit=1) for _ in range(2)]
    # THEN the second report counts the give-up, the subscription and the two deliveries that went with it
    last = reports[-1]
    assert (last.given_up, last.dropped_subscriptions, last.dropped_deliveries, last.pending) == (1, 1, 2, 0)
    assert removed == ["sub-1"] and len(receiver.bodies) == 2


class NamedDelivery(Delivery):
    """A platform's names for the base's fields, as a simulator subclasses it."""

    @property
    def hook_id(self) -> str:
        return self.delivery_id


class NamedAttempt(Attempt):
    @property
    def hook_id(self) -> str:
        return self.delivery_id


def test_a_platforms_subclasses_survive_duplicates_and_the_log() -> None:
    # GIVEN an outbox of a platform's own delivery and attempt classes, with every event duplicated
    receiver = Receiver()
    outbox: WebhookOutbox[NamedDelivery] = WebhookOutbox(
        receiver, lambda d: {"X-Hook": d.hook_id}, attempt_type=NamedAttempt, seed="delivery:7"
    )
    outbox.faults.duplicate_rate = 1.0
    outbox.queue(NamedDelivery("h1", "e1", "acme", "sub-1", "orders/create", "https://hub", b"{}"), new_id=lambda: "h2")
    # WHEN it is delivered
    pending = outbox.pending()
    outbox.deliver()
    # THEN the copy is the platform's class too, fresh, and the log holds the platform's attempts
    assert [type(d) for d in pending] == [NamedDelivery, NamedDelivery]
    assert [(d.hook_id, d.duplicate, d.attempts) for d in pending] == [("h1", False, 1), ("h2", True, 1)]
    assert [h["X-Hook"] for h in receiver.headers] == ["h1", "h2"]
    attempts = [a for a in outbox.log if isinstance(a, NamedAttempt)]
    assert len(attempts) == len(outbox.log) == 2 and attempts[1].hook_id == "h2"


def test_a_delivery_queued_without_faults_draws_nothing_from_the_fault_stream() -> None:
    # GIVEN two outboxes seeded alike, every fault on
    plain, exempt = (WebhookOutbox(Receiver(), lambda d: {}, seed="s") for _ in range(2))
    for outbox in (plain, exempt):
        outbox.faults.duplicate_rate = outbox.faults.delay_rate = outbox.faults.lose_rate = 0.5
    # WHEN one also queues a delivery exempt from the faults before the same others
    exempt.queue(_delivery(0), faults=False)
    for outbox in (plain, exempt):
        for n in range(1, 30):
            outbox.queue(_delivery(n))
    # THEN that one is queued exactly once, not held, and the others fared alike in both
    first, *others = [(d.delivery_id, d.hold) for d in exempt.pending()]
    assert first == ("d0", 0) and others == [(d.delivery_id, d.hold) for d in plain.pending()]


# ---- control API ---------------------------------------------------------------------------------------------------


def test_the_control_api_reads_state_and_switches_faults_without_counting_as_calls() -> None:
    # GIVEN a simulator
    sim = Simulator(clock=FakeClock())
    # WHEN an operator switches faults on and reads the state
    switched = sim.handle(_request("PUT", "/_control/faults", {"server_error_rate": 0.2, "max_retry_after": 9}))
    state = sim.handle(_request("GET", "/_control/state")).json()
    # THEN the switches took and the control calls are not the platform's calls
    assert switched.status == 200 and switched.json()["server_error_rate"] == 0.2
    assert (sim.faults.server_error_rate, sim.faults.max_retry_after) == (0.2, 9)
    assert state == {"system": "base", "calls": 0, "calls_by_status": {}}


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"server_eror_rate": 0.1}, "server_eror_rate"),
        ({"throttle_rate": 2}, "throttle_rate"),
        ({"throttle_rate": 0.5, "hang": 1}, "hang"),
        ([1], "JSON object"),
    ],
)
def test_a_bad_fault_switch_is_refused_naming_it_and_nothing_changes(body: object, named: str) -> None:
    sim = Simulator(clock=FakeClock())
    answer = sim.handle(_request("PUT", "/_control/faults", body))
    assert answer.status == 400 and named in answer.body.decode()
    assert sim.faults.throttle_rate == 0.0 and sim.faults.server_error_rate == 0.0


def test_a_simulator_without_webhooks_refuses_the_webhook_switches_by_name() -> None:
    # GIVEN a simulator that sends no webhooks
    sim = Simulator(clock=FakeClock())
    # WHEN an operator switches a delivery fault on, along with a request fault
    answer = sim.handle(_request("PUT", "/_control/faults", {"webhook_duplicate_rate": 0.5, "throttle_rate": 0.1}))
    # THEN the delivery fault is refused by name, nothing changes, and its switches are not offered
    assert answer.status == 400 and "webhook_duplicate_rate" in answer.json()["errors"]
    assert sim.faults.throttle_rate == 0.0
    assert not [name for name in sim.handle(_request("GET", "/_control/faults")).json() if name.startswith("webhook_")]
