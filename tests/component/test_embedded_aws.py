"""The embedded AWS runtime runs a SAM app in-process on moto the way AWS would."""

from __future__ import annotations

import base64
import itertools
import json
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from crossdock_local.aws.embedded import EmbeddedAws

APP = Path(__file__).parent / "embedded_app" / "template.yaml"
REAL_TEMPLATE = Path(__file__).parents[2] / "template.yaml"


@pytest.fixture
def aws() -> Iterator[EmbeddedAws]:
    with EmbeddedAws(template=APP) as embedded:
        yield embedded


def _deliveries(aws: EmbeddedAws, body: str) -> list[dict[str, Any]]:
    """The worker's record of each delivery of the message with this body, in receive order."""
    table = boto3.resource("dynamodb").Table(aws.table_name("Table"))
    items = table.query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": f"msg#{body}"})["Items"]
    return sorted(items, key=lambda item: int(str(item["sk"]).split("#")[1]))


# -- API Gateway -------------------------------------------------------------------------------------------------


def test_api_route_passes_the_proxy_event_and_maps_the_result_back(aws: EmbeddedAws) -> None:
    response = aws.api_request(
        "POST", "/items/42", {"Content-Type": "application/json"}, b'{"raw": true}', query={"tag": ["a", "b"]}
    )

    assert response.status == 201
    assert response.headers["Content-Type"] == "application/json"
    echo = response.json()
    event = echo["event"]
    assert event["resource"] == "/items/{item_id}"
    assert event["path"] == "/items/42"
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"item_id": "42"}
    assert event["body"] == '{"raw": true}'
    assert event["isBase64Encoded"] is False
    assert event["queryStringParameters"] == {"tag": "b"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"]}
    assert event["multiValueHeaders"] == {"Content-Type": ["application/json"]}
    assert event["requestContext"]["stage"] == "test"
    assert event["requestContext"]["resourcePath"] == "/items/{item_id}"
    assert event["requestContext"]["identity"]["sourceIp"]
    assert echo["context"]["function_name"] == aws.function_name("EchoFunction")
    assert echo["context"]["memory_limit_in_mb"] == 128
    assert 0 < echo["context"]["remaining_ms"] <= 5000


def test_api_base64_request_body_arrives_encoded(aws: EmbeddedAws) -> None:
    raw = b"\x00\x01binary\xff"

    event = aws.api_request("POST", "/items/x", {}, raw, base64=True).json()["event"]

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == raw


def test_api_base64_result_is_decoded_and_multi_value_headers_merged(aws: EmbeddedAws) -> None:
    response = aws.api_request("GET", "/binary", {}, b"")

    assert response.status == 200
    assert response.body == b"\x00\xffraw"
    assert response.headers["X-Multi"] == "a, b"


def test_api_gateway_errors(aws: EmbeddedAws) -> None:
    crashed = aws.api_request("PUT", "/boom", {}, b"")
    unknown_path = aws.api_request("POST", "/nowhere", {}, b"")
    unknown_method = aws.api_request("DELETE", "/items/1", {}, b"")

    assert (crashed.status, crashed.json()) == (502, {"message": "Internal server error"})
    for response in (unknown_path, unknown_method):
        assert (response.status, response.json()) == (403, {"message": "Missing Authentication Token"})


def test_handler_sees_only_its_own_environment_from_import_on(aws: EmbeddedAws) -> None:
    echo = aws.api_request("POST", "/items/1", {}, b"{}").json()

    expected = {"ECHO_ONLY": "eu-west-1-test-123456789012", "WORKER_ONLY": None}
    assert echo["env_at_import"] == expected
    assert echo["env"] == {**expected, "TABLE_NAME": aws.table_name("Table"), "STAGE": "test"}
    assert "ECHO_ONLY" not in os.environ
    assert aws.function_env("WorkerFunction") == {
        "TABLE_NAME": aws.table_name("Table"),
        "STAGE": "test",
        "WORKER_ONLY": "worker:crossdock-WorkQueue",
        "CROSSDOCK_LOCAL_STACK": "true",  # the local runtime says so in every function's environment
    }


def test_first_invocation_is_the_cold_start(aws: EmbeddedAws) -> None:
    aws.api_request("POST", "/items/1", {}, b"{}")
    aws.api_request("POST", "/items/2", {}, b"{}")

    assert [invocation.cold_start for invocation in aws.invocations] == [True, False]
    assert aws.usage()["lambda"]["EchoFunction"]["cold_starts"] == 1


# -- SQS event source mapping ------------------------------------------------------------------------------------


def test_sqs_mapping_delivers_the_lambda_event_shape(aws: EmbeddedAws) -> None:
    sqs = boto3.client("sqs")
    sqs.send_message(
        QueueUrl=aws.queue_url("WorkQueue"),
        MessageBody="hello",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "greeting"}},
    )

    assert aws.pump() == 1

    (delivery,) = _deliveries(aws, "hello")
    record = json.loads(delivery["record"])
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == aws.queue_arn("WorkQueue")
    assert record["awsRegion"] == "eu-west-1"
    assert record["messageAttributes"] == {
        "kind": {"stringValue": "greeting", "stringListValues": [], "binaryListValues": [], "dataType": "String"}
    }
    assert {"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(
        record["attributes"]
    )
    assert record["md5OfBody"] == "5d41402abc4b2a76b9719d911017c592"
    assert (delivery["echo_only"], delivery["worker_only"]) == ("None", "worker:crossdock-WorkQueue")
    assert sqs.receive_message(QueueUrl=aws.queue_url("WorkQueue")).get("Messages") is None


