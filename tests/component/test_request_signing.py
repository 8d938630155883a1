"""The embedded stack sends DynamoDB, SQS and Step Functions requests with SigV4's header but no computed signature
(`aws/request_signing.py`): moto must answer them as it answers requests botocore signed, attribute them to the
same caller, and every other request must still be signed by botocore."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
from botocore.signers import RequestSigner

from crossdock_local.aws.embedded import EmbeddedAws

APP = Path(__file__).parent / "embedded_app" / "template.yaml"
BOTOCORES_OWN = RequestSigner.sign  # read at import, before any stack patches it


@contextmanager
def botocore_signing() -> Iterator[None]:
    with mock.patch.object(RequestSigner, "sign", BOTOCORES_OWN):
        yield


def _headers_sent(session: boto3.Session, service: str) -> tuple[Any, list[dict[str, str]]]:
    client = session.client(service)
    sent: list[dict[str, str]] = []
    client.meta.events.register("before-send", lambda request, **_: sent.append(_text(request.headers)))
    return client, sent


def _text(headers: Any) -> dict[str, str]:
    """The headers as sent (botocore has made some of them bytes by then), as text."""
    return {name: value.decode() if isinstance(value, bytes) else value for name, value in headers.items()}


def _credential(header: str) -> str:
    """`<access key>/<date>/<region>/<service>/aws4_request` of an Authorization header."""
    return header.split("Credential=", 1)[1].split(",", 1)[0]


def _calls(aws: EmbeddedAws, session: boto3.Session, label: str) -> tuple[list[Any], list[dict[str, str]]]:
    """The same calls for either signer, each item and message marked with `label`; their answers without the
    parts that differ between any two requests (ids, dates, receipt handles)."""
    dynamodb, sent = _headers_sent(session, "dynamodb")
    sqs, sent_sqs = _headers_sent(session, "sqs")
    sfn, sent_sfn = _headers_sent(session, "stepfunctions")
    table = aws.table_name("Table")
    queue = aws.queue_url("DeadLetterQueue")
    dynamodb.put_item(TableName=table, Item={"pk": {"S": f"SIG#{label}"}, "sk": {"S": "-"}, "n": {"N": "1"}})
    updated = dynamodb.update_item(
        TableName=table,
        Key={"pk": {"S": f"SIG#{label}"}, "sk": {"S": "-"}},
        UpdateExpression="ADD n :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="ALL_NEW",
    )["Attributes"]
    got = dynamodb.get_item(TableName=table, Key={"pk": {"S": f"SIG#{label}"}, "sk": {"S": "-"}})["Item"]
    sqs.send_message(QueueUrl=queue, MessageBody=f"body {label}")
    received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1)["Messages"]
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=received[0]["ReceiptHandle"])
    machines = sorted(machine["name"] for machine in sfn.list_state_machines()["stateMachines"])
    answers = [
        {key: value for key, value in updated.items() if key != "pk"},
        {key: value for key, value in got.items() if key != "pk"},
        received[0]["Body"].removesuffix(label),
        machines,
    ]
    return answers, sent + sent_sqs + sent_sfn


def test_moto_answers_unsigned_requests_as_it_answers_signed_ones() -> None:
    """GIVEN the embedded stack and a caller with a role's temporary credentials (as every function has), WHEN the
    same DynamoDB, SQS and Step Functions calls are made with the header unsigned and with botocore's signature,
    THEN moto's answers are the same, and the headers name the same access key, region and service and carry the
    same session token."""
    with EmbeddedAws(template=APP) as aws:
        sts = boto3.client("sts", region_name=aws.region)
        role = sts.assume_role(RoleArn=f"arn:aws:iam::{aws.account_id}:role/any", RoleSessionName="function")
        keys = role["Credentials"]
        session = boto3.Session(
            aws_access_key_id=keys["AccessKeyId"],
            aws_secret_access_key=keys["SecretAccessKey"],
            aws_session_token=keys["SessionToken"],
            region_name=aws.region,
        )
        unsigned, unsigned_headers = _calls(aws, session, "unsigned")
        with botocore_signing():
            signed, signed_headers = _calls(aws, session, "signed")
    assert unsigned == signed
    assert len(unsigned_headers) == len(signed_headers) == 7
    for ours, botocores in zip(unsigned_headers, signed_headers, strict=True):
        assert _credential(ours["Authorization"]) == _credential(botocores["Authorization"])
        assert _credential(ours["Authorization"]).startswith(keys["AccessKeyId"] + "/")
        assert ours["X-Amz-Security-Token"] == botocores["X-Amz-Security-Token"] == keys["SessionToken"]
        assert ours["Authorization"].endswith("Signature=" + "0" * 64)
        assert not botocores["Authorization"].endswith("Signature=" + "0" * 64)


def test_every_other_service_is_still_signed_by_botocore() -> None:
    """GIVEN the embedded stack, WHEN S3 and STS are called, THEN their requests carry botocore's signature, not
    the header without one."""
    with EmbeddedAws(template=APP) as aws:
        session = boto3.Session(region_name=aws.region)
        s3, sent = _headers_sent(session, "s3")
        sts, sent_sts = _headers_sent(session, "sts")
        s3.list_buckets()
        sts.get_caller_identity()
    headers = sent + sent_sts
    assert len(headers) == 2
    assert all("Signature=" in header["Authorization"] for header in headers)
    assert not any(header["Authorization"].endswith("0" * 64) for header in headers)
