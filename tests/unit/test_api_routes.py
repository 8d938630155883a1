"""The embedded API Gateway picks the most specific resource for a path, as API Gateway does (aws_api)."""

from __future__ import annotations

from typing import Any, cast

from crossdock_local.aws.api import Route, _specificity


def _route(resource: str) -> Route:
    return Route("api", "Prod", "POST", resource, cast(Any, None))


def test_a_fixed_segment_wins_over_a_variable_whatever_the_declaration_order() -> None:
    # GIVEN routes declared with the general one first
    declared = [_route("/webhooks/{kind}/{source}"), _route("/{proxy+}"), _route("/webhooks/rackbeat/{connection_id}")]
    path = "/webhooks/rackbeat/c-1"
    # WHEN they are tried in the order the runtime tries them
    matching = [route for route in sorted(declared, key=_specificity) if route.match("POST", path) is not None]
    # THEN the connection-named Rackbeat route serves it, then the kind route, then the greedy proxy
    assert [route.resource for route in matching] == [
        "/webhooks/rackbeat/{connection_id}",
        "/webhooks/{kind}/{source}",
        "/{proxy+}",
    ]
    assert matching[0].match("POST", path) == {"connection_id": "c-1"}
