"""API Gateway proxy events for AdminApiFunction, as a REST API with a Cognito authorizer hands them over: the id
token's claims at `requestContext.authorizer.claims`, flat strings (`cognito:groups` joined by ",")."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from crossdock_local.aws.lambda_runtime import InvokeResult


def claims(*, tenant: str | None = None, operator: bool = False, email: str | None = None) -> dict[str, str]:
    sub = str(uuid.uuid4())
    found = {
        "sub": sub,
        "email": email or f"{sub[:8]}@merchant.example",
        "cognito:username": sub,
        "token_use": "id",
        "aud": "console-client",
        "iss": "https://cognito-idp.eu-north-1.amazonaws.com/eu-north-1_test",
        "exp": "4102444800",
    }
    if tenant is not None:
        found["custom:tenant"] = tenant
    if operator:
        found["cognito:groups"] = "operators"
    return found


def event(
    method: str,
    path: str,
    who: dict[str, str] | None,
    body: Any = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "resource": "/admin/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", "Authorization": "token-checked-by-the-authorizer"},
        "multiValueHeaders": {},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": {"proxy": path.removeprefix("/admin/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/admin/{proxy+}",
            "httpMethod": method,
            "path": f"/dev{path}" + (f"?{urlencode(query)}" if query else ""),
            "stage": "dev",
            "requestId": str(uuid.uuid4()),
            "authorizer": {"claims": who} if who is not None else {},
            "identity": {"sourceIp": "198.51.100.7"},
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any

    @classmethod
    def of(cls, result: InvokeResult) -> Answer:
        assert result.error is None, result.error
        payload = result.payload
        text = payload.get("body") or ""
        return cls(int(payload["statusCode"]), json.loads(text) if text else None)