def test_partial_batch_failure_redelivers_only_the_failed_record_after_the_visibility_timeout(
    aws: EmbeddedAws,
) -> None:
    sqs = boto3.client("sqs")
    for body in ("ok-1", "fail-once-1", "ok-2"):
        sqs.send_message(QueueUrl=aws.queue_url("WorkQueue"), MessageBody=body)

    assert aws.pump() == 3
    assert aws.pump() == 0  # the failed record is invisible for the queue's 30 s visibility timeout
    aws.clock.advance(29)
    assert aws.pump() == 0
    aws.clock.advance(2)
    assert aws.pump() == 1

    assert [item["sk"] for item in _deliveries(aws, "fail-once-1")] == ["receive#1", "receive#2"]
    assert [item["sk"] for item in _deliveries(aws, "ok-1")] == ["receive#1"]
    assert [item["sk"] for item in _deliveries(aws, "ok-2")] == ["receive#1"]
    assert aws.drain() == 0
    assert aws.usage()["runtime_calls"]["sqs"]["DeleteMessageBatch"] == 2


def test_record_that_keeps_failing_reaches_the_dlq_after_max_receive_count(aws: EmbeddedAws) -> None:
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=aws.queue_url("WorkQueue"), MessageBody="poison")
    started_virtual = aws.clock.time()

    assert aws.drain() == 3

    assert [item["sk"] for item in _deliveries(aws, "poison")] == ["receive#1", "receive#2", "receive#3"]
    dead = sqs.receive_message(QueueUrl=aws.queue_url("DeadLetterQueue"), AttributeNames=["All"])["Messages"]
    assert [message["Body"] for message in dead] == ["poison"]
    assert (
        sqs.get_queue_attributes(QueueUrl=aws.queue_url("WorkQueue"), AttributeNames=["All"])["Attributes"][
            "ApproximateNumberOfMessagesNotVisible"
        ]
        == "0"
    )
    # two visibility timeouts passed on the virtual clock (the gaps are the virtual clock's: nothing slept for them)
    assert aws.clock.time() - started_virtual >= 60


# -- Step Functions ----------------------------------------------------------------------------------------------


def test_state_machine_retries_with_backoff_on_the_virtual_clock_then_catches(aws: EmbeddedAws) -> None:
    sfn = boto3.client("stepfunctions")

    execution = sfn.start_execution(
        stateMachineArn=aws.state_machine_arn("FlowStateMachine"), input=json.dumps({"fail": "always"})
    )
    aws.wait_for_executions(timeout=10)

    result = sfn.describe_execution(executionArn=execution["executionArn"])
    assert result["status"] == "SUCCEEDED"
    output = json.loads(result["output"])
    assert output["label"] == "test-caught"  # the Catch target ran (with its substituted definition)
    assert output["error"]["Error"] == "RetryableError"
    attempts = [inv for inv in aws.invocations if inv.function == "FlakyFunction"]
    assert [attempt.error_type for attempt in attempts] == ["RetryableError"] * 4  # first try + MaxAttempts 3
    gaps = [later.started_at - earlier.started_at for earlier, later in itertools.pairwise(attempts)]
    assert [round(gap) for gap in gaps] == [3, 6, 12]  # IntervalSeconds 3, BackoffRate 2, on the virtual clock


