"""Records every delivery in the table; fails `fail-once` records on their first receive and `poison` always."""

import json
import os
from typing import Any

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failures = []
    for record in event["Records"]:
        receive_count = record["attributes"]["ApproximateReceiveCount"]
        TABLE.put_item(
            Item={
                "pk": f"msg#{record['body']}",
                "sk": f"receive#{receive_count}",
                "record": json.dumps(record),
                "echo_only": str(os.environ.get("ECHO_ONLY")),
                "worker_only": os.environ["WORKER_ONLY"],
            }
        )
        if record["body"] == "poison" or (record["body"].startswith("fail-once") and receive_count == "1"):
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
