"""Counting AWS API calls by service and operation, to price the cost of the work the stack does.

Calls are told apart by who makes them: application code (handlers, tests, the demo); the embedded runtime acting
as AWS itself (the SQS poller of event source mappings, whose requests AWS bills as SQS requests too); the embedded
runtime's own bookkeeping (provisioning, reading execution histories), which is not counted; and moto internals
(Step Functions invoking Lambda), which are not API calls anyone makes and show up as Lambda invocations instead.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from botocore.client import BaseClient

_SDK_PACKAGES = ("botocore", "boto3")


class ApiCallCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._roles: dict[int, str | None] = {}  # id(client) -> bucket name, None = not counted
        self._original: Any = None
        self.app: dict[str, dict[str, int]] = {}
        self.runtime: dict[str, dict[str, int]] = {}

    def install(self) -> None:
        client_class: Any = BaseClient  # _make_api_call is private to botocore, hence untyped
        original = client_class._make_api_call
        counter = self

        def counting_make_api_call(client: BaseClient, operation_name: str, api_params: Any) -> Any:
            counter._count(client, operation_name)
            return original(client, operation_name, api_params)

        self._original = original
        client_class._make_api_call = counting_make_api_call

    def uninstall(self) -> None:
        if self._original is not None:
            client_class: Any = BaseClient
            client_class._make_api_call = self._original
            self._original = None

    def assign(self, client: BaseClient, role: str | None) -> BaseClient:
        """Count the client's calls as "runtime" ones, or not at all (None); the client must outlive the counter."""
        self._roles[id(client)] = role
        return client

    def _count(self, client: BaseClient, operation: str) -> None:
        role = self._roles.get(id(client), "app")
        if role is None or (role == "app" and _called_from_moto()):
            return
        bucket = self.runtime if role == "runtime" else self.app
        service = client.meta.service_model.service_name
        with self._lock:
            operations = bucket.setdefault(service, {})
            operations[operation] = operations.get(operation, 0) + 1


def _called_from_moto() -> bool:
    """Whether the first caller outside boto3/botocore (and this module) is moto."""
    frame = sys._getframe(2)
    while frame is not None:
        module: str = frame.f_globals.get("__name__", "")
        if not (module.startswith(_SDK_PACKAGES) or module == __name__):
            return module.startswith("moto.")
        frame = frame.f_back  # type: ignore[assignment]
    return False