def test_state_machine_task_success_and_usage(aws: EmbeddedAws) -> None:
    sfn = boto3.client("stepfunctions")
    arn = aws.state_machine_arn("FlowStateMachine")

    executions = [sfn.start_execution(stateMachineArn=arn, input=json.dumps({"n": n})) for n in range(20)]
    # Returns as soon as all 20 have finished; the bound only names a stuck runtime (a loaded CI machine needs
    # more than 30 real seconds for 20 executions through moto's interpreter).
    aws.wait_for_executions(timeout=180)

    outputs = [json.loads(sfn.describe_execution(executionArn=e["executionArn"])["output"]) for e in executions]
    assert outputs == [{"n": n, "done": True} for n in range(20)]
    usage = aws.usage()
    assert usage["states"]["FlowStateMachine"] == {"executions": 20, "by_status": {"SUCCEEDED": 20}, "transitions": 40}
    assert usage["lambda"]["FlakyFunction"]["invocations"] == 20
    assert usage["lambda"]["FlakyFunction"]["by_source"] == {"lambda": 20}
    assert usage["api_calls"]["stepfunctions"] == {"StartExecution": 20, "DescribeExecution": 20}
    assert "lambda" not in usage["api_calls"]  # Step Functions invoking Lambda is not the app's API call


def test_duplicate_execution_name_of_a_finished_execution_is_rejected(aws: EmbeddedAws) -> None:
    sfn = boto3.client("stepfunctions")
    arn = aws.state_machine_arn("FlowStateMachine")
    sfn.start_execution(stateMachineArn=arn, name="order-1", input="{}")
    aws.wait_for_executions()

    with pytest.raises(ClientError) as raised:
        sfn.start_execution(stateMachineArn=arn, name="order-1", input="{}")

    assert raised.value.response["Error"]["Code"] == "ExecutionAlreadyExists"


def test_a_choice_on_an_absent_field_takes_its_branch_without_logging_an_error(
    aws: EmbeddedAws, caplog: pytest.LogCaptureFixture
) -> None:
    """GIVEN a Choice that asks IsPresent (then NumericGreaterThan) of a field, as the order workflow's Route asks of
    wait_seconds; WHEN one execution carries the field and one does not; THEN each takes its branch, and moto's
    interpreter logs no error for the absent one (it used to print NoSuchJsonPathError on stderr each time)."""
    sfn = boto3.client("stepfunctions")
    probe = {"Variable": "$.wait_seconds"}
    definition = {
        "StartAt": "Route",
        "States": {
            "Route": {
                "Type": "Choice",
                "Choices": [
                    {
                        "And": [{**probe, "IsPresent": True}, {**probe, "NumericGreaterThan": 0}],
                        "Next": "Wait",
                    }
                ],
                "Default": "Straight",
            },
            "Wait": {"Type": "Pass", "Result": "waited", "ResultPath": "$.branch", "End": True},
            "Straight": {"Type": "Pass", "Result": "straight", "ResultPath": "$.branch", "End": True},
        },
    }
    arn = sfn.create_state_machine(
        name="choice-probe",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/choice-probe",
    )["stateMachineArn"]

    with caplog.at_level(logging.DEBUG, logger="moto.stepfunctions"):
        present = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"wait_seconds": 5}))
        absent = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"next": "book"}))
        aws.wait_for_executions(timeout=30)

    outputs = [json.loads(sfn.describe_execution(executionArn=e["executionArn"])["output"]) for e in (present, absent)]
    assert outputs == [{"wait_seconds": 5, "branch": "waited"}, {"next": "book", "branch": "straight"}]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


# -- the real template -------------------------------------------------------------------------------------------


