"""Records every invocation (its event and what it sees of its environment); fails when the event asks it to."""

import json
import os
from typing import Any

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    TABLE.put_item(
        Item={
            "pk": "tick",
            "sk": context.aws_request_id,
            "event": json.dumps(event, sort_keys=True),
            "greeting": os.environ.get("GREETING", ""),
        }
    )
    if event.get("fail"):
        raise RuntimeError("the tick failed, as asked")
    return {"ticked": True}
