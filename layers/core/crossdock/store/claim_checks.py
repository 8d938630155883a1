"""Claim checks: a webhook body too large for an SQS message waits in the payload bucket (template.yaml,
`PayloadBucket`), and the queued message carries its key instead (docs/decisions.md, the claim-check pattern).

SQS takes at most 256 KiB a message, and a body grows inside the message: it is JSON-escaped there, so every
non-ASCII character of a Danish order (`ø`, two bytes) becomes `\\u00f8` (six). A 610 KB order cannot be queued
and would be answered 5xx on every one of Shopify's retries. Only such bodies come here: the normal webhook is
queued as before, with no S3 request (it is the hot path, and a request costs money).

Keys live under `inbound/<connection id>/`, one random name per body (never the sender's ids, which a signed body
still chooses): the functions' policies allow exactly that prefix, ingest to put and dispatch to get.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

PREFIX = "inbound/"

# What SQS accepts in one message (its MaximumMessageSize default and limit for these queues).
SQS_MESSAGE_LIMIT = 256 * 1024


@dataclass(frozen=True)
class PayloadBucket:
    s3: Any  # a boto3 S3 client
    bucket: str

    def put(self, connection_id: str, body: str) -> str:
        """Stores the body; returns its key (the claim check). Raises on failure: the sender gets a 5xx and
        retries, and nothing was queued."""
        key = f"{PREFIX}{connection_id}/{uuid.uuid4()}.json"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body.encode("utf-8"), ContentType="application/json")
        return key

    def get(self, key: str) -> str | None:
        """The body under `key`, or None when there is none (expired by the bucket's lifecycle rule, or a key that
        is not a claim check). Other failures raise, and the message is retried."""
        if not key.startswith(PREFIX):
            return None
        try:
            answer = self.s3.get_object(Bucket=self.bucket, Key=key)
        except self.s3.exceptions.NoSuchKey:
            return None
        body: bytes = answer["Body"].read()
        return body.decode("utf-8")
