"""Ingest's cold start (DESIGN §8: ≤ 1.5 × `import boto3`, bench/cold_import.py): the handler is imported as Lambda
imports it, in a fresh interpreter, and must not load what it does not use on any request."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INGEST = ROOT / "functions" / "ingest"

# What ingest's import used to load without needing it: the settings models (pydantic), only to find a connection
# by shop domain or id; Powertools' event_handler package (AppSync, Bedrock, OpenAPI…), for two fixed routes;
# httpx, for clients ingest never makes.
NOT_LOADED = (
    "pydantic",
    "crossdock.integrations.rackbeat_shopify.settings",
    "crossdock.connections.model",
    "crossdock.store.connections",
    "aws_lambda_powertools.event_handler",
    "httpx",
)


def _cold_start(code: str, **env: str) -> str:
    """`code` in a new interpreter set up as Lambda runs ingest: the function's code as the task root, the core
    layer on the path, the variables template.yaml gives it (their values do not matter at import)."""
    lambda_env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT / "layers" / "core"),
        "LAMBDA_TASK_ROOT": str(INGEST),
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "TABLE_NAME": "crossdock-Table",
        "INBOUND_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/crossdock-InboundQueue",
        "PAYLOAD_BUCKET": "crossdock-payloadbucket",
        "POWERTOOLS_SERVICE_NAME": "crossdock",
        "POWERTOOLS_METRICS_NAMESPACE": "Crossdock",
        **env,
    }
    answer = subprocess.run(
        [sys.executable, "-c", code], cwd=INGEST, env=lambda_env, capture_output=True, text=True, check=True
    )
    return answer.stdout.strip().splitlines()[-1]


def test_importing_the_ingest_handler_loads_neither_pydantic_nor_the_event_handler_package() -> None:
    loaded = _cold_start(
        f"import sys, json, app\nprint(json.dumps([m for m in {NOT_LOADED!r} if m in sys.modules]))",
    )
    assert json.loads(loaded) == []


def test_an_unknown_route_is_answered_404_as_powertools_answered_it() -> None:
    answer = _cold_start(
        "import json, types, app\n"
        "context = types.SimpleNamespace(function_name='crossdock-ingest', memory_limit_in_mb=256,\n"
        "    invoked_function_arn='arn:aws:lambda:eu-west-1:123456789012:function:crossdock-ingest',\n"
        "    aws_request_id='req-1')\n"
        "event = {'resource': '/webhooks/other', 'path': '/webhooks/other', 'httpMethod': 'POST', 'headers': None,\n"
        "    'requestContext': {'requestId': 'abc'}, 'body': None, 'isBase64Encoded': False}\n"
        "print(json.dumps(app.handler(event, context)))",
        POWERTOOLS_TRACE_DISABLED="true",  # no X-Ray daemon here
    )
    assert json.loads(answer) == {
        "statusCode": 404,
        "body": '{"statusCode":404,"message":"Not found"}',
        "isBase64Encoded": False,
        "multiValueHeaders": {"Content-Type": ["application/json"]},
    }


def test_every_webhook_source_is_read_without_pydantic_or_httpx() -> None:
    # GIVEN ingest as Lambda imports it WHEN each registered system's webhook source is loaded (as the first delivery
    # of that system does) THEN none of them brings in what ingest's cold start keeps out (PeakWMS's included: its
    # event tables live apart from the connector's shapes)
    loaded = _cold_start(
        "import sys, json, app\n"
        "from crossdock import registry\n"
        "for system in registry.WEBHOOK_SOURCES: assert registry.webhook_source(system) is not None\n"
        f"print(json.dumps([m for m in {NOT_LOADED!r} if m in sys.modules]))",
    )
    assert json.loads(loaded) == []
