"""The admin API's OpenAPI document: the repo's copy (docs/admin-api/openapi.json) is the one the routes make, and
it documents the one error body every refusal answers with."""

from __future__ import annotations

import json
from typing import Any

from crossdock.admin.app import openapi_document
from crossdock_local.openapi import DOCUMENT


def test_the_repos_copy_is_current() -> None:
    # GIVEN the document the routes make now, WHEN it is compared with the repo's copy, THEN they are the same
    assert DOCUMENT.read_text(encoding="utf-8") == openapi_document(), "stale: run `make openapi` and commit it"


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    paths = json.loads(openapi_document())["paths"]
    return [(path, method, operation) for path, methods in paths.items() for method, operation in methods.items()]


def test_every_refusal_is_documented_as_the_one_error_body() -> None:
    for path, method, operation in operations():
        for status in ("403", "404", "409", "422"):
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)


def test_every_route_is_under_admin_and_the_console_and_the_document_are_not_listed() -> None:
    paths = {path for path, _, _ in operations()}
    assert all(path.startswith("/admin/") for path in paths), paths
    assert "/admin/openapi.json" not in paths
    assert not any(path.startswith("/console") for path in paths)
