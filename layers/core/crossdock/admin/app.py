"""The admin API's resolver: Powertools' REST resolver with pydantic validation, every router included.

`functions/admin_api` answers with `resolve` (the resolver, behind the JSON-only check). `openapi_document()` is
what `GET /admin/openapi.json` serves and what `make openapi` writes to docs/admin-api/openapi.json
(tests/unit/test_admin_openapi.py keeps that copy current).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types

from crossdock.admin import (
    errors,
    routes_connections,
    routes_console,
    routes_dead_letters,
    routes_events,
    routes_onboarding,
    routes_progress,
    routes_settings,
)

TITLE = "Crossdock admin API"
VERSION = "1"
DESCRIPTION = (
    "Connections, settings, events and dead letters of a Crossdock stack, for operators (every connection) and "
    "merchant users (their tenant's connections only). Every route but this document and the console needs a "
    "Cognito id token in `Authorization` (bare or `Bearer <token>`)."
)

resolver = APIGatewayRestResolver(enable_validation=True)
errors.install(resolver)
resolver.include_router(routes_connections.router)
resolver.include_router(routes_onboarding.router)
resolver.include_router(routes_settings.router)
resolver.include_router(routes_events.router)
resolver.include_router(routes_dead_letters.router)
resolver.include_router(routes_console.router)
resolver.include_router(routes_progress.router)


def resolve(event: dict[str, Any], lambda_context: Any) -> dict[str, Any]:
    """The answer to one API Gateway proxy event. A body sent as anything but JSON is a 415 before Powertools reads
    it: Powertools would parse a form or a multipart body (and fail on a malformed one) for models only JSON fills."""
    refused = errors.not_json(event)
    return refused if refused is not None else resolver.resolve(event, lambda_context)


def openapi_document() -> str:
    """The OpenAPI document of every route, as JSON text (sorted keys, so the repo's copy diffs cleanly)."""
    schema = json.loads(resolver.get_openapi_json_schema(title=TITLE, version=VERSION, description=DESCRIPTION))
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@resolver.get("/admin/openapi.json", include_in_schema=False)
def openapi() -> Response[str]:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=openapi_document())
