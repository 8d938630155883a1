"""`retry_after.call_in_place`, the loop the Shopbox, Webshipper and PeakWMS clients wait a short "later" out with
(a 429, Webshipper's 503), and `LoginTokens.sent`, their 401 → one renewed credential → the call again. The clients'
own tests show each platform's numbers; these show the rules the numbers go into."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest
from flow_fakes import FakeSecrets

from crossdock import pacing, retry_after
from crossdock.errors import FailureClass, PermanentError, RateLimited, RetryableError
from crossdock.login_tokens import LoginSecrets, LoginTokens
from crossdock.retry_after import InPlace, call_in_place

THREE_SHORT_WAITS = InPlace(waits=3, wait_limit_seconds=10.0, default_wait_seconds=1.0)


class CountingClock:
    """`pacing.Clock` that records what it is asked to sleep and never sleeps."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def time(self) -> float:
        return 1_765_000_000.0

    def monotonic(self) -> float:
        return 0.0

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> CountingClock:
    found = CountingClock()
    monkeypatch.setattr(pacing, "clock", found)
    return found


def answers(*outcomes: Exception | str) -> tuple[Callable[[], str], list[int]]:
    """A call that raises or returns `outcomes` in turn, and the count of its tries."""
    tries = [0]

    def call() -> str:
        outcome = outcomes[tries[0]]
        tries[0] += 1
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return call, tries


def test_a_later_is_waited_out_per_its_hint_and_a_write_is_repeated_after_it(clock: CountingClock) -> None:
    # GIVEN a write answered 429 twice (hints 4 s, none) THEN it is waited out (4 s, the default 1 s) and repeated
    call, tries = answers(RateLimited("throttled", 4.0), RateLimited("throttled"), "done")
    assert call_in_place(THREE_SHORT_WAITS, "POST", call) == "done"
    assert clock.sleeps == [4.0, 1.0] and tries[0] == 3


def test_more_laters_than_the_waits_or_a_long_hint_go_to_the_caller(clock: CountingClock) -> None:
    # WHEN a call is throttled again and again THEN it waits `waits` times and the next 429 is raised
    call, tries = answers(*[RateLimited("throttled", 2.0)] * 5)
    with pytest.raises(RateLimited):
        call_in_place(THREE_SHORT_WAITS, "GET", call)
    assert clock.sleeps == [2.0] * 3 and tries[0] == 4
    # WHEN the hint is longer than the limit THEN it is raised at once, without a wait
    long, tries = answers(RateLimited("throttled", 30.0))
    with pytest.raises(RateLimited):
        call_in_place(THREE_SHORT_WAITS, "GET", long)
    assert clock.sleeps == [2.0] * 3 and tries[0] == 1


def test_without_a_default_a_later_without_a_hint_is_the_callers(clock: CountingClock) -> None:
    only_hinted = InPlace(waits=1, wait_limit_seconds=2.0, default_wait_seconds=None)
    call, tries = answers(RateLimited("throttled"), "done")
    with pytest.raises(RateLimited):
        call_in_place(only_hinted, "GET", call)
    assert clock.sleeps == [] and tries[0] == 1


def test_a_passing_failure_is_tried_again_for_a_read_only(clock: CountingClock) -> None:
    # GIVEN a 500 (TARGET_DOWN) THEN a read is tried READ_ATTEMPTS times without a wait; a write once
    read, tries = answers(RetryableError("500"), "done")
    assert call_in_place(THREE_SHORT_WAITS, "GET", read) == "done" and tries[0] == retry_after.READ_ATTEMPTS
    write, tries = answers(RetryableError("500"), "done")
    with pytest.raises(RetryableError):
        call_in_place(THREE_SHORT_WAITS, "PUT", write)
    assert tries[0] == 1 and clock.sleeps == []
    # AND a retryable failure of another class (a busy login lease) is the caller's at once
    busy, tries = answers(RetryableError("a new login is under way elsewhere", FailureClass.AUTH), "done")
    with pytest.raises(RetryableError):
        call_in_place(THREE_SHORT_WAITS, "GET", busy)
    assert tries[0] == 1


