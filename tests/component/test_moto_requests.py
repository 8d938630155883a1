"""The embedded stack writes the WSGI environ of each request moto handles itself (`aws/moto_requests.py`); the
environ and the request moto reads from it must be the ones Werkzeug's `EnvironBuilder` gives, and moto's answers
through the API the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
from moto.core.request import Request

from crossdock_local.aws.embedded import EmbeddedAws
from crossdock_local.aws.moto_requests import building_environs_directly, wsgi_environ

APP = Path(__file__).parent / "embedded_app" / "template.yaml"
MOTOS_OWN = Request.from_primitives  # read at import, before any stack patches it
PATCHED = building_environs_directly(MOTOS_OWN)

REQUESTS = [
    # (method, url, headers, body): what botocore sends, bytes header values and all
    (
        "POST",
        "https://dynamodb.eu-west-1.amazonaws.com/",
        {
            "X-Amz-Target": b"DynamoDB_20120810.UpdateItem",
            "Content-Type": b"application/x-amz-json-1.0",
            "User-Agent": b"Boto3/1.40 md/Botocore#1.43",
            "X-Amz-Date": b"20261207T061500Z",
            "Authorization": b"AWS4-HMAC-SHA256 Credential=ASIA/20261207/eu-west-1/dynamodb/aws4_request, x",
            "Content-Length": "57",
        },
        b'{"TableName": "t", "Key": {"pk": {"S": "a"}, "sk": {"S": "-"}}}',
    ),
    (
        "POST",
        "https://sqs.eu-west-1.amazonaws.com/",
        {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.SendMessage"},
        '{"QueueUrl": "https://sqs.eu-west-1.amazonaws.com/123456789012/q", "MessageBody": "caf\u00e9"}',
    ),
    ("GET", "https://s3.eu-west-1.amazonaws.com/bucket/key%2Fwith%20space?list-type=2&prefix=a%2Fb", {}, None),
    (
        "PUT",
        "https://bucket.s3.eu-west-1.amazonaws.com/folder/obj.json",
        {"x-amz-meta-my_key": "v", "Content-MD5": "abc", "Transfer-Encoding": "chunked", "Expect": "100-continue"},
        b"{}",
    ),
    ("POST", "https://sts.amazonaws.com:8443/", {"Content-Type": "application/x-www-form-urlencoded"}, b""),
    ("POST", "http://localhost:5000/path/", {"Content-Type": "application/x-www-form-urlencoded"}, None),
    ("DELETE", "https://states.eu-west-1.amazonaws.com/", {"Content-Length": "0", "Host": "elsewhere"}, b""),
    ("GET", "https://logs.eu-west-1.amazonaws.com/", {"Accept": "a", "accept": "b", "Content-Length": "x"}, b""),
]


def _comparable(request: Request) -> list[tuple[str, Any]]:
    """The request's environ in order, its input stream as the bytes it holds and the request it names as "self"."""
    kept = {"wsgi.input": lambda stream: stream.getvalue(), "werkzeug.request": lambda named: named is request}
    return [(key, kept[key](value) if key in kept else value) for key, value in request.environ.items()]


@pytest.mark.parametrize("request_parts", REQUESTS, ids=lambda parts: f"{parts[0]} {parts[1][:40]}")
def test_the_request_is_the_one_werkzeugs_builder_makes(request_parts: tuple[str, str, Any, Any]) -> None:
    """GIVEN a request as botocore hands it to moto, WHEN it becomes moto's request, THEN the environ holds the same
    keys in the same order with the same values as the one `EnvironBuilder` builds, and the request reads the same
    method, URL, path, query, headers and body from it."""
    method, url, headers, body = request_parts
    ours, motos = PATCHED(Request, method, url, headers, body), MOTOS_OWN(method, url, headers, body)
    assert _comparable(ours) == _comparable(motos)
    for attribute in ("method", "url", "path", "full_path", "query_string", "args", "host", "scheme"):
        assert getattr(ours, attribute) == getattr(motos, attribute), attribute
    assert list(ours.headers) == list(motos.headers)
    assert ours.get_data() == motos.get_data()


def test_a_body_moto_must_read_itself_goes_to_moto() -> None:
    """GIVEN a body that is a stream, or a multipart request without one, THEN no environ is written here."""
    assert wsgi_environ("PUT", "https://s3.amazonaws.com/b/k", {}, iter([b"x"])) is None
    assert wsgi_environ("POST", "https://s3.amazonaws.com/b", {"Content-Type": "multipart/form-data; b=1"}, b"") is None


def _calls(aws: EmbeddedAws) -> list[Any]:
    table = boto3.resource("dynamodb", region_name=aws.region).Table(aws.table_name("Table"))
    sqs = boto3.client("sqs", region_name=aws.region)
    s3 = boto3.client("s3", region_name=aws.region)
    queue = aws.queue_url("DeadLetterQueue")
    table.put_item(Item={"pk": "REQ#1", "sk": "-", "text": "caf\u00e9"})
    sqs.send_message(QueueUrl=queue, MessageBody="m\u00e9ssage")
    message = sqs.receive_message(QueueUrl=queue)["Messages"][0]
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    s3.create_bucket(Bucket="requests-test", CreateBucketConfiguration={"LocationConstraint": aws.region})
    s3.put_object(Bucket="requests-test", Key="a b/c.json", Body=b'{"x": 1}', Metadata={"my_key": "v"})
    got = s3.get_object(Bucket="requests-test", Key="a b/c.json")
    listed = s3.list_objects_v2(Bucket="requests-test", Prefix="a b/")
    answers = [
        table.get_item(Key={"pk": "REQ#1", "sk": "-"})["Item"],
        message["Body"],
        got["Body"].read(),
        got["Metadata"],
        [item["Key"] for item in listed["Contents"]],
    ]
    table.delete_item(Key={"pk": "REQ#1", "sk": "-"})
    s3.delete_object(Bucket="requests-test", Key="a b/c.json")
    s3.delete_bucket(Bucket="requests-test")
    return answers


def test_the_api_answers_as_it_does_with_werkzeugs_builder() -> None:
    """GIVEN the embedded stack, WHEN DynamoDB, SQS and S3 calls are made with the environ written here and with
    moto's own, THEN the answers are the same."""
    with EmbeddedAws(template=APP) as aws:
        assert Request.from_primitives != MOTOS_OWN  # the patch is in place
        ours = _calls(aws)
        with mock.patch.object(Request, "from_primitives", MOTOS_OWN):
            motos = _calls(aws)
    assert ours == motos
