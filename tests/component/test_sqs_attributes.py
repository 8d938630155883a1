"""The embedded stack reads a queue's attributes one at a time (`aws_sqs_attributes`); every attribute must be what
moto's own attribute dict holds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.sqs.models import Queue, sqs_backends

from crossdock_local.aws.embedded import EmbeddedAws
from crossdock_local.aws.sqs_attributes import QueueAttributes

APP = Path(__file__).parent / "embedded_app" / "template.yaml"
MOTOS_OWN = vars(Queue)["attributes"]  # the property as moto defines it, whatever is patched over it later


@pytest.fixture
def aws() -> Iterator[EmbeddedAws]:
    with EmbeddedAws(template=APP) as embedded:
        yield embedded


def test_queue_attributes_are_motos_and_counts_follow_the_messages(aws: EmbeddedAws) -> None:
    # GIVEN queues of every kind: standard, FIFO with content deduplication, with a dead-letter queue, KMS-encrypted
    sqs = boto3.client("sqs")
    dlq = sqs.create_queue(QueueName="t-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    urls = [
        dlq,
        sqs.create_queue(QueueName="t.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})[
            "QueueUrl"
        ],
        sqs.create_queue(
            QueueName="t-redriven",
            Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})},
        )["QueueUrl"],
        sqs.create_queue(QueueName="t-kms", Attributes={"KmsMasterKeyId": "alias/aws/sqs", "DelaySeconds": "5"})[
            "QueueUrl"
        ],
    ]
    # WHEN messages are sent (some delayed), one is received and so hidden, and the same content is sent twice
    for url in urls:
        group = {"MessageGroupId": "g"} if url.endswith(".fifo") else {}
        for n in range(4):
            sqs.send_message(QueueUrl=url, MessageBody=f"m{n % 3}", **group)
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)
    # THEN each queue's attributes are moto's own, as a whole and one by one, and the counts are the messages'
    backend = sqs_backends[aws.account_id][aws.region]
    for url in urls:
        queue = backend.get_queue(url.rsplit("/", 1)[-1])
        assert isinstance(queue.attributes, QueueAttributes)
        own = MOTOS_OWN.fget(queue)
        assert dict(queue.attributes) == own
        assert {name: queue.attributes.get(name) for name in own} == own
    for url in urls[:3]:
        answered = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert answered["ApproximateNumberOfMessagesNotVisible"] == "1"
    fifo = sqs.get_queue_attributes(QueueUrl=urls[1], AttributeNames=["All"])["Attributes"]
    assert fifo["ApproximateNumberOfMessages"] == "2"  # four sends, three distinct bodies, one of them received
    assert "RedrivePolicy" in sqs.get_queue_attributes(QueueUrl=urls[2], AttributeNames=["All"])["Attributes"]
    kms = sqs.get_queue_attributes(QueueUrl=urls[3], AttributeNames=["All"])["Attributes"]
    # nothing of the delayed queue could be received yet
    assert kms["ApproximateNumberOfMessagesDelayed"] == "4" and kms["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert kms["KmsMasterKeyId"] == "alias/aws/sqs"
