"""Echoes the API Gateway proxy event back, with the variables this function can see."""

import base64
import json
import os
from typing import Any

SEEN_AT_IMPORT = {name: os.environ.get(name) for name in ("ECHO_ONLY", "WORKER_ONLY")}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event["resource"] == "/boom":
        raise ValueError("boom")
    if event["resource"] == "/binary":
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/octet-stream"},
            "multiValueHeaders": {"X-Multi": ["a", "b"]},
            "body": base64.b64encode(b"\x00\xffraw").decode(),
            "isBase64Encoded": True,
        }
    echo = {
        "event": event,
        "env": {name: os.environ.get(name) for name in ("ECHO_ONLY", "WORKER_ONLY", "TABLE_NAME", "STAGE")},
        "env_at_import": SEEN_AT_IMPORT,
        "context": {
            "function_name": context.function_name,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "invoked_function_arn": context.invoked_function_arn,
            "remaining_ms": context.get_remaining_time_in_millis(),
        },
    }
    return {"statusCode": 201, "headers": {"Content-Type": "application/json"}, "body": json.dumps(echo)}
