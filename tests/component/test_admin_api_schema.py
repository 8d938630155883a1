"""Schemathesis against the admin API on the embedded stack: for every operation of its OpenAPI document, requests
generated from the document (valid and invalid) reach AdminApiFunction as API Gateway would hand them over (an
operator's claims, as the Cognito authorizer puts them), and every answer is no 5xx, has a documented status and
content type, and matches its documented schema. Bounded (a few examples per operation, derandomized) so the run
stays well under a minute."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import schemathesis
from admin_events import claims, event
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from crossdock.admin.app import openapi_document
from crossdock_local.stack import LocalStack

schema = schemathesis.openapi.from_dict(json.loads(openapi_document()))
OPERATOR = claims(operator=True, email="ops@crossdock.example")
BASE = "https://admin.crossdock.test/dev"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seed=43) as running:
        yield running


def proxy_event(case: schemathesis.Case) -> dict[str, Any]:
    """The generated request as the Lambda proxy event API Gateway would make of it (query values as text)."""
    query = {name: value if isinstance(value, str) else json.dumps(value) for name, value in (case.query or {}).items()}
    request = event(case.method.upper(), case.formatted_path, OPERATOR, query=query or None)
    if isinstance(case.body, bytes):  # a body that is not JSON: API Gateway hands it over base64-encoded
        request["body"], request["isBase64Encoded"] = base64.b64encode(case.body).decode(), True
    elif case.body is not None and not isinstance(case.body, schemathesis.core.NotSet):
        request["body"] = json.dumps(case.body)
    return request


@schema.parametrize()
@settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_answer_keeps_the_document(stack: LocalStack, case: schemathesis.Case) -> None:
    # GIVEN a request generated from the document WHEN the function answers it THEN the answer keeps the document
    result = stack.aws.invoke("AdminApiFunction", proxy_event(case))
    assert result.error is None, result.error
    payload = result.payload
    headers = {name: values[-1] for name, values in (payload.get("multiValueHeaders") or {}).items()}
    response = httpx.Response(
        payload["statusCode"],
        headers=headers,
        content=(payload.get("body") or "").encode(),
        request=httpx.Request(case.method.upper(), BASE + case.formatted_path),
    )
    response.elapsed = timedelta(0)  # answered in-process: no transfer was timed
    case.validate_response(response, checks=CHECKS)
