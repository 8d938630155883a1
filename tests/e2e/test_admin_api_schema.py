"""Schemathesis against the admin API on the embedded stack, over HTTP as the console calls it: an operator signed
in (InitiateAuth through the local endpoint), every request through AdminApi's Cognito authorizer with the id token
to AdminApiFunction. For every operation of the OpenAPI document, requests generated from it (valid and invalid)
are answered with no 5xx, a documented status and content type, and a body that matches the document. Bounded (a
few examples per operation, derandomized) so the run stays well under a minute."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import schemathesis
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
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
OPERATOR, PASSWORD = "schemathesis-ops@example.dk", "Fjord-Harbour-2026"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seed=43) as running:
        running.create_user(OPERATOR, PASSWORD, operator=True)
        yield running


@pytest.fixture(scope="module")
def token(stack: LocalStack) -> str:
    return stack.sign_in(OPERATOR, PASSWORD)


@schema.parametrize()
@settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_answer_keeps_the_document(stack: LocalStack, token: str, case: schemathesis.Case) -> None:
    # GIVEN a request generated from the document WHEN the stack answers it THEN the answer keeps the document
    if case.method.upper() != case.operation.method.upper():
        # A method probe (TRACE …): the local endpoint's HTTP server refuses methods it does not speak (501) before
        # API Gateway's part of it; the function's own 404 for them is tests/component/test_admin_api.py's.
        return
    response = case.call(base_url=stack.admin_api_url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    case.validate_response(response, checks=CHECKS)
