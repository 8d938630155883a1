"""SQS event source mappings: the poller Lambda runs for a function's `SQS` events.

moto's own SQS-to-Lambda wiring invokes synchronously on send and knows no partial batch responses, so the
embedded runtime polls instead, with Lambda's rules: the batch is one invocation; with ReportBatchItemFailures
only the listed records stay on the queue, otherwise a failed invocation leaves the whole batch. Records left on
the queue come back after their visibility timeout, and moto's ReceiveMessage moves a message to the DLQ when a
receive finds it at the queue's maxReceiveCount, like SQS.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from crossdock_local.aws.lambda_runtime import FunctionSpec, InProcessLambda, InvokeResult

_RECEIVE_LIMIT = 10  # ReceiveMessage returns at most 10 messages per call


@dataclass(frozen=True)
class SqsMapping:
    function: FunctionSpec
    queue_arn: str
    queue_url: str
    batch_size: int
    report_batch_item_failures: bool


class SqsPoller:
    def __init__(self, lambdas: InProcessLambda, sqs_client: Any, region: str) -> None:
        self._lambdas = lambdas
        self._sqs = sqs_client
        self._region = region
        self.mappings: list[SqsMapping] = []
        self.disabled: set[str] = set()  # function logical ids whose mappings are switched off

    def active_mappings(self) -> list[SqsMapping]:
        return [m for m in self.mappings if m.function.logical_id not in self.disabled]

    def poll(self) -> int:
        """One polling round over every enabled mapping; returns how many records were delivered."""
        return sum(self._poll_mapping(mapping) for mapping in self.active_mappings())

    def _poll_mapping(self, mapping: SqsMapping) -> int:
        messages = self._receive(mapping)
        if not messages:
            return 0
        event = {"Records": [self._record(mapping, message) for message in messages]}
        result = self._lambdas.invoke(mapping.function, event, source="sqs")
        succeeded = self._succeeded_ids(mapping, messages, result)
        self._delete(mapping, [message for message in messages if message["MessageId"] in succeeded])
        return len(messages)

    def _receive(self, mapping: SqsMapping) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while len(messages) < mapping.batch_size:
            received = self._sqs.receive_message(
                QueueUrl=mapping.queue_url,
                MaxNumberOfMessages=min(_RECEIVE_LIMIT, mapping.batch_size - len(messages)),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not received:
                break
            messages.extend(received)
        return messages

    @staticmethod
    def _succeeded_ids(mapping: SqsMapping, messages: list[dict[str, Any]], result: InvokeResult) -> set[str]:
        """Message ids to delete, following Lambda's rules for (partial) batch responses."""
        batch_ids = {message["MessageId"] for message in messages}
        if result.error is not None:
            return set()
        response = result.payload
        if not mapping.report_batch_item_failures or response is None:
            return batch_ids
        if not isinstance(response, dict):
            return set()  # an invalid response fails the whole batch
        failures = response.get("batchItemFailures") or []
        if not isinstance(failures, list):
            return set()
        failed_ids: set[str] = set()
        for failure in failures:
            identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if not isinstance(identifier, str) or identifier not in batch_ids:
                return set()  # an empty, null or unknown itemIdentifier fails the whole batch
            failed_ids.add(identifier)
        return batch_ids - failed_ids

    def _delete(self, mapping: SqsMapping, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), _RECEIVE_LIMIT):
            chunk = messages[start : start + _RECEIVE_LIMIT]
            entries = [{"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(chunk)]
            self._sqs.delete_message_batch(QueueUrl=mapping.queue_url, Entries=entries)

    def _record(self, mapping: SqsMapping, message: dict[str, Any]) -> dict[str, Any]:
        record = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {
                name: _lambda_message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": mapping.queue_arn,
            "awsRegion": self._region,
        }
        if "MD5OfMessageAttributes" in message:
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        return record


def _lambda_message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """SQS API's message attribute shape in Lambda's lower-camel event shape (binary values base64-encoded)."""
    attribute: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return attribute