def test_real_template_provisions() -> None:
    with EmbeddedAws(template=REAL_TEMPLATE) as aws:
        sqs = boto3.client("sqs")
        attributes = sqs.get_queue_attributes(QueueUrl=aws.queue_url("InboundQueue"), AttributeNames=["All"])[
            "Attributes"
        ]
        declared = re.search(r"VisibilityTimeout: (\d+)", REAL_TEMPLATE.read_text())
        assert declared is not None and attributes["VisibilityTimeout"] == declared.group(1)
        assert json.loads(attributes["RedrivePolicy"]) == {
            "deadLetterTargetArn": aws.queue_arn("InboundDeadLetterQueue"),
            "maxReceiveCount": 5,
        }
        table = boto3.client("dynamodb").describe_table(TableName=aws.table_name("Table"))["Table"]
        assert [key["AttributeName"] for key in table["KeySchema"]] == ["pk", "sk"]
        definition = json.loads(
            boto3.client("stepfunctions").describe_state_machine(
                stateMachineArn=aws.state_machine_arn("OrderStateMachine")
            )["definition"]
        )
        function_arn = boto3.client("lambda").get_function(FunctionName=aws.function_name("OrderStepsFunction"))[
            "Configuration"
        ]["FunctionArn"]
        assert definition["States"]["Transfer"]["Resource"] == function_arn
        assert aws.function_env("DispatchFunction")["ORDER_STATE_MACHINE_ARN"] == aws.state_machine_arn(
            "OrderStateMachine"
        )
        assert aws.function_env("IngestFunction")["INBOUND_QUEUE_URL"] == aws.queue_url("InboundQueue")
        assert {(route.method, route.resource) for route in aws.routes} == {
            ("POST", "/webhooks/shopify"),
            ("POST", "/webhooks/rackbeat/{connection_id}"),
            ("POST", "/webhooks/rackbeat/account/{account_key}"),
            ("POST", "/webhooks/webshipper/{connection_id}"),
            ("POST", "/webhooks/{kind}/{source}"),
            ("POST", "/webhooks/peakwms/{connection_id}/{event}"),
            ("GET", "/shopify/install"),
            ("GET", "/shopify/callback"),
            ("ANY", "/admin/{proxy+}"),
            ("GET", "/admin/openapi.json"),
            ("GET", "/console"),
            ("GET", "/console/{proxy+}"),
        }
        # AdminApi's routes take its DefaultAuthorizer (the user pool's) unless they say `Authorizer: NONE`; the
        # webhook API has none
        guarded = {route.resource: route.authorizer for route in aws.routes}
        admin = guarded["/admin/{proxy+}"]
        assert admin is not None and admin.user_pool_id == aws.resources["UserPool"].ref
        assert admin.issuer == f"https://cognito-idp.{aws.region}.amazonaws.com/{admin.user_pool_id}"
        assert admin.client_ids() == {aws.resources["UserPoolClient"].ref}
        open_routes = {resource for resource, authorizer in guarded.items() if authorizer is None}
        assert open_routes == {resource for _, resource in expected_open_routes()}


def expected_open_routes() -> set[tuple[str, str]]:
    """The routes API Gateway invokes without a token: the webhooks and the install (they authenticate the sender
    themselves), the admin API's OpenAPI document and the console's files (the page signs in itself)."""
    return {
        ("POST", "/webhooks/shopify"),
        ("POST", "/webhooks/rackbeat/{connection_id}"),
        ("POST", "/webhooks/rackbeat/account/{account_key}"),
        ("POST", "/webhooks/webshipper/{connection_id}"),
        ("POST", "/webhooks/{kind}/{source}"),
        ("POST", "/webhooks/peakwms/{connection_id}/{event}"),
        ("GET", "/shopify/install"),
        ("GET", "/shopify/callback"),
        ("GET", "/admin/openapi.json"),
        ("GET", "/console"),
        ("GET", "/console/{proxy+}"),
    }


# -- DynamoDB --------------------------------------------------------------------------------------------------------


def test_a_query_reads_its_key_range_in_order_and_pages_as_dynamodb_does(aws: EmbeddedAws) -> None:
    # GIVEN a table with many partitions, and in one of them items under two prefixes of the sort key
    table = boto3.resource("dynamodb").Table(aws.table_name("Table"))
    with table.batch_writer() as batch:
        for partition in range(40):
            for n in range(25):
                batch.put_item(Item={"pk": f"p{partition}", "sk": f"{'EVT' if n % 5 else 'DIRTY'}#{n:03d}"})
        for n in range(3000):  # more than one 1 MB page of one partition
            batch.put_item(Item={"pk": "big", "sk": f"EVT#{n:05d}", "blob": "x" * 700})
    # WHEN a partition is queried by prefix, forwards and backwards, and page by page
    dirty = table.query(KeyConditionExpression=Key("pk").eq("p7") & Key("sk").begins_with("DIRTY#"))["Items"]
    newest = table.query(KeyConditionExpression=Key("pk").eq("p7"), ScanIndexForward=False, Limit=3)
    pages, request = [], {"KeyConditionExpression": Key("pk").eq("big") & Key("sk").between("EVT#00010", "EVT#02999")}
    while True:
        page = table.query(**request)
        pages.append([item["sk"] for item in page["Items"]])
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    # THEN only the key range comes back, sorted, and a partition larger than 1 MB comes in pages
    assert [item["sk"] for item in dirty] == [f"DIRTY#{n:03d}" for n in range(0, 25, 5)]
    assert [item["sk"] for item in newest["Items"]] == ["EVT#024", "EVT#023", "EVT#022"]
    assert newest["LastEvaluatedKey"] == {"pk": "p7", "sk": "EVT#022"}
    assert len(pages) > 1 and [sk for page in pages for sk in page] == [f"EVT#{n:05d}" for n in range(10, 3000)]
