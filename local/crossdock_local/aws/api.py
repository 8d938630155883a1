"""API Gateway REST API (v1) in front of in-process handlers: routing, the Lambda proxy event, the proxy result."""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from crossdock_local.aws.api_authorizer import CognitoAuthorizer
from crossdock_local.aws.clock import VirtualClock
from crossdock_local.aws.lambda_runtime import FunctionSpec, InProcessLambda


@dataclass(frozen=True)
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Route:
    api_id: str
    stage: str
    method: str  # upper case, or "ANY"
    resource: str  # the template's path, e.g. /webhooks/rackbeat/{connection_id}
    function: FunctionSpec
    # The API's BinaryMediaTypes (`image/png`, `*/*`; SAM's `~1` already read as `/`): a request whose Content-Type
    # matches one reaches the function base64-encoded, byte for byte.
    binary_media_types: tuple[str, ...] = ()
    # The method's Cognito authorizer (its API's DefaultAuthorizer unless the event says `Authorizer: NONE` or
    # names another); None: open, as the webhook routes are.
    authorizer: CognitoAuthorizer | None = None

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path parameters when this route serves the request, else None."""
        if self.method not in ("ANY", method.upper()):
            return None
        found = re.fullmatch(_path_pattern(self.resource), path)
        return None if found is None else found.groupdict()


def _path_pattern(resource: str) -> str:
    def parameter(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.endswith("+"):  # greedy proxy parameter
            return f"(?P<{name[:-1]}>.+)"
        return f"(?P<{name}>[^/]+)"

    parts = re.split(r"(\{[^}]+\})", resource.rstrip("/") or "/")
    return "".join(
        re.sub(r"\{([^}]+)\}", parameter, part) if part.startswith("{") else re.escape(part) for part in parts
    )


def _specificity(route: Route) -> tuple[int, ...]:
    """API Gateway picks the most specific resource, segment by segment: a fixed segment before a `{variable}`,
    a variable before a greedy `{proxy+}` — `/webhooks/rackbeat/{id}` before `/webhooks/{kind}/{source}`."""
    segments = route.resource.strip("/").split("/")
    return tuple(2 if part.endswith("+}") else 1 if part.startswith("{") else 0 for part in segments)


def _gateway_error(status: int, message: str, error_type: str = "Gateway") -> ApiResponse:
    body = json.dumps({"message": message}).encode()
    return ApiResponse(status, {"Content-Type": "application/json", "x-amzn-ErrorType": error_type}, body)


class ApiGateway:
    def __init__(self, lambdas: InProcessLambda, clock: VirtualClock, account_id: str) -> None:
        self._lambdas = lambdas
        self._clock = clock
        self._account_id = account_id
        self.routes: list[Route] = []
        self.requests = 0

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        *,
        base64_body: bool = False,
        query: dict[str, str | list[str]] | None = None,
    ) -> ApiResponse:
        """`base64_body` forces the base64 hand-over; without it the API's binary media types decide, as in AWS."""
        self.requests += 1
        path = "/" + path.lstrip("/")
        for route in sorted(self.routes, key=_specificity):
            path_parameters = route.match(method, path.rstrip("/") or "/")
            if path_parameters is not None:
                claims = None
                if route.authorizer is not None:
                    claims = route.authorizer.claims(headers)
                    if claims is None:  # refused before the function: it is never invoked
                        return _gateway_error(401, "Unauthorized", "UnauthorizedException")
                binary = base64_body or _is_binary(headers, route.binary_media_types)
                event = self._event(route, method, path, headers, body, binary, query or {}, path_parameters)
                if claims is not None:
                    event["requestContext"]["authorizer"] = {"claims": claims}
                result = self._lambdas.invoke(route.function, event, source="api")
                if result.error is not None:
                    return _gateway_error(502, "Internal server error")
                return _proxy_response(result.payload)
        # A REST API answers an unknown resource or method with 403, not 404.
        return _gateway_error(403, "Missing Authentication Token")

    def _event(
        self,
        route: Route,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        base64_body: bool,
        query: dict[str, str | list[str]],
        path_parameters: dict[str, str],
    ) -> dict[str, Any]:
        multi_query = {key: value if isinstance(value, list) else [value] for key, value in query.items()}
        now = self._clock.time()
        source_ip = headers.get("X-Forwarded-For", "127.0.0.1").split(",")[0].strip()
        return {
            "resource": route.resource,
            "path": path,
            "httpMethod": method.upper(),
            "headers": dict(headers) or None,
            "multiValueHeaders": {key: [value] for key, value in headers.items()} or None,
            "queryStringParameters": {key: values[-1] for key, values in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": path_parameters or None,
            "stageVariables": None,
            "requestContext": {
                "accountId": self._account_id,
                "apiId": route.api_id,
                "stage": route.stage,
                "resourcePath": route.resource,
                "httpMethod": method.upper(),
                "path": f"/{route.stage}{path}",
                "protocol": "HTTP/1.1",
                "requestId": str(uuid.uuid4()),
                "requestTimeEpoch": int(now * 1000),
                "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent")},
            },
            "body": _event_body(body, base64_body),
            "isBase64Encoded": base64_body,
        }


def _is_binary(headers: dict[str, str], binary_media_types: tuple[str, ...]) -> bool:
    """Whether the request's Content-Type matches one of the API's binary media types (`*` a wildcard on either
    side of the `/`, parameters such as `; charset=utf-8` ignored). No Content-Type matches only `*/*`."""
    content_type = next((value for key, value in headers.items() if key.lower() == "content-type"), "")
    media_type = content_type.split(";", 1)[0].strip().lower() or "*/*"
    kind, _, subtype = media_type.partition("/")
    for pattern in binary_media_types:
        want_kind, _, want_subtype = pattern.lower().partition("/")
        if want_kind in ("*", kind) and want_subtype in ("*", subtype):
            return True
    return False


def _event_body(body: bytes, base64_body: bool) -> str | None:
    if not body:
        return None
    if base64_body:
        return base64.b64encode(body).decode()
    # A text payload is handed over as UTF-8 text: bytes that are not UTF-8 reach the function as U+FFFD (what
    # API Gateway is reported to do with a REST API's non-binary bodies), so their signature no longer matches.
    return body.decode("utf-8", errors="replace")


def _proxy_response(result: Any) -> ApiResponse:
    """Map a Lambda proxy result back; a malformed one is a 502, as API Gateway answers."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        return _gateway_error(502, "Internal server error")
    headers = {key: str(value) for key, value in (result.get("headers") or {}).items()}
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers[key] = ", ".join(str(value) for value in values)
    body = result.get("body") or ""
    if not isinstance(body, str):
        return _gateway_error(502, "Internal server error")
    if result.get("isBase64Encoded"):
        try:
            return ApiResponse(result["statusCode"], headers, base64.b64decode(body, validate=True))
        except binascii.Error:
            return _gateway_error(502, "Internal server error")
    return ApiResponse(result["statusCode"], headers, body.encode("utf-8"))
