"""The install function takes the addresses it gives Shopify (OAuth redirect_uri, webhook address) from the request's
Host header only in the local runtime: deployed without PUBLIC_BASE_URL it refuses to start, naming the variable.
Imported as Lambda imports it, in a fresh interpreter, with the variables template.yaml gives it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHOPIFY_APP = ROOT / "functions" / "shopify_app"


def _cold_start(**env: str) -> subprocess.CompletedProcess[str]:
    lambda_env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT / "layers" / "core"),
        "LAMBDA_TASK_ROOT": str(SHOPIFY_APP),
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "TABLE_NAME": "crossdock-Table",
        "KEY_ID": "key",
        "POLL_SCHEDULE_GROUP": "crossdock-polls",
        "POLL_FUNCTION_ARN": "arn:aws:lambda:eu-west-1:123456789012:function:crossdock-poll",
        "POLL_SCHEDULE_ROLE_ARN": "arn:aws:iam::123456789012:role/crossdock-poll-schedules",
        "POWERTOOLS_SERVICE_NAME": "crossdock",
        "POWERTOOLS_METRICS_NAMESPACE": "Crossdock",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", "import app"], cwd=SHOPIFY_APP, env=lambda_env, capture_output=True, text=True
    )


def test_deployed_without_a_public_base_url_the_install_function_refuses_to_start() -> None:
    # GIVEN the environment of a deployed stack whose PublicBaseUrl parameter was left empty
    # WHEN Lambda imports the install function
    started = _cold_start(PUBLIC_BASE_URL="")
    # THEN the cold start fails, naming the variable and the parameter to set
    assert started.returncode != 0
    assert "MisconfiguredFunction: environment variable PUBLIC_BASE_URL is empty" in started.stderr
    assert "PublicBaseUrl" in started.stderr


def test_it_starts_with_a_public_base_url_or_in_the_local_runtime() -> None:
    # GIVEN a deployed stack with its public URL, and the local runtime (which says so) without one
    # WHEN each imports the install function THEN both start
    for env in ({"PUBLIC_BASE_URL": "https://hub.example.com"}, {"CROSSDOCK_LOCAL_STACK": "true"}):
        started = _cold_start(**env)
        assert started.returncode == 0, started.stderr


def test_a_local_stack_flag_that_is_not_true_or_false_fails_the_cold_start_naming_it() -> None:
    started = _cold_start(CROSSDOCK_LOCAL_STACK="yes")
    assert started.returncode != 0
    assert "environment variable CROSSDOCK_LOCAL_STACK is not true or false: 'yes'" in started.stderr
