"""IAM enforced on the embedded AWS as AWS enforces it, on the test app: who calls, what a denial looks like, and
where AWS itself refuses a role (an event source mapping, a schedule's target)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from crossdock_local.aws.embedded import EmbeddedAws
from crossdock_local.aws.template import load_template, write_copy

APP = Path(__file__).parent / "embedded_app" / "template.yaml"
SCHEDULED = Path(__file__).parent / "embedded_app" / "scheduled.yaml"
ACCOUNT = "123456789012"


@pytest.fixture
def aws() -> Iterator[EmbeddedAws]:
    with EmbeddedAws(template=APP) as embedded:
        yield embedded


def changed(original: Path, directory: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    template = load_template(original)
    change(template)
    return write_copy(template, original, directory)


def test_a_workflows_call_its_role_does_not_allow_is_refused_in_awss_words(aws: EmbeddedAws) -> None:
    # GIVEN the flow's state machine, whose role may only invoke the flaky function
    machine = aws.state_machine_arn("FlowStateMachine")
    table = aws.table_name("Table")
    dynamodb = boto3.client("dynamodb")
    # WHEN a call is made as that state machine
    with aws.iam.acting_as_state_machine(machine), pytest.raises(ClientError) as refused:
        dynamodb.put_item(TableName=table, Item={"pk": {"S": "x"}, "sk": {"S": "y"}})
    # THEN it fails as DynamoDB refuses it, and nothing was written
    error = refused.value.response
    assert error["Error"]["Code"] == "AccessDeniedException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Message"] == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/crossdock-FlowStateMachineRole/FlowStateMachine is not "
        f"authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/{table} "
        "because no identity-based policy allows the dynamodb:PutItem action"
    )
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"pk": {"S": "x"}, "sk": {"S": "y"}})


def test_sqs_refuses_with_its_own_code_and_status(aws: EmbeddedAws) -> None:
    # GIVEN the state machine's role, which names no queue / WHEN it sends to one
    with aws.iam.acting_as_state_machine(aws.state_machine_arn("FlowStateMachine")), pytest.raises(ClientError) as e:
        boto3.client("sqs").send_message(QueueUrl=aws.queue_url("WorkQueue"), MessageBody="hi")
    # THEN SQS's AccessDenied, and the queue stays empty
    assert (e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "AccessDenied",
        403,
    )
    assert "sqs:SendMessage on resource: arn:aws:sqs:eu-west-1:" in e.value.response["Error"]["Message"]
    assert aws.queue_depth("WorkQueue") == 0


def test_the_harness_calls_as_the_accounts_administrator(aws: EmbeddedAws) -> None:
    # GIVEN no function or workflow running on this thread / THEN nothing is checked
    boto3.client("sqs").send_message(QueueUrl=aws.queue_url("WorkQueue"), MessageBody="from the test")
    assert aws.queue_depth("WorkQueue") == 1


def test_each_function_holds_its_own_roles_credentials(aws: EmbeddedAws) -> None:
    # GIVEN two functions / WHEN their credentials are shown to STS
    def caller(function: str) -> str:
        spec = aws.lambdas.find(function)
        assert spec is not None
        credentials = spec.credentials
        sts = boto3.client(
            "sts",
            aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=credentials["AWS_SESSION_TOKEN"],
        )
        return str(sts.get_caller_identity()["Arn"])

    # THEN each is its SAM role's session named after the function, as Lambda assumes it
    assert (
        caller("WorkerFunction")
        == f"arn:aws:sts::{ACCOUNT}:assumed-role/crossdock-WorkerFunctionRole/crossdock-WorkerFunction"
    )
    assert (
        caller("EchoFunction")
        == f"arn:aws:sts::{ACCOUNT}:assumed-role/crossdock-EchoFunctionRole/crossdock-EchoFunction"
    )


def test_a_function_without_the_permission_fails_its_invocation_and_writes_nothing(tmp_path: Path) -> None:
    # GIVEN the app with the worker's DynamoDB policy taken out
    template = changed(APP, tmp_path, lambda t: t["Resources"]["WorkerFunction"]["Properties"].pop("Policies"))
    with EmbeddedAws(template=template) as aws:
        lines: list[tuple[str, str]] = []
        aws.lambdas.log_listeners.append(lambda function, text: lines.append((function, text)))
        # WHEN a message reaches it
        boto3.client("sqs").send_message(QueueUrl=aws.queue_url("WorkQueue"), MessageBody="work")
        aws.pump()
        # THEN its invocation fails with DynamoDB's AccessDeniedException, logged as any error, and nothing is stored
        (invocation,) = aws.invocations
        assert invocation.error_type == "ClientError"
        assert any(
            function == "WorkerFunction" and "AccessDeniedException" in text and "dynamodb:PutItem" in text
            for function, text in lines
        )
        assert boto3.client("dynamodb").scan(TableName=aws.table_name("Table"))["Items"] == []


def test_an_event_source_mapping_the_role_cannot_poll_is_refused_at_deploy(tmp_path: Path) -> None:
    # GIVEN the worker's role explicitly denied sqs:ReceiveMessage
    deny = {"Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}
    deny["Statement"].append({"Effect": "Deny", "Action": "sqs:ReceiveMessage", "Resource": "*"})

    def add_deny(template: dict[str, Any]) -> None:
        template["Resources"]["WorkerFunction"]["Properties"]["Policies"].append(deny)

    template = changed(APP, tmp_path, add_deny)
    # WHEN the stack is deployed / THEN it fails as CreateEventSourceMapping fails, even though sqs:* is allowed
    with (
        pytest.raises(ValueError, match=r"InvalidParameterValueException: .* call ReceiveMessage on SQS"),
        EmbeddedAws(template=template),
    ):
        pass


def test_a_schedule_whose_role_cannot_invoke_its_target_never_runs_it(tmp_path: Path) -> None:
    # GIVEN the tick schedule's role without its lambda:InvokeFunction
    template = changed(SCHEDULED, tmp_path, lambda t: t["Resources"]["TickRole"]["Properties"].pop("Policies"))
    with EmbeddedAws(template=template) as aws:
        # WHEN the schedule fires
        run = aws.fire_schedule("TickSchedule")
        # THEN the run fails as the scheduler's invoke is refused, and the function never ran
        assert run.error_type == "AccessDeniedException"
        assert aws.usage()["lambda"]["TickFunction"]["invocations"] == 0


def test_a_ciphertext_and_an_alias_name_their_key(aws: EmbeddedAws) -> None:
    # GIVEN a key with an alias, and a ciphertext made with it
    kms = boto3.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/secrets", TargetKeyId=key)
    blob = kms.encrypt(KeyId="alias/secrets", Plaintext=b"x")["CiphertextBlob"]
    # THEN a Decrypt without KeyId and an Encrypt by alias are both authorized on the key itself
    assert aws.iam.kms_key_id(None, blob) == key
    assert aws.iam.kms_key_id("alias/secrets", None) == key
    assert aws.iam.kms_key_id(f"arn:aws:kms:eu-west-1:{ACCOUNT}:alias/secrets", None) == key
