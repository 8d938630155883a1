"""The control API every simulator answers besides its platform's API: read its state, switch its faults.

Not part of any platform. `GET /_control/state` returns `Simulator.snapshot()`; `GET /_control/faults` the fault
switches; `PUT /_control/faults` sets some of them (a JSON object of switch → value; an unknown switch or a value out
of range is refused with 400 naming it, and nothing is changed). The `webhook_*` switches are the delivery faults of
the simulator's webhook outbox (`Simulator.webhook_faults()`); a simulator that sends no webhooks has none, and
refuses them by name. Under `crossdock serve` they sit under
`/_sim/<system>/`, next to the platform's own routes, so a scenario or an operator drives every simulator the same
way. They need no token: the simulators only ever listen on the operator's own machine.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from crossdock_local.sims.base.http import SimRequest, SimResponse, json_response
from crossdock_local.sims.base.rules_control import field_errors
from crossdock_local.sims.base.webhooks import DeliveryFaults

if TYPE_CHECKING:
    from crossdock_local.sims.base.simulator import Simulator

STATE_PATH = "/_control/state"
FAULTS_PATH = "/_control/faults"


class FaultSwitches(BaseModel):
    """What `PUT /_control/faults` may set; rates are shares of requests (of deliveries for `webhook_*`), so between
    0 and 1."""

    model_config = ConfigDict(extra="forbid")

    server_error_rate: float | None = Field(default=None, ge=0, le=1)
    latency_seconds: float | None = Field(default=None, ge=0, le=10)
    drop_response_rate: float | None = Field(default=None, ge=0, le=1)
    throttle_rate: float | None = Field(default=None, ge=0, le=1)
    max_retry_after: int | None = Field(default=None, ge=1, le=3600)
    timeout_rate: float | None = Field(default=None, ge=0, le=1)
    hang_seconds: float | None = Field(default=None, ge=0, le=60)
    outage_until: float | None = Field(default=None, ge=0)
    crash_after_write_rate: float | None = Field(default=None, ge=0, le=1)
    webhook_duplicate_rate: float | None = Field(default=None, ge=0, le=1)
    webhook_reorder: StrictBool | None = None
    webhook_delay_rate: float | None = Field(default=None, ge=0, le=1)
    webhook_lose_rate: float | None = Field(default=None, ge=0, le=1)


# switch → the `DeliveryFaults` field it sets; the other switches are `Faults` fields of the same name.
WEBHOOK_SWITCHES = {f"webhook_{f.name}": f.name for f in fields(DeliveryFaults)}
SWITCHES = tuple(name for name in FaultSwitches.model_fields if name not in WEBHOOK_SWITCHES)


def answers_control(request: SimRequest) -> bool:
    return request.path.rstrip("/") in (STATE_PATH, FAULTS_PATH)


def control(sim: Simulator, request: SimRequest) -> SimResponse:
    """Answer one control request (the caller checked `answers_control`)."""
    path, method = request.path.rstrip("/"), request.method.upper()
    if path == STATE_PATH and method == "GET":
        return json_response(200, sim.snapshot())
    if path == FAULTS_PATH and method == "GET":
        return json_response(200, fault_switches(sim))
    if path == FAULTS_PATH and method == "PUT":
        return _set_faults(sim, request)
    return json_response(405, {"message": "Method not allowed"})


def fault_switches(sim: Simulator) -> dict[str, Any]:
    switches = {name: getattr(sim.faults, name) for name in SWITCHES}
    delivery = sim.webhook_faults()
    if delivery is not None:
        switches.update({switch: getattr(delivery, name) for switch, name in WEBHOOK_SWITCHES.items()})
    return switches


def _set_faults(sim: Simulator, request: SimRequest) -> SimResponse:
    try:
        body = request.json()
    except ValueError:
        return json_response(400, {"message": "the body must be a JSON object of fault switches"})
    if not isinstance(body, dict):
        return json_response(400, {"message": "the body must be a JSON object of fault switches"})
    try:
        switches = FaultSwitches.model_validate(body)
    except ValidationError as invalid:
        return json_response(400, {"message": "invalid fault switches", "errors": field_errors(invalid)})
    chosen = switches.model_dump(exclude_none=True)
    delivery = sim.webhook_faults()
    if delivery is None:
        unsent = {name: "this simulator sends no webhooks" for name in chosen if name in WEBHOOK_SWITCHES}
        if unsent:
            return json_response(400, {"message": "invalid fault switches", "errors": unsent})
    for name, value in chosen.items():
        if name in WEBHOOK_SWITCHES:
            setattr(delivery, WEBHOOK_SWITCHES[name], value)
        else:
            setattr(sim.faults, name, value)
    return json_response(200, fault_switches(sim))
