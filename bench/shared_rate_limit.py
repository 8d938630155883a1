"""One Rackbeat rate limit per account (issue 11): three connections on ONE Rackbeat account push stock and run
orders at once from several containers, on the embedded stack's clock, against the simulator's 480 calls a minute
(a sliding 60-second window per account, 429 with Retry-After beyond it).

Each container is its own `ConnectionClients` (as one Lambda container has one) with a few threads; per connection
one container reads stock (paced clients) and one runs order stages (the order stages' clients). Two runs with the
same load, side by side:
- "shared": every client takes its slots from the account's limiter item in the table (`store.rate_limits`), and a
  429 holds back every container;
- "per container" (before issue 11): each container paces its own stock reads at the same rate, order stages are
  not paced, and a 429 holds back only the caller that got it.
A caller answered 429 (or told by the limiter to come back later) waits the Retry-After, as its queue or workflow
would, and goes on with its next piece of work.

The stack's clock runs `SPEED` times faster than real time while the callers run, and each caller's wait passes
only for itself (the embedded clock's own `sleep` moves time for every thread at once, which would let one
throttled caller's wait silence the others and hide the 429s this bench counts).

Prints for each run: requests sent in the busiest 60 s window (target ≤ 480), the share answered 429 (target
< 1 %), and the ratio of the two runs.

Run: .venv/bin/python bench/shared_rate_limit.py [--minutes 5] [--threads 3]
"""

from __future__ import annotations

import argparse
import bisect
import threading
import time
from collections.abc import Callable
from typing import Any

from crossdock import pacing
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.errors import CrossdockError, RateLimited
from crossdock.integrations.clients import DEFAULT_RACKBEAT_CALLS_PER_MINUTE, ConnectionClients
from crossdock.pacing import RatePacer
from crossdock_local.scenarios.demo import demo_settings
from crossdock_local.stack import LocalConnection, LocalStack

RACKBEAT_LIMIT = 480  # calls per minute per account (reference/rackbeat.md)
WINDOW = 60.0
SHOPS = ("limit-a.myshopify.com", "limit-b.myshopify.com", "limit-c.myshopify.com")
SKUS = [f"R-{n:04d}" for n in range(200)]


class UnsharedPacer(RatePacer):
    """Today's per-container pacer as the client used it before issue 11: a 429 did not reach it."""

    def back_off(self, seconds: float) -> None:
        return None


