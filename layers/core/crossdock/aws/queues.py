"""Sending many messages to a standard SQS queue: `SendMessageBatch`, ten to a request, all or an error.

A caller that must know its work is durably queued before it moves on (a poll advancing its cursor) gets either
every message accepted or a `RetryableError`; messages of a failed batch may be partly queued, so they must be safe
to receive twice (the inbound queue's are: dispatch dedupes on the workflow name).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from crossdock.errors import RetryableError

_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})
BATCH_ENTRIES = 10  # SendMessageBatch's limit
BATCH_BYTES = 200_000  # under the 256 KiB a batch may carry in total, leaving room for the request's own fields


@cache
def client() -> Any:
    return boto3.client("sqs", config=_CONFIG)


def batches(bodies: list[str]) -> list[list[str]]:
    """Groups bodies into requests of at most 10 entries and `BATCH_BYTES` (a body larger than that goes alone)."""
    grouped: list[list[str]] = []
    size = 0
    for body in bodies:
        length = len(body.encode())
        if not grouped or len(grouped[-1]) == BATCH_ENTRIES or size + length > BATCH_BYTES:
            grouped.append([])
            size = 0
        grouped[-1].append(body)
        size += length
    return grouped


def send_all(sqs: Any, queue_url: str, messages: list[dict[str, Any]]) -> int:
    """Queues every message; returns how many. Raises `RetryableError` (naming how many failed, never their
    content) when SQS refuses any of them or cannot be reached."""
    sent = 0
    for group in batches([json.dumps(message, separators=(",", ":")) for message in messages]):
        entries = [{"Id": str(index), "MessageBody": body} for index, body in enumerate(group)]
        try:
            answer = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        except (ClientError, BotoCoreError) as failed:
            code = failed.response.get("Error", {}).get("Code") if isinstance(failed, ClientError) else None
            raise RetryableError(
                f"SQS did not accept {len(group)} message(s) ({code or type(failed).__name__})"
            ) from None
        refused = answer.get("Failed") or []
        if refused:
            codes = sorted({str(entry.get("Code")) for entry in refused})
            raise RetryableError(f"SQS refused {len(refused)} of {len(group)} message(s) ({', '.join(codes)})")
        sent += len(group)
    return sent
