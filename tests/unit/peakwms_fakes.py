"""A PeakWMS customer in the PeakWMS simulator, in process, on a clock that only moves when slept on: what the
PeakWMS connector's tests share (test_peakwms_client.py, test_peakwms_connector.py, test_peakwms_inbound.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from crossdock.connectors.peakwms.account import PeakwmsAccount
from crossdock.connectors.peakwms.client import PeakwmsClient
from crossdock.connectors.peakwms.shapes import ProductDraft, SalesOrderDraft, SalesOrderLine
from crossdock.pacing import Pacer
from crossdock_local.sims.base.transport import transport
from crossdock_local.sims.peakwms.simulator import PeakwmsSimulator

CUSTOMER = "nordlager"
API = f"https://api.peakwms.test/{CUSTOMER}/api/integration/v1"
API_KEY = "pwms_test-key-0123456789abcdef"


@dataclass
class StoppedClock:
    """`pacing.Clock` (and the simulator's clock) that only moves when slept on or told to, and keeps the sleeps."""

    now: float = 1_765_000_000.0
    sleeps: list[float] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)


@dataclass
class Warehouse:
    """The simulator with customer `nordlager` (warehouse "Main") and its API key."""

    clock: StoppedClock = field(default_factory=StoppedClock)
    sink: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sim = PeakwmsSimulator(clock=self.clock.monotonic, epoch=self.clock.now, webhook_sink=self._receive)
        self.sim.seed_customer(CUSTOMER, API_KEY)
        self.http = transport(self.sim)

    def _receive(self, url: str, headers: dict[str, str], body: bytes) -> int:
        self.sink.append((url, headers, body))
        return 204

    def client(
        self, api_key: str = API_KEY, *, pacer: Pacer | None = None, http: httpx.BaseTransport | None = None
    ) -> PeakwmsClient:
        account = PeakwmsAccount(account=CUSTOMER, api_base=API)
        return PeakwmsClient(account, api_key, pacer=pacer, transport=http or self.http)


def variant(number: int, **fields: object) -> ProductDraft:
    """Shopify variant `number` of product 8000 + number // 10, SKU MUG-<number>."""
    values: dict[str, object] = {
        "product_id": str(8000 + number // 10),
        "variant_id": str(44000 + number),
        "item_number": f"MUG-{number}",
        "description": f"Mug {number}",
        **fields,
    }
    return ProductDraft(**values)  # type: ignore[arg-type]


def order(order_id: str, *lines: tuple[ProductDraft, int], **fields: object) -> SalesOrderDraft:
    values: dict[str, object] = {
        "order_id": order_id,
        "order_number": f"#{order_id[-4:]}",
        "lines": tuple(
            SalesOrderLine(
                order_line_id=f"{order_id}{index}",
                product_id=draft.product_id,
                variant_id=draft.variant_id,
                quantity_requested=quantity,
            )
            for index, (draft, quantity) in enumerate(lines, start=1)
        ),
        **fields,
    }
    return SalesOrderDraft(**values)  # type: ignore[arg-type]