class FastClock:
    """The stack's virtual clock, pushed forward so it runs `speed` times faster than real time; `sleep` waits (in
    real time, for the calling thread only) until the virtual clock has moved on by `seconds`."""

    def __init__(self, virtual: Any, speed: float) -> None:
        self._virtual, self._speed = virtual, speed
        self._stop = threading.Event()
        self._driver = threading.Thread(target=self._drive, daemon=True)

    def __enter__(self) -> FastClock:
        self._driver.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._driver.join()

    def _drive(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(0.001):
            now = time.monotonic()
            self._virtual.advance((now - last) * (self._speed - 1))
            last = now

    def time(self) -> float:
        return float(self._virtual.time())

    def monotonic(self) -> float:
        return float(self._virtual.monotonic())

    def sleep(self, seconds: float) -> None:
        deadline = self.time() + seconds
        while (remaining := deadline - self.time()) > 0:
            time.sleep(remaining / self._speed)


class CountedTable:
    """The stack's table as the limiters use it, counting their UpdateItem calls (the limiter's only request)."""

    def __init__(self, table: Any) -> None:
        self._table = table
        self.meta = table.meta
        self.updates = 0
        self._lock = threading.Lock()

    def update_item(self, **request: Any) -> Any:
        with self._lock:
            self.updates += 1
        return self._table.update_item(**request)


def run(mode: str, minutes: float, threads: int, speed: float = 10.0) -> dict[str, Any]:
    started = time.perf_counter()
    with LocalStack(rackbeat_rate_limit=RACKBEAT_LIMIT) as stack:
        first = stack.create_connection(demo_settings(), shop_domain=SHOPS[0])
        locals_ = [first] + [
            stack.create_connection(demo_settings(), shop_domain=shop, rackbeat_account=first) for shop in SHOPS[1:]
        ]
        stack.seed_items(first.rackbeat_account_id, SKUS)
        sent: list[tuple[float, int]] = []
        _record_requests(stack, sent)
        table = CountedTable(stack.table)
        fast = FastClock(stack.aws.clock, speed)
        pacing.clock = fast  # LocalStack puts the stack's clock back on exit
        end = fast.time() + minutes * 60
        workers = []
        for number, local in enumerate(locals_):
            stock, orders = _containers(stack, table, local, mode)
            for n in range(threads):
                workers.append(threading.Thread(target=_loop, args=(end, lambda c=stock: _read_stock(c), n)))
                workers.append(threading.Thread(target=_loop, args=(end, lambda c=orders, k=number: _order(c, k), n)))
        with fast:
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
    times = sorted(at for at, _ in sent)
    return {
        "calls": len(sent),
        "throttled": sum(1 for _, status in sent if status == 429),
        "busiest_window": _busiest(times),
        "admitted_busiest_window": _busiest(sorted(at for at, status in sent if status != 429)),
        "limiter_writes": table.updates,
        "clock_minutes": (times[-1] - times[0]) / 60 if times else 0.0,
        "seconds": time.perf_counter() - started,
    }


def _containers(
    stack: LocalStack, table: CountedTable, local: LocalConnection, mode: str
) -> tuple[RackbeatClient, RackbeatClient]:
    """The stock container's client and the order container's client of one connection, as `mode` builds them."""
    if mode == "shared":
        connection = stack.connection(local)
        stock, orders = ConnectionClients(stack.secrets, table), ConnectionClients(stack.secrets, table)
        return stock.rackbeat(connection), orders.rackbeat(connection, paced=False)
    base = local.public(stack.base_url)["rackbeat"]["base_url"]
    paced = RackbeatClient(base, local.rackbeat_api_key, pacer=UnsharedPacer(DEFAULT_RACKBEAT_CALLS_PER_MINUTE))
    return paced, RackbeatClient(base, local.rackbeat_api_key)


def _record_requests(stack: LocalStack, sent: list[tuple[float, int]]) -> None:
    """Every request the simulator answers, with its time on the simulator's clock and its status."""
    simulator = stack.rackbeat
    handle, lock = simulator.handle, threading.Lock()

    def recorded(request: Any) -> Any:
        response = handle(request)
        with lock:
            sent.append((simulator.clock(), response.status))
        return response

    simulator.handle = recorded  # type: ignore[method-assign]


def _loop(end: float, work: Callable[[], None], seed: int) -> None:
    """Does `work` until the stack's clock reaches `end`; a refusal waits its Retry-After, as the caller's queue or
    workflow would, then the next piece of work starts."""
    while pacing.clock.time() < end:
        try:
            work()
        except RateLimited as throttled:
            pacing.clock.sleep(throttled.retry_after or 1.0)
        except CrossdockError:
            pass


_counter = iter(range(10**9))


def _read_stock(client: RackbeatClient) -> None:
    client.get(f"products/{SKUS[next(_counter) % len(SKUS)]}")


def _order(client: RackbeatClient, shop: int) -> None:
    """The Rackbeat calls of one order's customer and order stages: look the customer up, create it, look the lines'
    items up."""
    n = next(_counter)
    email = f"buyer-{shop}-{n}@example.com"
    if client.find_one("customers", "customers", "contact_email", email) is None:
        client.post("customers", {"company_name": f"Buyer {n}", "contact_email": email}, suppress_webhooks="true")
    for line in range(2):
        client.get(f"products/{SKUS[(n + line) % len(SKUS)]}")


def _busiest(times: list[float]) -> int:
    """Most requests in any 60-second window (the simulator's sliding window: (t - 60, t])."""
    return max(
        (index + 1 - bisect.bisect_right(times, at - WINDOW, 0, index + 1) for index, at in enumerate(times)), default=0
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="length of each run on the stack's clock")
    parser.add_argument("--threads", type=int, default=3, help="threads per container (two containers per shop)")
    parser.add_argument("--speed", type=float, default=10.0, help="the stack's clock runs this much faster")
    args = parser.parse_args()
    print(
        f"{len(SHOPS)} connections on one Rackbeat account ({RACKBEAT_LIMIT}/min, sliding 60 s), "
        f"{len(SHOPS) * 2} containers × {args.threads} threads, {args.minutes:g} min on the stack's clock"
    )
    results = {}
    for mode in ("shared", "per container"):
        result = results[mode] = run(mode, args.minutes, args.threads, args.speed)
        print(
            f"{mode:>13}: {result['calls']:,} requests in {result['clock_minutes']:.1f} min; busiest 60 s window "
            f"{result['busiest_window']} sent, {result['admitted_busiest_window']} admitted (target ≤ "
            f"{RACKBEAT_LIMIT}); 429 {result['throttled']}/{result['calls']} = "
            f"{result['throttled'] / max(1, result['calls']):.2%} (target < 1 %); {result['seconds']:.0f} s"
        )
    shared, alone = results["shared"], results["per container"]
    print(
        f"per container / shared: busiest window {alone['busiest_window'] / max(1, shared['busiest_window']):.2f}×; "
        f"429 answers {alone['throttled']} vs {shared['throttled']} ({_share(alone):.2%} vs {_share(shared):.2%})"
    )
    print(
        f"shared limiter's DynamoDB writes / Rackbeat requests: {shared['limiter_writes']:,} / {shared['calls']:,} = "
        f"{shared['limiter_writes'] / max(1, shared['calls']):.3f} (one conditional UpdateItem per call, 1 WCU each)"
    )


def _share(result: dict[str, Any]) -> float:
    return float(result["throttled"] / max(1, result["calls"]))


if __name__ == "__main__":
    main()
