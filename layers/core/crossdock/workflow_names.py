"""Names of order-workflow executions: deterministic, so Step Functions itself refuses a second start.

The first attempt of an order (or refund, or cancellation) is `<connection>-<kind>-<id>`. A redrive (an operator's
retry, or the reconciliation sweep after a target outage) cannot reuse that name — Step Functions keeps a finished
execution's name for 90 days — so attempt k ≥ 1 is `<first name>-r<k>`; the counter lives in `store.attempts`.
"""

from __future__ import annotations

import re

MAX_NAME = 80  # Step Functions: at most 80 characters of [A-Za-z0-9-_]
_ATTEMPT_SUFFIX_ROOM = 4  # "-r99"


def execution_name(connection_id: str, order_id: str, kind: str = "order") -> str:
    """Deterministic per order (or refund, or cancellation). A connection id is a 36-character UUID and Shopify
    ids have at most 19 digits, so the name and an attempt suffix fit in 80 characters."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{connection_id}-{kind}-{order_id}")[: MAX_NAME - _ATTEMPT_SUFFIX_ROOM]


def attempt_name(first: str, attempt: int) -> str:
    """The execution name of attempt `attempt` (0 is the first, started by the webhook itself)."""
    return first if attempt == 0 else f"{first}-r{attempt}"


def sibling_execution(own_execution_arn: str, name: str) -> str:
    """The ARN of another execution of the same state machine (`arn:…:execution:<machine>:<name>`): a cancellation
    looks at its order's own workflow by it."""
    return own_execution_arn.rsplit(":", 1)[0] + ":" + name
