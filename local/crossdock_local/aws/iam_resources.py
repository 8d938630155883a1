"""What IAM authorizes for one API call: its actions, the resource ARN of each, and the request's condition keys.

One rule per operation Crossdock (and the runtime on its behalf) makes, from the Service Authorization Reference
("Actions, resources, and condition keys for …"). An operation without a rule raises `UnknownOperation`, which the
enforcement turns into a denial naming it: a new call cannot slip past unauthorized because nobody wrote its rule.
Some calls need more than one permission: a batch or transaction needs one per table and kind of write; a
`CreateSchedule` also passes its target's role (`iam:PassRole`, with `iam:PassedToService`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlparse


class UnknownOperation(LookupError):
    """No rule says which resource this operation acts on, so it cannot be authorized."""


@dataclass(frozen=True)
class Request:
    action: str  # "dynamodb:GetItem"
    resource: str  # an ARN, or "*" for actions without resource-level permissions
    context: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())  # condition keys (lower case) → values

    @property
    def context_map(self) -> dict[str, tuple[str, ...]]:
        return dict(self.context)


class Account(Protocol):
    """Where the call lands, and what only the service knows (a KMS alias's key, a ciphertext's key)."""

    region: str
    account_id: str

    def kms_key_id(self, key_id: str | None, ciphertext: bytes | None) -> str: ...


Rule = Callable[[Account, str, dict[str, Any]], list[Request]]


def requests_for(account: Account, service: str, operation: str, params: dict[str, Any]) -> list[Request]:
    """The permissions `service.operation(**params)` needs; raises `UnknownOperation` when no rule knows it."""
    rule = _RULES.get((service, operation))
    if rule is None:
        raise UnknownOperation(f"{service}:{operation}")
    return rule(account, operation, params)


# -- DynamoDB -----------------------------------------------------------------------------------------------------


def _table_arn(account: Account, table: str) -> str:
    if table.startswith("arn:"):
        return table
    return f"arn:aws:dynamodb:{account.region}:{account.account_id}:table/{table}"


def _dynamodb_item(account: Account, operation: str, params: dict[str, Any]) -> list[Request]:
    return [Request(f"dynamodb:{operation}", _table_arn(account, params["TableName"]))]


def _dynamodb_read(account: Account, operation: str, params: dict[str, Any]) -> list[Request]:
    # A Query or Scan of an index is authorized on the index's ARN, not the table's.
    arn = _table_arn(account, params["TableName"])
    index = params.get("IndexName")
    return [Request(f"dynamodb:{operation}", f"{arn}/index/{index}" if index else arn)]


def _dynamodb_batch(account: Account, operation: str, params: dict[str, Any]) -> list[Request]:
    return [Request(f"dynamodb:{operation}", _table_arn(account, table)) for table in params["RequestItems"]]


_TRANSACT_WRITES = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}


def _dynamodb_transact_write(account: Account, _operation: str, params: dict[str, Any]) -> list[Request]:
    # A transaction needs the item action of each of its writes on that write's table (DynamoDB developer guide,
    # "Using IAM with DynamoDB transactions"); there is no dynamodb:TransactWriteItems action to allow.
    found = []
    for item in params["TransactItems"]:
        ((kind, write),) = item.items()
        request = Request(_TRANSACT_WRITES[kind], _table_arn(account, write["TableName"]))
        if request not in found:
            found.append(request)
    return found


def _dynamodb_transact_get(account: Account, _operation: str, params: dict[str, Any]) -> list[Request]:
    tables = dict.fromkeys(item["Get"]["TableName"] for item in params["TransactItems"])
    return [Request("dynamodb:GetItem", _table_arn(account, table)) for table in tables]


# -- SQS ----------------------------------------------------------------------------------------------------------


def _queue_arn(account: Account, queue_url: str) -> str:
    # https://sqs.<region>.amazonaws.com/<account>/<name> (moto answers the same shape).
    path = urlparse(queue_url).path.strip("/").split("/")
    if len(path) != 2:
        raise UnknownOperation(f"sqs: cannot tell the queue of {queue_url!r}")
    owner, name = path
    return f"arn:aws:sqs:{account.region}:{owner}:{name}"


# The batch operations are authorized as their single forms (SQS developer guide, "Amazon SQS API permissions").
_SQS_ACTIONS = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}


def _sqs_queue(account: Account, operation: str, params: dict[str, Any]) -> list[Request]:
    action = _SQS_ACTIONS.get(operation, operation)
    return [Request(f"sqs:{action}", _queue_arn(account, params["QueueUrl"]))]


def _sqs_queue_by_name(account: Account, operation: str, params: dict[str, Any]) -> list[Request]:
    owner = params.get("QueueOwnerAWSAccountId", account.account_id)
    return [Request(f"sqs:{operation}", f"arn:aws:sqs:{account.region}:{owner}:{params['QueueName']}")]


# -- KMS ----------------------------------------------------------------------------------------------------------


def _kms_key(account: Account, operation: str, params: dict[str, Any]) -> list[Request]:
    # Aliases are resolved to their key: a key policy or IAM statement names the key, not the alias.
    blob = params.get("CiphertextBlob")
    if blob is not None and not isinstance(blob, bytes):
        blob = bytes(getattr(blob, "value", blob))  # boto3's DynamoDB Binary, or a bytearray
    key_id = account.kms_key_id(params.get("KeyId"), blob)
    return [Request(f"kms:{operation}", f"arn:aws:kms:{account.region}:{account.account_id}:key/{key_id}")]


# -- Step Functions -----------------------------------------------------------------------------------------------


def _state_machine(_account: Account, operation: str, params: dict[str, Any]) -> list[Request]:
    return [Request(f"states:{operation}", params["stateMachineArn"])]


def _execution(_account: Account, operation: str, params: dict[str, Any]) -> list[Request]:
    # arn:aws:states:<region>:<account>:execution:<state machine name>:<execution name>
    return [Request(f"states:{operation}", params["executionArn"])]


# -- EventBridge Scheduler ----------------------------------------------------------------------------------------


def _schedule(account: Account, operation: str, params: dict[str, Any]) -> list[Request]:
    group = params.get("GroupName") or "default"
    arn = f"arn:aws:scheduler:{account.region}:{account.account_id}:schedule/{group}/{params['Name']}"
    found = [Request(f"scheduler:{operation}", arn)]
    role = (params.get("Target") or {}).get("RoleArn")
    if role:
        # Handing a role to the scheduler is passing it (Scheduler user guide, "Set up the execution role").
        found.append(Request("iam:PassRole", role, (("iam:passedtoservice", ("scheduler.amazonaws.com",)),)))
    return found


def _schedule_list(account: Account, operation: str, _params: dict[str, Any]) -> list[Request]:
    return [Request(f"scheduler:{operation}", "*")]


# -- Lambda -------------------------------------------------------------------------------------------------------


def _function(account: Account, operation: str, params: dict[str, Any]) -> list[Request]:
    name = params["FunctionName"]
    if not name.startswith("arn:"):
        name = f"arn:aws:lambda:{account.region}:{account.account_id}:function:{name}"
    qualifier = params.get("Qualifier")
    arn = f"{name}:{qualifier}" if qualifier and name.count(":") == 6 else name
    action = {"Invoke": "InvokeFunction", "InvokeAsync": "InvokeFunction"}.get(operation, operation)
    return [Request(f"lambda:{action}", arn)]


# -- S3 -----------------------------------------------------------------------------------------------------------

_S3_OBJECT_ACTIONS = {
    "GetObject": "GetObject",
    "HeadObject": "GetObject",
    "PutObject": "PutObject",
    "DeleteObject": "DeleteObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "AbortMultipartUpload": "AbortMultipartUpload",
}


def _s3_object(_account: Account, operation: str, params: dict[str, Any]) -> list[Request]:
    return [Request(f"s3:{_S3_OBJECT_ACTIONS[operation]}", f"arn:aws:s3:::{params['Bucket']}/{params['Key']}")]


def _s3_bucket(_account: Account, operation: str, params: dict[str, Any]) -> list[Request]:
    action = {"ListObjectsV2": "ListBucket", "ListObjects": "ListBucket", "HeadBucket": "ListBucket"}[operation]
    return [Request(f"s3:{action}", f"arn:aws:s3:::{params['Bucket']}")]


# -- services without resource-level permissions ------------------------------------------------------------------


def _any_resource(prefix: str) -> Rule:
    def rule(_account: Account, operation: str, _params: dict[str, Any]) -> list[Request]:
        return [Request(f"{prefix}:{operation}", "*")]

    return rule


def _no_permission(_account: Account, _operation: str, _params: dict[str, Any]) -> list[Request]:
    return []  # sts:GetCallerIdentity needs no permission: AWS answers it even when every action is denied


_RULES: dict[tuple[str, str], Rule] = {
    **{
        ("dynamodb", op): _dynamodb_item
        for op in ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "DescribeTable", "DescribeTimeToLive")
    },
    ("dynamodb", "Query"): _dynamodb_read,
    ("dynamodb", "Scan"): _dynamodb_read,
    ("dynamodb", "BatchWriteItem"): _dynamodb_batch,
    ("dynamodb", "BatchGetItem"): _dynamodb_batch,
    ("dynamodb", "TransactWriteItems"): _dynamodb_transact_write,
    ("dynamodb", "TransactGetItems"): _dynamodb_transact_get,
    **{
        ("sqs", op): _sqs_queue
        for op in (
            "SendMessage",
            "SendMessageBatch",
            "ReceiveMessage",
            "DeleteMessage",
            "DeleteMessageBatch",
            "ChangeMessageVisibility",
            "ChangeMessageVisibilityBatch",
            "GetQueueAttributes",
            "PurgeQueue",
        )
    },
    ("sqs", "GetQueueUrl"): _sqs_queue_by_name,
    **{
        ("kms", op): _kms_key
        for op in ("Encrypt", "Decrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "DescribeKey")
    },
    ("stepfunctions", "StartExecution"): _state_machine,
    ("stepfunctions", "ListExecutions"): _state_machine,
    ("stepfunctions", "DescribeStateMachine"): _state_machine,
    ("stepfunctions", "DescribeExecution"): _execution,
    ("stepfunctions", "StopExecution"): _execution,
    ("stepfunctions", "GetExecutionHistory"): _execution,
    **{("scheduler", op): _schedule for op in ("GetSchedule", "CreateSchedule", "UpdateSchedule", "DeleteSchedule")},
    ("scheduler", "ListSchedules"): _schedule_list,
    **{("lambda", op): _function for op in ("Invoke", "InvokeAsync", "GetFunction", "GetFunctionConfiguration")},
    **{("s3", op): _s3_object for op in _S3_OBJECT_ACTIONS},
    **{("s3", op): _s3_bucket for op in ("ListObjectsV2", "ListObjects", "HeadBucket")},
    ("cloudwatch", "PutMetricData"): _any_resource("cloudwatch"),
    ("xray", "PutTraceSegments"): _any_resource("xray"),
    ("xray", "PutTelemetryRecords"): _any_resource("xray"),
    ("sts", "GetCallerIdentity"): _no_permission,
}
