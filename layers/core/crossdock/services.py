"""The AWS clients a function needs, created once per Lambda container (cold start) and reused.

A function hands its environment over once (`configure`, at import); nothing here reads `os.environ`.
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from crossdock.environment import FunctionEnvironment, MisconfiguredFunction
from crossdock.errors import ExecutionAlreadyExists
from crossdock.store.claim_checks import PayloadBucket
from crossdock.store.secrets import SecretStore

if TYPE_CHECKING:
    from crossdock.integrations.clients import ConnectionClients

# Fail fast inside a webhook's 5-second budget rather than hang on a slow AWS endpoint.
_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})


_environment: FunctionEnvironment | None = None


def configure(environment: FunctionEnvironment) -> None:
    """The function's environment, as its module read it; the clients below are made from it."""
    global _environment
    if _environment is not None and (_environment.table_name, _environment.key_id) != (
        environment.table_name,
        environment.key_id,
    ):
        table.cache_clear()
        secrets.cache_clear()
    _environment = environment


def forget() -> None:
    """Drops every client made so far: a new stack in the same process (the embedded runtime, tests) is a new account
    with new resources, as a new container in AWS starts without any."""
    for cached in (table, secrets, _clients, _sqs, _sfn, _s3):
        cached.cache_clear()


def _configured() -> FunctionEnvironment:
    if _environment is None:
        raise MisconfiguredFunction("services.configure() was not called: a function reads its environment first")
    return _environment


@cache
def table() -> Any:
    return boto3.resource("dynamodb", config=_CONFIG).Table(_configured().table_name)


@cache
def secrets() -> SecretStore:
    return SecretStore(table(), boto3.client("kms", config=_CONFIG), _configured().key_id)


def clients(environment: FunctionEnvironment) -> ConnectionClients:
    """The connections' API clients of one function, one set per container (their HTTP pools and pacers are
    reused), with that function's Rackbeat call budget."""
    return _clients(
        environment.rackbeat_calls_per_minute,
        environment.rackbeat_account_calls_per_minute,
        environment.rackbeat_timeout_seconds,
    )


@cache
def _clients(
    calls_per_minute: float | None, account_calls_per_minute: float | None, timeout: float | None
) -> ConnectionClients:
    # Imported here: ingest shares this module and never calls out, so its cold start stays free of httpx.
    from crossdock.integrations.clients import ConnectionClients

    return ConnectionClients(
        secrets(),
        table(),
        rackbeat_calls_per_minute=calls_per_minute,
        rackbeat_account_calls_per_minute=account_calls_per_minute,
        rackbeat_timeout_seconds=timeout,
    )


@cache
def _sqs() -> Any:
    return boto3.client("sqs", config=_CONFIG)


@cache
def _sfn() -> Any:
    return boto3.client("stepfunctions", config=_CONFIG)


@cache
def _s3() -> Any:
    return boto3.client("s3", config=_CONFIG)


def payload_bucket(bucket: str) -> PayloadBucket:
    """The claim checks' bucket. Its client is made on first use: only a body too large for the queue needs it."""
    return PayloadBucket(_s3(), bucket)


def send_to_queue(queue_url: str, message: dict[str, Any]) -> None:
    _sqs().send_message(QueueUrl=queue_url, MessageBody=json.dumps(message, separators=(",", ":")))


def send_all_to_queue(queue_url: str, messages: list[dict[str, Any]]) -> None:
    """Every message queued, ten to a `SendMessageBatch` (a fanned-out webhook's), or a `RetryableError`."""
    from crossdock.aws import queues  # imported on first use: most webhooks are one message

    queues.send_all(_sqs(), queue_url, messages)


def start_execution(state_machine_arn: str, name: str, workflow_input: dict[str, Any]) -> str:
    """Starts a named execution; raises the dispatch flow's ExecutionAlreadyExists for a name used before."""
    client = _sfn()
    try:
        answer = client.start_execution(
            stateMachineArn=state_machine_arn, name=name, input=json.dumps(workflow_input, separators=(",", ":"))
        )
    except client.exceptions.ExecutionAlreadyExists as taken:
        raise ExecutionAlreadyExists(name) from taken
    return str(answer["executionArn"])


def execution_status(execution_arn: str) -> str | None:
    """RUNNING, SUCCEEDED, FAILED, … of an execution, or None when it was never started."""
    client = _sfn()
    try:
        return str(client.describe_execution(executionArn=execution_arn)["status"])
    except client.exceptions.ExecutionDoesNotExist:
        return None


def change_visibility(queue_url: str, receipt_handle: str, seconds: int) -> None:
    """A received message shows again on its queue after `seconds` (a failed one: when the target allows)."""
    _sqs().change_message_visibility(QueueUrl=queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds)


def send_to_fifo(queue_url: str, message: dict[str, Any], group_id: str, deduplication_id: str) -> None:
    """FIFO send: one message group per shop keeps its pushes in order and one at a time (inside the shop's
    API budget); the deduplication id collapses repeated requests within SQS's 5-minute window."""
    _sqs().send_message(
        QueueUrl=queue_url,
        MessageBody=json.dumps(message, separators=(",", ":")),
        MessageGroupId=group_id,
        MessageDeduplicationId=deduplication_id,
    )
