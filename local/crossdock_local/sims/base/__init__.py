"""What every simulator shares (see docs/local-runtime.md, "Simulators").

- `http`: the request/response pair; `router`: routes with 404/405; `simulator`: the base class and its clock;
- `faults`: fault switches and the order they apply in around a request;
- `throttle`: a sliding window and a leaky bucket answering 429 with `Retry-After`;
- `paging`: numbered pages and opaque cursors; `webhooks`: signed, at-least-once, unordered delivery with retries;
- `control`: the control API (`/_control/state`, `/_control/faults`); `transport`: reaching a simulator in process.

What the simulators with resource modules (PeakWMS, Webshipper, Shopbox) share besides:

- `refusal`: `Refused`, a handler's ready answer; `records`: `render`, a record without its `_private` keys;
- `wall_clock`: Unix time moving with the simulator's clock; `single_outbox`: `pending`/`deliver` of one outbox;
- `system_control`: a system's own `/_control/...` routes; `rules_control`: `PUT /_control/rules`, field errors.

The names most simulators need are importable from here.
"""

from crossdock_local.sims.base.faults import FaultAnswers, FaultPlan, Faults, ResponseDropped, ResponseHung
from crossdock_local.sims.base.http import SimRequest, SimResponse, json_default, json_response
from crossdock_local.sims.base.router import Handler, Router
from crossdock_local.sims.base.simulator import Clock, Simulator
from crossdock_local.sims.base.transport import request_from_httpx, transport
from crossdock_local.sims.base.webhooks import WebhookSink

__all__ = [
    "Clock",
    "FaultAnswers",
    "FaultPlan",
    "Faults",
    "Handler",
    "ResponseDropped",
    "ResponseHung",
    "Router",
    "SimRequest",
    "SimResponse",
    "Simulator",
    "WebhookSink",
    "json_default",
    "json_response",
    "request_from_httpx",
    "transport",
]
