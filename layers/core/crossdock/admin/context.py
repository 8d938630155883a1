"""What a route works on: the stack (an `OperatorTarget`, given once by the function) and the caller of the request.

The function hands over how to make its target (`use`), at import; the target is made on first use and kept for
the container's life, as the functions keep their clients (`services`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from crossdock.admin.caller import Caller
from crossdock.operations.target import OperatorTarget

_factory: Callable[[], OperatorTarget] | None = None
_target: OperatorTarget | None = None


def use(factory: Callable[[], OperatorTarget]) -> None:
    """How to make the stack's target; a new factory (a new stack in the same process) drops the one made before."""
    global _factory, _target
    _factory, _target = factory, None


def target() -> OperatorTarget:
    global _target
    if _target is None:
        if _factory is None:
            raise RuntimeError("crossdock.admin.context.use() was not called: the function gives its stack first")
        _target = _factory()
    return _target


def claims_of(event: dict[str, Any]) -> dict[str, Any]:
    """Where API Gateway's Cognito authorizer puts the id token's claims for a REST API."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    claims = authorizer.get("claims")
    return claims if isinstance(claims, dict) else {}


def caller(router: Router) -> Caller:
    """The caller of the request `router` is answering, refused (`Forbidden`) when it may use no route at all."""
    return Caller.of(claims_of(router.current_event.raw_event)).allowed()