def test_before_each_runs_before_every_try_outside_it_and_sleep_off_counts_without_sleeping(
    clock: CountingClock,
) -> None:
    turns: list[int] = []
    call, tries = answers(RateLimited("throttled", 3.0), "done")
    assert call_in_place(THREE_SHORT_WAITS, "GET", call, before_each=lambda: turns.append(1), sleep=False) == "done"
    assert (len(turns), tries[0], clock.sleeps) == (2, 2, [])

    def pacer_too_far_off() -> None:
        raise RateLimited("the pacer's next slot is too far off", 1.0)

    # WHEN the pacer's turn itself refuses THEN that goes to the caller: not waited out, the call never made
    call, tries = answers("done")
    with pytest.raises(RateLimited):
        call_in_place(THREE_SHORT_WAITS, "GET", call, before_each=pacer_too_far_off)
    assert tries[0] == 0 and clock.sleeps == []


# ---- LoginTokens.sent: the 401 and the one renewal -------------------------------------------------------------


@dataclass
class OneHolderLeases:
    held: dict[str, str] = field(default_factory=dict)

    def claim(self, name: str, holder: str, now: float, seconds: float) -> bool:
        return self.held.setdefault(name, holder) == holder

    def release(self, name: str, holder: str) -> None:
        self.held.pop(name, None)


class LagerTokens(LoginTokens[str]):
    """A made-up platform whose login answers the tokens `new-1`, `new-2` … in turn."""

    system = "Lager"
    secret_names = LoginSecrets("lager_api_token", "lager_access_token", "lager_password")
    lease_prefix = "lager-token"
    reconnect_hint = "the merchant must reconnect"

    def api_token(self, value: str) -> str:
        return f"api:{value}"

    def login_token(self, value: str) -> str:
        return value

    def renewable(self, credential: str) -> bool:
        return not credential.startswith("api:")

    def value(self, credential: str) -> str:
        return credential

    def log_in(self, username: str, password: str) -> str:
        return f"new-{self.renewals + 1}"


def lager(*statuses: int) -> tuple[LagerTokens, Callable[[str], httpx.Response], list[str]]:
    """Tokens of a connection holding the expired token `old-0` and its password, a send answering `statuses` in
    turn, and the credentials it was sent with."""
    secrets = FakeSecrets()
    secrets.put("c-1", "lager_access_token", "old-0")
    secrets.put("c-1", "lager_password", "hemmelig-kode-42")
    tokens = LagerTokens("c-1", secrets, OneHolderLeases(), holder="a", username="lager@shop.dk", owner="account 7")
    sent: list[str] = []

    def send(credential: str) -> httpx.Response:
        sent.append(credential)
        return httpx.Response(statuses[len(sent) - 1])

    return tokens, send, sent


def test_an_accepted_credential_is_sent_once_without_a_login() -> None:
    tokens, send, sent = lager(200)
    assert tokens.sent(send, "GET things").status_code == 200
    assert sent == ["old-0"] and tokens.renewals == 0


def test_a_401_is_sent_again_once_with_a_renewed_credential() -> None:
    # GIVEN the stored token is refused WHEN a call is sent THEN one login follows and the call goes again with it
    tokens, send, sent = lager(401, 204)
    assert tokens.sent(send, "GET things").status_code == 204
    assert sent == ["old-0", "new-1"] and tokens.renewals == 1


def test_a_second_401_is_an_auth_failure_naming_the_call_and_never_a_secret() -> None:
    tokens, send, sent = lager(401, 401, 200)
    with pytest.raises(PermanentError) as refused:
        tokens.sent(send, "GET things")
    assert refused.value.failure_class is FailureClass.AUTH
    assert refused.value.reason == "Lager refused a new login token of account 7 on GET things"
    assert sent == ["old-0", "new-1"]  # not a third time
    assert not any(secret in str(refused.value) for secret in ("new-1", "old-0", "hemmelig-kode-42"))
