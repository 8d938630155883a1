"""Maps (method, path pattern) to a handler, answering 404 and 405 the way a REST platform does."""

from __future__ import annotations

import re
from collections.abc import Callable

from crossdock_local.sims.base.http import SimRequest, SimResponse, json_response

Handler = Callable[..., SimResponse]


class Router:
    """`{name}` in a pattern captures one path segment and reaches the handler as a keyword argument."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern.rstrip("/") or "/")
        self._routes.append((method.upper(), re.compile(f"^{regex}/?$"), handler))

    def dispatch(self, request: SimRequest) -> SimResponse:
        path_matched = False
        for method, regex, handler in self._routes:
            match = regex.match(request.path)
            if match is None:
                continue
            path_matched = True
            if method == request.method.upper():
                return handler(request, **match.groupdict())
        if path_matched:
            return json_response(405, {"message": "Method not allowed"})
        return json_response(404, {"message": "Not found"})
