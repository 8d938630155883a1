"""The operator CLI with only the runtime dependencies (issue 12): `pip install crossdock` without the `local` extra.

The installed `crossdock` runs in another interpreter where moto, samtranslator, werkzeug and yaml cannot be
imported: a `sitecustomize` first on its path puts a finder in front of the import system that refuses them and
writes down every attempt, even one that something catches. The operator's commands must never try; `demo`, which
runs the local runtime, must, which shows that the refusal works. The AWS the commands reach is a fake that refuses
every request as AWS refuses unknown credentials, so a command gets as far as its first AWS call and fails there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from crossdock.operations.target import required_logical_ids

CROSSDOCK = Path(sys.executable).parent / "crossdock"
LOCAL_ONLY = ("moto", "samtranslator", "werkzeug", "yaml")

SITECUSTOMIZE = f"""
import importlib.abc
import os
import sys

REFUSED = {LOCAL_ONLY!r}


class RefuseLocalRuntime(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in REFUSED:
            with open(os.environ["REFUSED_IMPORTS_LOG"], "a") as log:
                log.write(name + "\\n")
            raise ModuleNotFoundError(f"No module named {{name!r}} (no local extra)", name=name)
        return None


sys.meta_path.insert(0, RefuseLocalRuntime())
"""


class _RefuseEveryRequest(BaseHTTPRequestHandler):
    """AWS's answer to unknown credentials, in the JSON protocol (DynamoDB, SQS) or the query one (CloudFormation)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("X-Amz-Target"):
            body = json.dumps({"__type": "UnrecognizedClientException", "message": "The security token is invalid."})
            content_type = "application/x-amz-json-1.0"
        else:
            body = (
                "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>"
                "<Message>The security token is invalid.</Message></Error></ErrorResponse>"
            )
            content_type = "text/xml"
        self.send_response(403)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    tried: list[str]  # the refused modules it tried to import


class Crossdock:
    """`crossdock ARGS…` without the local runtime, with no AWS settings but the ones given."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.site = home / "site"
        self.site.mkdir()
        (self.site / "sitecustomize.py").write_text(SITECUSTOMIZE)
        self.log = home / "refused-imports.log"

    def __call__(self, *args: str, **aws: str) -> Run:
        self.log.write_text("")
        env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
        env.update(
            PYTHONPATH=os.pathsep.join([str(self.site), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
            REFUSED_IMPORTS_LOG=str(self.log),
            AWS_CONFIG_FILE=str(self.home / "no-config"),
            AWS_SHARED_CREDENTIALS_FILE=str(self.home / "no-credentials"),
            AWS_EC2_METADATA_DISABLED="true",
            **aws,
        )
        done = subprocess.run(
            [str(CROSSDOCK), *args], cwd=self.home, env=env, capture_output=True, text=True, timeout=120
        )
        return Run(done.returncode, done.stdout, done.stderr, self.log.read_text().split())


@pytest.fixture
def crossdock(tmp_path: Path) -> Crossdock:
    if not CROSSDOCK.exists():
        pytest.skip(f"{CROSSDOCK} is not installed (make install)")
    return Crossdock(tmp_path)


@pytest.fixture
def fake_aws() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RefuseEveryRequest)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _clean(run: Run) -> None:
    assert run.tried == [], f"tried to import {run.tried}: {run.stderr}"
    assert "Traceback" not in run.stderr
    assert "ImportError" not in run.stderr and "ModuleNotFoundError" not in run.stderr


def test_the_operator_cli_runs_without_the_local_runtime(crossdock: Crossdock, fake_aws: str) -> None:
    top = crossdock("--help")
    _clean(top)
    assert top.code == 0
    for command in ("demo", "serve", "connections", "events", "dlq", "orders", "status", "chaos"):
        assert command in top.stdout

    status_help = crossdock("status", "--help")
    _clean(status_help)
    assert status_help.code == 0
    assert "--stack" in status_help.stdout and "--local" in status_help.stdout

    # A deployed stack: CloudFormation refuses the keys; the command says so and exits 1.
    deployed = crossdock(
        *("status", "--stack", "crossdock-prod", "--region", "eu-west-1"),
        AWS_ACCESS_KEY_ID="AKIAOPERATOR",
        AWS_SECRET_ACCESS_KEY="operator-secret",
        AWS_ENDPOINT_URL=fake_aws,
    )
    _clean(deployed)
    assert deployed.code == 1
    assert deployed.stderr == (
        "crossdock: An error occurred (InvalidClientTokenId) when calling the ListStackResources operation: "
        "The security token is invalid.\n"
    )

    # The user commands (issue 17) too: the deployed stack's user pool is found through CloudFormation first.
    users = crossdock(
        *("users", "list", "--stack", "crossdock-prod", "--region", "eu-west-1"),
        AWS_ACCESS_KEY_ID="AKIAOPERATOR",
        AWS_SECRET_ACCESS_KEY="operator-secret",
        AWS_ENDPOINT_URL=fake_aws,
    )
    _clean(users)
    assert (users.code, users.stderr) == (1, deployed.stderr)

    # No credentials at all: the credential chain's own words, before any request.
    anonymous = crossdock("events", "list", "--stack", "crossdock-prod", "--region", "eu-west-1")
    _clean(anonymous)
    assert (anonymous.code, anonymous.stderr) == (1, "crossdock: Unable to locate credentials\n")

    # `--local` reaches `crossdock serve` over HTTP, so the operator's process needs no local runtime either.
    state = crossdock.home / "state.json"
    resources = {logical_id: f"crossdock-{logical_id}" for logical_id in required_logical_ids()}
    state.write_text(json.dumps({"aws": {"endpoint_url": fake_aws, "region": "eu-west-1", "resources": resources}}))
    local = crossdock("dlq", "show", "--local", str(state))
    _clean(local)
    assert local.code == 1
    assert local.stderr.startswith("crossdock: An error occurred (UnrecognizedClientException)")

    # Usage errors stay usage errors.
    no_target = crossdock("status")
    _clean(no_target)
    assert no_target.code == 2


def test_the_local_runtime_commands_do_need_it(crossdock: Crossdock) -> None:
    """The refusal is real: `demo` and `chaos` import moto, and say what to install when it is missing."""
    for command in ("demo", "chaos"):
        run = crossdock(command, "--orders", "1")
        assert run.tried[:1] == ["moto"]
        assert (run.code, run.stderr) == (
            1,
            f"crossdock: `crossdock {command}` runs the local runtime, which needs moto (not installed): "
            "pip install 'crossdock[local]'\n",
        )
