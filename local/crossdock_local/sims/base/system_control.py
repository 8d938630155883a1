"""A simulator's own control calls (`/_control/customers`, `/_control/rules`, …) next to the base's state and faults.

Shared because every simulator with resource modules answers them the same way: outside the platform's pipeline
(no faults, no auth, not counted among its calls), under the simulator's lock, each handler given a fresh session
and a `Refused` answered as its response. Which routes there are, and what a session holds, is each system's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crossdock_local.sims.base import control as control_api
from crossdock_local.sims.base.http import SimRequest, SimResponse
from crossdock_local.sims.base.refusal import Refused
from crossdock_local.sims.base.router import Handler, Router
from crossdock_local.sims.base.simulator import Simulator

CONTROL_ROOT = "/_control/"


class SystemControl(Simulator):
    """A `Simulator` that also answers its system's `/_control/...` routes; `_register_control` is called from its
    `__init__`, and `_new_session()` makes the session its handlers work with."""

    def _register_control(self, routes: Iterable[tuple[str, str, Handler]]) -> None:
        self._control = Router()
        for method, pattern, handler in routes:
            self._control.add(method, pattern, self._control_call(handler))

    def _new_session(self) -> Any:
        raise NotImplementedError

    def handle(self, request: SimRequest) -> SimResponse:
        if request.path.startswith(CONTROL_ROOT) and not control_api.answers_control(request):
            # The system's own control calls, like the base's: no faults, no credentials, not counted among its calls.
            with self._lock:
                return self._control.dispatch(request)
        return super().handle(request)

    def _control_call(self, handler: Handler) -> Handler:
        def answered(request: SimRequest, **params: str) -> SimResponse:
            try:
                return handler(self._new_session(), request, **params)
            except Refused as refusal:
                return refusal.response

        return answered
