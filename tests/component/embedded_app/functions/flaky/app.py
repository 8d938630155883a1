"""A workflow task that raises RetryableError when asked to, otherwise returns its input marked done."""

from typing import Any


class RetryableError(Exception):
    pass


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("fail"):
        raise RetryableError(f"try again later ({event['fail']})")
    return {**event, "done": True}
