"""The embedded stack's AWS APIs over HTTP, so another process (the operator CLI, the AWS CLI) can use them with an
`endpoint_url` and dummy credentials.

This is moto's own server app, run in the stack's process: moto keeps its state in module-level backends that
its HTTP server and `mock_aws` share (moto's docs, "server mode": the threaded server and the decorators act on
the same state), so a request over HTTP sees, and changes, the very tables and queues the embedded functions use.
Built like moto's `ThreadedMotoServer`, but bound in the caller's thread, so a port that is taken fails at once
instead of leaving `start` waiting for a server thread that died.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from crossdock_local.aws.embedded import EmbeddedAws


class AwsEndpoint:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        """Serves in a background thread; returns the endpoint URL (port 0 picks a free port)."""
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(self._host, self._port, app, threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="crossdock-aws-endpoint", daemon=True)
        self._thread.start()
        return f"http://{self._host}:{self._server.server_port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> AwsEndpoint:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def endpoint_state(aws: EmbeddedAws, endpoint_url: str) -> dict[str, Any]:
    """What `crossdock <command> --local` needs to reach this stack: the endpoint and the physical name of every
    resource by its logical id in template.yaml, as CloudFormation would resolve them for a deployed stack."""
    return {
        "endpoint_url": endpoint_url,
        "region": aws.region,
        "stack": aws.stack_name,
        "resources": {logical_id: physical.ref for logical_id, physical in sorted(aws.resources.items())},
    }
