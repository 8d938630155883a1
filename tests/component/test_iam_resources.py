"""Which permissions one API call needs (the Service Authorization Reference's actions, resources and condition
keys), for the calls Crossdock makes; an operation nobody wrote a rule for is refused, not waved through."""

from __future__ import annotations

import pytest

from crossdock_local.aws.iam_resources import Request, UnknownOperation, requests_for

TABLE = "arn:aws:dynamodb:eu-west-1:123456789012:table/crossdock-Table"


class Account:
    region = "eu-west-1"
    account_id = "123456789012"

    def kms_key_id(self, key_id: str | None, ciphertext: bytes | None) -> str:
        return {"alias/secrets": "key-1", None: "key-from-ciphertext"}.get(key_id, key_id or "?")


def needs(service: str, operation: str, **params: object) -> list[Request]:
    return requests_for(Account(), service, operation, dict(params))


def test_a_query_of_an_index_is_authorized_on_the_index() -> None:
    # GIVEN a Query of the Connections index and one of the table
    # THEN the first needs dynamodb:Query on `table/NAME/index/Connections`, the second on the table
    assert needs("dynamodb", "Query", TableName="crossdock-Table", IndexName="Connections") == [
        Request("dynamodb:Query", f"{TABLE}/index/Connections")
    ]
    assert needs("dynamodb", "Query", TableName="crossdock-Table") == [Request("dynamodb:Query", TABLE)]


def test_a_transaction_needs_each_kind_of_write_on_its_table() -> None:
    # GIVEN a transaction that puts twice, updates and checks a condition
    transaction = [
        {"Put": {"TableName": "crossdock-Table", "Item": {}}},
        {"Put": {"TableName": "crossdock-Table", "Item": {}}},
        {"Update": {"TableName": "crossdock-Table", "Key": {}}},
        {"ConditionCheck": {"TableName": "other", "Key": {}}},
    ]
    # THEN it needs PutItem and UpdateItem on the table and ConditionCheckItem on the other, once each
    assert needs("dynamodb", "TransactWriteItems", TransactItems=transaction) == [
        Request("dynamodb:PutItem", TABLE),
        Request("dynamodb:UpdateItem", TABLE),
        Request("dynamodb:ConditionCheckItem", "arn:aws:dynamodb:eu-west-1:123456789012:table/other"),
    ]


def test_a_batch_write_needs_the_action_on_every_table_it_writes() -> None:
    assert needs("dynamodb", "BatchWriteItem", RequestItems={"crossdock-Table": [], "other": []}) == [
        Request("dynamodb:BatchWriteItem", TABLE),
        Request("dynamodb:BatchWriteItem", "arn:aws:dynamodb:eu-west-1:123456789012:table/other"),
    ]


def test_sqs_names_the_queue_by_its_url_and_a_batch_by_its_single_action() -> None:
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/crossdock-ShopifyOutboundQueue.fifo"
    arn = "arn:aws:sqs:eu-west-1:123456789012:crossdock-ShopifyOutboundQueue.fifo"
    assert needs("sqs", "SendMessageBatch", QueueUrl=url, Entries=[]) == [Request("sqs:SendMessage", arn)]
    assert needs("sqs", "DeleteMessageBatch", QueueUrl=url, Entries=[]) == [Request("sqs:DeleteMessage", arn)]


def test_kms_names_the_key_an_alias_stands_for() -> None:
    assert needs("kms", "Encrypt", KeyId="alias/secrets", Plaintext=b"x") == [
        Request("kms:Encrypt", "arn:aws:kms:eu-west-1:123456789012:key/key-1")
    ]
    # AND a Decrypt without KeyId is authorized on the key the ciphertext names
    assert needs("kms", "Decrypt", CiphertextBlob=b"blob") == [
        Request("kms:Decrypt", "arn:aws:kms:eu-west-1:123456789012:key/key-from-ciphertext")
    ]


def test_creating_a_schedule_also_passes_its_role_to_the_scheduler() -> None:
    # GIVEN a CreateSchedule in the poll group with the poll role as its target's
    role = "arn:aws:iam::123456789012:role/crossdock-PollScheduleRole"
    found = needs(
        "scheduler",
        "CreateSchedule",
        Name="c-1-orders",
        GroupName="crossdock-poll",
        Target={"Arn": "arn:aws:lambda:eu-west-1:123456789012:function:crossdock-poll", "RoleArn": role},
    )
    # THEN it needs the schedule's ARN in its group, and iam:PassRole on the role with iam:PassedToService
    assert found == [
        Request(
            "scheduler:CreateSchedule", "arn:aws:scheduler:eu-west-1:123456789012:schedule/crossdock-poll/c-1-orders"
        ),
        Request("iam:PassRole", role, (("iam:passedtoservice", ("scheduler.amazonaws.com",)),)),
    ]
    # AND a schedule without a group is the default group's
    assert needs("scheduler", "DeleteSchedule", Name="x")[0].resource.endswith(":schedule/default/x")


def test_step_functions_and_lambda_name_their_executions_and_functions() -> None:
    execution = "arn:aws:states:eu-west-1:123456789012:execution:crossdock-OrderStateMachine:c-1-order-9"
    assert needs("stepfunctions", "DescribeExecution", executionArn=execution) == [
        Request("states:DescribeExecution", execution)
    ]
    assert needs("lambda", "Invoke", FunctionName="crossdock-poll") == [
        Request("lambda:InvokeFunction", "arn:aws:lambda:eu-west-1:123456789012:function:crossdock-poll")
    ]


def test_s3_objects_are_named_by_bucket_and_key() -> None:
    assert needs("s3", "HeadObject", Bucket="payloads", Key="inbound/e-1") == [
        Request("s3:GetObject", "arn:aws:s3:::payloads/inbound/e-1")
    ]


def test_an_operation_without_a_rule_is_refused_naming_it() -> None:
    # GIVEN an operation nobody wrote a resource rule for / THEN it cannot be authorized, and says which it is
    with pytest.raises(UnknownOperation, match="dynamodb:ExportTableToPointInTime"):
        needs("dynamodb", "ExportTableToPointInTime", TableArn=TABLE)
