"""The embedded stack finds a queue's messages without walking its backlog (`aws/sqs_messages.py`): receiving,
deleting (by a current or an earlier receipt handle, twice, or by a handle it never issued) and the redrive to the
dead-letter queue must answer as moto does without it."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import moto
import moto.sqs.models as moto_sqs_models
from moto.sqs.models import Queue, sqs_backends

from crossdock_local.aws.embedded import EmbeddedAws
from crossdock_local.aws.sqs_messages import VisibleMessages

APP = Path(__file__).parent / "embedded_app" / "template.yaml"
MOTOS_OWN_MESSAGES = vars(Queue)["messages"]  # the property as moto defines it, whatever is patched over it later


def _answer(call: Any, **params: Any) -> Any:
    try:
        answer = call(**params)
    except Exception as refused:  # noqa: BLE001 - the refusal is the answer compared
        return ("refused", type(refused).__name__, str(refused))
    answer.pop("ResponseMetadata", None)
    return answer


def _run(clock: Any) -> list[Any]:
    """A scripted run over a standard queue with a DLQ and a FIFO queue; returns every answer, receipt handles and
    message ids replaced by their order of appearance, so two runs compare."""
    sqs: Any = boto3.client("sqs", region_name="eu-west-1")
    dlq = sqs.create_queue(QueueName="m-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    queue = sqs.create_queue(QueueName="m", Attributes={"RedrivePolicy": redrive, "VisibilityTimeout": "10"})[
        "QueueUrl"
    ]
    fifo = sqs.create_queue(QueueName="m.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})[
        "QueueUrl"
    ]
    answers: list[Any] = []
    for n in range(25):
        sqs.send_message(QueueUrl=queue, MessageBody=f"m{n}", **({"DelaySeconds": 30} if n % 7 == 3 else {}))
        sqs.send_message(QueueUrl=fifo, MessageBody=f"f{n % 20}", MessageGroupId=f"g{n % 3}")

    def receive(url: str, count: int) -> list[dict[str, Any]]:
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=count, AttributeNames=["All"])
        messages: list[dict[str, Any]] = answer.get("Messages", [])
        answers.append([(m["Body"], m["Attributes"]["ApproximateReceiveCount"]) for m in messages])
        return messages

    first = receive(queue, 10)
    answers.append(_answer(sqs.delete_message, QueueUrl=queue, ReceiptHandle=first[0]["ReceiptHandle"]))
    answers.append(_answer(sqs.delete_message, QueueUrl=queue, ReceiptHandle=first[0]["ReceiptHandle"]))  # twice
    answers.append(_answer(sqs.delete_message, QueueUrl=queue, ReceiptHandle="never-issued"))
    answers.append(_answer(sqs.delete_message, QueueUrl=fifo, ReceiptHandle=first[1]["ReceiptHandle"]))  # not its
    batch = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(first[1:5])]
    batch.append({"Id": "bad", "ReceiptHandle": "never-issued"})
    answers.append(_answer(sqs.delete_message_batch, QueueUrl=queue, Entries=batch))
    clock(11)  # the rest of the first receive shows again
    again = receive(queue, 10)
    stale = first[5]["ReceiptHandle"]  # an earlier handle of a message received again: SQS still takes it
    answers.append(_answer(sqs.delete_message, QueueUrl=queue, ReceiptHandle=stale))
    clock(11)
    receive(queue, 10)  # those received twice now go to the dead-letter queue
    answers.append(_answer(sqs.delete_message, QueueUrl=queue, ReceiptHandle=again[-1]["ReceiptHandle"]))
    moved = receive(dlq, 10)
    answers.append(_answer(sqs.delete_message, QueueUrl=dlq, ReceiptHandle=moved[0]["ReceiptHandle"]))
    clock(31)
    for _ in range(4):
        for message in receive(fifo, 3):
            answers.append(_answer(sqs.delete_message, QueueUrl=fifo, ReceiptHandle=message["ReceiptHandle"]))
    for url in (queue, dlq, fifo):
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        answers.append(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"])
    while receive(queue, 10):
        pass
    return answers


def test_receives_and_deletes_answer_as_motos_own() -> None:
    # GIVEN what moto itself answers to the run, its clock moved by a patch of its own time
    offset = [0.0]
    with (
        moto.mock_aws(),
        mock.patch.object(moto_sqs_models, "unix_time_millis", lambda dt=None: (time.time() + offset[0]) * 1000),
        mock.patch.object(moto_sqs_models, "unix_time", lambda dt=None: time.time() + offset[0]),
    ):
        motos_own = _run(lambda seconds: offset.__setitem__(0, offset[0] + seconds))
    # WHEN the embedded stack answers the same run on its virtual clock
    with EmbeddedAws(template=APP) as aws:
        embedded = _run(aws.clock.advance)
        backend = sqs_backends[aws.account_id][aws.region]
        queue = backend.get_queue("m")
        # THEN the visible messages are those moto lists
        assert isinstance(queue.messages, VisibleMessages)
        assert list(queue.messages) == MOTOS_OWN_MESSAGES.fget(queue)
    # AND every answer is moto's own
    assert embedded == motos_own
    refusals = [answer for answer in embedded if isinstance(answer, tuple)]
    assert [name for _, name, _ in refusals] == ["ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid"]
    deleted_in_batch = next(answer for answer in embedded if isinstance(answer, dict) and "Successful" in answer)
    assert len(deleted_in_batch["Successful"]) == 4 and deleted_in_batch["Failed"][0]["Id"] == "bad"
