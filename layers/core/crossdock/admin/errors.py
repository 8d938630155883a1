"""The admin API's one error body, and which refusal gets which status.

Every 4xx answers `{"message": "...", "errors": [{"field": "settings.order.layout_id", "message": "..."}]}`
(`errors` only where a field is at fault): 422 for invalid input (Powertools' validation errors reshaped, the field
a dotted path into the request; a settings refusal's problems named as the CLI names them, under `settings.`),
404 for what does not exist — or is another tenant's, with the very same body — 409 for a version or state
conflict, 403 for a caller who may not use the route. Anything unexpected is a 500 naming the request id only:
its detail goes to the log, never to the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, Field

from crossdock.admin.caller import Forbidden
from crossdock.aws.observability import logger
from crossdock.operations.errors import NotFound, OperatorError, Problem, Refused, Rejected

# Where Powertools says a value came from; the field is named without it (`body.version` is `version`).
_SOURCES = frozenset({"body", "query", "path", "header", "cookie", "form", "file"})


class FieldError(BaseModel):
    field: str = Field(description="a dotted path into the request: settings.order.layout_id, limit")
    message: str


class ErrorBody(BaseModel):
    message: str
    errors: list[FieldError] | None = None
    request_id: str | None = Field(default=None, description="only on a 500: where to look in the logs")


class Invalid(Exception):
    """Input the route itself found wrong (beyond its model): a 422 naming the fields."""

    def __init__(self, message: str, errors: Sequence[FieldError] = ()) -> None:
        super().__init__(message)
        self.errors = list(errors)


class Conflict(Exception):
    """A version or state conflict the route found itself: 409."""


_REFUSALS: dict[int, OpenAPIResponse] = {
    status: {
        "description": description,
        "content": {"application/json": {"model": ErrorBody}},
    }
    for status, description in (
        (401, "no valid id token (API Gateway's authorizer answers this)"),
        (403, "the caller may not use this route"),
        (404, "no such connection, or not the caller's"),
        (409, "a version or state conflict: the connection is not in a state that allows it"),
        (415, "the body is not sent as application/json"),
        (422, "invalid input, by field"),
    )
}


def answers(success: int = 200, description: str = "done") -> dict[int, OpenAPIResponse]:
    """What the OpenAPI document lists for a route: its own answer (the route's return type: Powertools fills in
    the content of a response given without one) and every refusal, as the one error body."""
    return {success: {"description": description}, **_REFUSALS}


# For a route that answers 200; one that answers otherwise gives `answers(201, …)`.
ERROR_RESPONSES = answers()


def field_errors(problems: Iterable[Problem], prefix: str = "") -> list[FieldError]:
    """An operation's problems (each `field: message`, as the CLI prints them), fields under `prefix`."""
    return [FieldError(field=f"{prefix}{problem.field}", message=problem.message) for problem in problems]


def dotted(location: Sequence[Any]) -> str:
    """Powertools' `loc` (`("body", "settings", "order")`) as the field it names (`settings.order`)."""
    parts = [str(part) for part in location]
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    return ".".join(parts) or "body"


def answer(status: HTTPStatus, message: str, errors: Sequence[FieldError] | None = None) -> Response[str]:
    body = ErrorBody(message=message, errors=list(errors) if errors else None)
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump_json(exclude_none=True),
    )


def not_json(event: dict[str, Any]) -> dict[str, Any] | None:
    """The 415 proxy answer to a request whose body is not sent as JSON (`application/json` or `…+json`; no type is
    read as JSON, as Powertools reads it); None for any other request."""
    if not event.get("body"):
        return None
    headers = {str(name).lower(): str(value) for name, value in (event.get("headers") or {}).items()}
    media_type = headers.get("content-type", "application/json").split(";", 1)[0].strip().lower()
    if media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json")):
        return None
    body = ErrorBody(message="send the body as application/json")
    return {
        "statusCode": HTTPStatus.UNSUPPORTED_MEDIA_TYPE.value,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": body.model_dump_json(exclude_none=True),
        "isBase64Encoded": False,
    }


