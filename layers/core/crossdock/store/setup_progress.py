"""Progress of a connection's guided setup: one item per step, with the step's status, how far it is and the state
its next chunk resumes from (`integration.SetupStep`).

A step is `pending` (no item yet), `running`, `done`, `skipped` or `failed`. Every run of a step has a number
(`run`): starting a run claims the step (refused while another run is `running`), and every later write of that
run is conditional on its number, so an execution left over from an earlier run can never overwrite a newer one.
The state is kept as one JSON text beside the counts; a failed run keeps it, so running the step again resumes
where it stopped.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key

from crossdock.store import keys

PENDING = "pending"
RUNNING = "running"
DONE = "done"
SKIPPED = "skipped"
FAILED = "failed"
STATUSES = (PENDING, RUNNING, DONE, SKIPPED, FAILED)
PREFIX = "SETUP#"
# What a step's state may hold: DynamoDB's limit is 400 KB an item, the state is one JSON text of it.
MAX_STATE_BYTES = 300_000
ERROR_LIMIT = 1000


class StepRunning(Exception):
    """The step has a run going; a second one would do its work twice."""

    def __init__(self, progress: dict[str, Any]) -> None:
        super().__init__(f"step {progress.get('step')} is running (run {progress.get('run')})")
        self.progress = progress


class StateTooLarge(ValueError):
    """A step's state does not fit in its item: the step must keep less (a bug of the step)."""


def _key(connection_id: str, step: str) -> dict[str, str]:
    return {"pk": keys.connection_pk(connection_id), "sk": PREFIX + step}


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    found = {k: (int(v) if isinstance(v, Decimal) else v) for k, v in item.items() if k not in ("pk", "sk")}
    found["state"] = json.loads(str(found.get("state") or "{}"))
    return found


def load(table: Any, connection_id: str, step: str) -> dict[str, Any] | None:
    item = table.get_item(Key=_key(connection_id, step), ConsistentRead=True).get("Item")
    return None if item is None else _plain(item)


def load_all(table: Any, connection_id: str) -> dict[str, dict[str, Any]]:
    """Every step's progress that has an item, by step name (a step never started has none: pending)."""
    query: dict[str, Any] = {
        "KeyConditionExpression": Key("pk").eq(keys.connection_pk(connection_id)) & Key("sk").begins_with(PREFIX),
        "ConsistentRead": True,
    }
    found: dict[str, dict[str, Any]] = {}
    while True:
        page = table.query(**query)
        for item in page["Items"]:
            plain = _plain(item)
            found[str(plain["step"])] = plain
        if "LastEvaluatedKey" not in page:
            return found
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def claim_run(table: Any, connection_id: str, step: str, now_text: str, *, resume: bool) -> int:
    """Starts a new run of the step and returns its number; `StepRunning` while a run is going. `resume` keeps the
    stored state (a failed run goes on from its last chunk); otherwise the step starts from nothing."""
    names = {"#status": "status", "#run": "run", "#step": "step"}
    values: dict[str, Any] = {":running": RUNNING, ":zero": 0, ":one": 1, ":now": now_text, ":step": step}
    sets = ["#status = :running", "#run = if_not_exists(#run, :zero) + :one", "started_at = :now", "#step = :step"]
    if not resume:
        names.update({"#state": "state", "#done": "done", "#total": "total", "#note": "note"})
        values.update({":empty": "{}", ":nothing": None, ":blank": ""})
        sets += ["#state = :empty", "#done = :zero", "#total = :nothing", "#note = :blank"]
    try:
        answer = table.update_item(
            Key=_key(connection_id, step),
            UpdateExpression="SET " + ", ".join(sets) + " REMOVE finished_at, #error",
            ConditionExpression="attribute_not_exists(pk) OR #status <> :running",
            ExpressionAttributeNames={**names, "#error": "error"},
            ExpressionAttributeValues=values,
            ReturnValues="UPDATED_NEW",
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        raise StepRunning(load(table, connection_id, step) or {"step": step}) from None
    return int(answer["Attributes"]["run"])


def save_chunk(
    table: Any,
    connection_id: str,
    step: str,
    run: int,
    *,
    finished: bool,
    done: int,
    total: int | None,
    state: dict[str, Any],
    note: str,
    now_text: str,
) -> bool:
    """What a chunk of run `run` did, stored (the step `done` when `finished`); False when the step is no longer
    that run's (a newer run, a skip): nothing is written then."""
    text = json.dumps(state, separators=(",", ":"), ensure_ascii=False, sort_keys=True, default=str)
    if len(text.encode()) > MAX_STATE_BYTES:
        raise StateTooLarge(f"the state of setup step {step} is {len(text.encode())} bytes")
    sets = ["#state = :state", "#done = :done", "#total = :total", "#note = :note", "updated_at = :now"]
    values: dict[str, Any] = {
        ":state": text,
        ":done": done,
        ":total": total,
        ":note": note,
        ":now": now_text,
        ":run": run,
        ":running": RUNNING,
    }
    if finished:
        sets += ["#status = :finished", "finished_at = :now"]
        values[":finished"] = DONE
    try:
        table.update_item(
            Key=_key(connection_id, step),
            UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression="#run = :run AND #status = :running",
            ExpressionAttributeNames={
                "#state": "state",
                "#done": "done",
                "#total": "total",
                "#note": "note",
                "#run": "run",
                "#status": "status",
            },
            ExpressionAttributeValues=values,
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def record_failed(table: Any, connection_id: str, step: str, run: int, error: str, now_text: str) -> bool:
    """Run `run` failed for good: the reason kept, the state left as the last chunk stored it."""
    try:
        table.update_item(
            Key=_key(connection_id, step),
            UpdateExpression="SET #status = :failed, #error = :error, finished_at = :now",
            ConditionExpression="#run = :run AND #status = :running",
            ExpressionAttributeNames={"#status": "status", "#error": "error", "#run": "run"},
            ExpressionAttributeValues={
                ":failed": FAILED,
                ":error": error[:ERROR_LIMIT],
                ":now": now_text,
                ":run": run,
                ":running": RUNNING,
            },
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def skip(table: Any, connection_id: str, step: str, now_text: str) -> str | None:
    """Marks the step skipped unless it is running or done; returns the status it had (None: skipped now from
    pending), or raises `StepRunning` / `ValueError` naming why not."""
    before = load(table, connection_id, step)
    status = str(before["status"]) if before else PENDING
    if status == RUNNING:
        raise StepRunning(before or {"step": step})
    if status == DONE:
        raise ValueError(f"step {step} is done: there is nothing to skip")
    try:
        table.update_item(
            Key=_key(connection_id, step),
            UpdateExpression="SET #status = :skipped, #step = :step, finished_at = :now",
            ConditionExpression="attribute_not_exists(pk) OR (#status <> :running AND #status <> :done)",
            ExpressionAttributeNames={"#status": "status", "#step": "step"},
            ExpressionAttributeValues={
                ":skipped": SKIPPED,
                ":step": step,
                ":now": now_text,
                ":running": RUNNING,
                ":done": DONE,
            },
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        raise StepRunning(load(table, connection_id, step) or {"step": step}) from None
    return None if before is None else status