def install(resolver: APIGatewayRestResolver) -> None:
    """The exception handlers that turn every refusal into its status and the one body."""

    @resolver.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
    def invalid_request(error: RequestValidationError) -> Response[str]:
        errors = [
            FieldError(field=dotted(item.get("loc", ())), message=str(item.get("msg"))) for item in error.errors()
        ]
        return answer(HTTPStatus.UNPROCESSABLE_ENTITY, "the request is invalid; nothing was changed", errors)

    @resolver.exception_handler(Invalid)  # type: ignore[untyped-decorator]
    def invalid_input(error: Invalid) -> Response[str]:
        return answer(HTTPStatus.UNPROCESSABLE_ENTITY, str(error), error.errors)

    @resolver.exception_handler(Rejected)  # type: ignore[untyped-decorator]
    def rejected(error: Rejected) -> Response[str]:
        # The message's first line says what was refused; the problems follow by field.
        return answer(HTTPStatus.UNPROCESSABLE_ENTITY, str(error).split(":\n", 1)[0], field_errors(error.problems))

    @resolver.exception_handler(NotFound)  # type: ignore[untyped-decorator]
    def not_found(error: NotFound) -> Response[str]:
        return answer(HTTPStatus.NOT_FOUND, str(error))

    @resolver.exception_handler([Refused, Conflict])  # type: ignore[untyped-decorator]
    def refused(error: Exception) -> Response[str]:
        return answer(HTTPStatus.CONFLICT, str(error))

    @resolver.exception_handler(OperatorError)  # type: ignore[untyped-decorator]
    def not_possible(error: OperatorError) -> Response[str]:
        # The stack cannot do it (a resource missing from an older template): the caller's input is not at fault.
        logger.warning("operation not possible", extra={"reason": str(error)})
        return answer(HTTPStatus.CONFLICT, str(error))

    @resolver.exception_handler(RequestUnsupportedContentType)  # type: ignore[untyped-decorator]
    def not_json(error: RequestUnsupportedContentType) -> Response[str]:
        return answer(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send the body as application/json")

    @resolver.exception_handler(UnicodeDecodeError)  # type: ignore[untyped-decorator]
    def unreadable_body(error: UnicodeDecodeError) -> Response[str]:
        # Powertools decodes the body before validating it: one that is not UTF-8 never reaches a model.
        errors = [FieldError(field="body", message="not UTF-8 text")]
        return answer(HTTPStatus.UNPROCESSABLE_ENTITY, "the request is invalid; nothing was changed", errors)

    @resolver.exception_handler(NotFoundError)  # type: ignore[untyped-decorator]
    def no_route(error: NotFoundError) -> Response[str]:
        # A path or method the API does not have (Powertools raises this before any route runs).
        return answer(HTTPStatus.NOT_FOUND, "no such route")

    @resolver.exception_handler(Forbidden)  # type: ignore[untyped-decorator]
    def forbidden(error: Forbidden) -> Response[str]:
        return answer(HTTPStatus.FORBIDDEN, str(error))

    @resolver.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def unexpected(error: Exception) -> Response[str]:
        request_id = _request_id(resolver)
        logger.error("admin API request failed", extra={"request_id": request_id}, exc_info=error)
        body = ErrorBody(message="the request failed unexpectedly; nothing more is said here", request_id=request_id)
        return Response(
            status_code=HTTPStatus.INTERNAL_SERVER_ERROR.value,
            content_type=content_types.APPLICATION_JSON,
            body=body.model_dump_json(exclude_none=True),
        )


def _request_id(resolver: APIGatewayRestResolver) -> str:
    try:
        return str(resolver.current_event.request_context.request_id or resolver.lambda_context.aws_request_id)
    except (AttributeError, KeyError, TypeError):
        return "-"
