"""The admin API's routes for what a merchant chooses from and watches (issue 17): a connection's setting choices,
its initial sync (started, followed) and its guided setup (steps shown, run, skipped).

Each route finds the connection through `tenancy.on_connection` first (another tenant's id is 404, as an unknown
one), then calls the operation the CLI calls (`operations.choices`, `operations.initial_sync`,
`operations.guided_setup`) and mirrors its answer; a start, run or skip is recorded with who made it (`audit`).
Progress carries a `percent` for the console's bars: 100 once finished, None while the work is not counted yet
(an indeterminate bar), else how much of the counted work is done (below 100 until it is finished).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, Field

from crossdock import registry
from crossdock.admin import audit, tenancy
from crossdock.admin.errors import ERROR_RESPONSES
from crossdock.aws.observability import logger
from crossdock.connections.model import Connection
from crossdock.operations import choices, guided_setup, initial_sync
from crossdock.operations.guided_setup import SetupProgress, StepProgress
from crossdock.operations.initial_sync import InitialSyncProgress
from crossdock.store import setup_progress

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves its __init__ unannotated

# The systems whose choices could not be read now, by name (`rackbeat,shopify`): the body stays the contract's
# `{field: [choices]}`, and the console can say why a drop-down is missing.
UNAVAILABLE_HEADER = "Crossdock-Choices-Unavailable"
STEP_FINISHED = frozenset({setup_progress.DONE, setup_progress.SKIPPED})


class ChoiceModel(BaseModel):
    value: str | int = Field(description="what the settings document holds (a Rackbeat number as an int)")
    label: str = Field(description="what a person knows it by")


class InitialSyncModel(BaseModel):
    connection_id: str
    state: str = Field(description="not started, starting, exporting, importing, done or failed")
    done: int
    total: int | None = Field(description="the source's variants; None until its catalogue is read")
    percent: int | None = Field(description="0–100; None while the total is not known")
    finished: bool
    created: int
    existing: int
    skipped: int
    started_at: str | None
    finished_at: str | None
    error: str | None
    warning: str | None = Field(description="on start: what the sync does to the target that cannot be undone")
    not_synced: list[str] = Field(description="the first variants and stock not synced, each with the reason")
    chosen: bool = Field(
        description="whether the connection's kind has an initial sync and its settings choose it (a start is "
        "refused otherwise)"
    )


class StepModel(BaseModel):
    name: str
    title: str
    optional: bool
    state: str = Field(description="pending, running, done, skipped or failed")
    done: int
    total: int | None
    percent: int | None = Field(description="0–100; None while the step has not counted its work")
    note: str
    error: str | None
    run: int = Field(description="how many times the step was started")
    started_at: str | None
    finished_at: str | None


class SetupModel(BaseModel):
    connection_id: str
    kind: str
    next_step: str | None = Field(description="the first step neither done nor skipped; None: the setup is complete")
    percent: int = Field(description="the share of steps done or skipped, 0–100")
    steps: list[StepModel]


class StepStartedModel(BaseModel):
    connection_id: str
    resumed: bool = Field(description="a failed run goes on from its last stored chunk")
    step: StepModel


def _answered(description: str, model: Any, **extra: Any) -> OpenAPIResponse:
    """The route's own answer in the OpenAPI document (given with the errors, it is not added by itself)."""
    return {"description": description, "content": {"application/json": {"model": model}}, **extra}  # type: ignore[typeddict-item]


def _with(status: int, answer: OpenAPIResponse) -> dict[int, OpenAPIResponse]:
    return {**ERROR_RESPONSES, status: answer}


def percent_of(done: int, total: int | None, *, finished: bool) -> int | None:
    if finished:
        return 100
    if not total:
        return None if total is None else 0
    return min(99, done * 100 // total)


def sync_model(progress: InitialSyncProgress, *, chosen: bool) -> InitialSyncModel:
    return InitialSyncModel(
        chosen=chosen,
        connection_id=progress.connection_id,
        state=progress.status,
        done=progress.done,
        total=progress.total,
        percent=0
        if progress.status == "not started"
        else percent_of(progress.done, progress.total, finished=progress.status == "done"),
        finished=progress.finished,
        created=progress.created,
        existing=progress.existing,
        skipped=progress.skipped,
        started_at=progress.started_at,
        finished_at=progress.finished_at,
        error=progress.error,
        warning=progress.warning,
        not_synced=list(progress.not_synced),
    )


def step_model(step: StepProgress) -> StepModel:
    pending = step.status == setup_progress.PENDING
    return StepModel(
        name=step.name,
        title=step.title,
        optional=step.optional,
        state=step.status,
        done=step.done,
        total=step.total,
        percent=0 if pending else percent_of(step.done, step.total, finished=step.status in STEP_FINISHED),
        note=step.note,
        error=step.error,
        run=step.run,
        started_at=step.started_at,
        finished_at=step.finished_at,
    )


def setup_model(progress: SetupProgress) -> SetupModel:
    steps = [step_model(step) for step in progress.steps]
    finished = sum(1 for step in progress.steps if step.status in STEP_FINISHED)
    return SetupModel(
        connection_id=progress.connection_id,
        kind=progress.kind,
        next_step=progress.next_step,
        percent=finished * 100 // len(steps) if steps else 100,
        steps=steps,
    )


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


# ---- choices ------------------------------------------------------------------------------------------------------


@router.get(
    "/admin/connections/<connection_id>/choices",
    summary="What each setting may name in the live systems",
    description=(
        "By dotted settings field: a map's keys under the field, what goes under any key under `<field>.*`. A system "
        f"that could not be read leaves its fields out and is named in the `{UNAVAILABLE_HEADER}` header."
    ),
    tags=["settings"],
    responses=_with(
        200,
        _answered(
            "the choices by dotted settings field",
            dict[str, list[ChoiceModel]],
            headers={
                UNAVAILABLE_HEADER: {
                    "description": "the systems whose choices could not be read now, comma-separated",
                    "schema": {"type": "string"},
                }
            },
        ),
    ),
)
def get_choices(connection_id: str) -> Response[dict[str, list[ChoiceModel]]]:
    target, _, _ = tenancy.on_connection(router, connection_id)
    read = choices.read_choices(target, connection_id)
    body = {
        field: [ChoiceModel(value=choice.value, label=choice.label) for choice in offered]
        for field, offered in read.choices.items()
    }
    headers = {UNAVAILABLE_HEADER: ",".join(read.unavailable)} if read.unavailable else None
    if read.unavailable:
        logger.warning("choices_unavailable", extra={"connection_id": connection_id, "unavailable": read.unavailable})
    return _json(200, body, headers)


# ---- initial sync -------------------------------------------------------------------------------------------------


@router.post(
    "/admin/connections/<connection_id>/initial-sync",
    summary="Start the connection's one initial sync",
    responses=_with(202, _answered("started: its progress", InitialSyncModel)),
    tags=["progress"],
)
def start_initial_sync(connection_id: str) -> Response[InitialSyncModel]:
    target, caller, connection = tenancy.on_connection(router, connection_id)
    progress = initial_sync.start_initial_sync(target, connection_id)
    audit.record(target, caller, connection_id, "initial-sync/started", "started the initial sync")
    return _json(202, sync_model(progress, chosen=_sync_chosen(connection)))


@router.get(
    "/admin/connections/<connection_id>/initial-sync",
    summary="The initial sync's progress",
    tags=["progress"],
    responses=_with(200, _answered("its progress", InitialSyncModel)),
)
def get_initial_sync(connection_id: str) -> InitialSyncModel:
    target, _, connection = tenancy.on_connection(router, connection_id)
    return sync_model(initial_sync.initial_sync_progress(target, connection_id), chosen=_sync_chosen(connection))


def _sync_chosen(connection: Connection) -> bool:
    offered = registry.integration(connection.kind).initial_sync
    return offered is not None and offered.chosen(connection)


# ---- guided setup -------------------------------------------------------------------------------------------------


@router.get(
    "/admin/connections/<connection_id>/setup",
    summary="Every step of the guided setup with its progress",
    tags=["progress"],
    responses=_with(200, _answered("the steps in order, each with its progress", SetupModel)),
)
def get_setup(connection_id: str) -> SetupModel:
    target, _, _ = tenancy.on_connection(router, connection_id)
    return setup_model(guided_setup.show_setup(target, connection_id))


@router.post(
    "/admin/connections/<connection_id>/setup/<step>/run",
    summary="Run (confirm) a setup step; a failed step resumes where it stopped",
    responses=_with(202, _answered("started: the step's progress", StepStartedModel)),
    tags=["progress"],
)
def run_setup_step(connection_id: str, step: str) -> Response[StepStartedModel]:
    target, caller, _ = tenancy.on_connection(router, connection_id)
    started = guided_setup.run_step(target, connection_id, step)
    how = "resumed" if started.resumed else "ran"
    audit.record(target, caller, connection_id, "setup/step-run", f"{how} setup step {started.step.name}")
    return _json(
        202, StepStartedModel(connection_id=connection_id, resumed=started.resumed, step=step_model(started.step))
    )


@router.post(
    "/admin/connections/<connection_id>/setup/<step>/skip",
    summary="Skip a setup step (the merchant declines it)",
    tags=["progress"],
    responses=_with(200, _answered("the step, skipped", StepModel)),
)
def skip_setup_step(connection_id: str, step: str) -> StepModel:
    target, caller, _ = tenancy.on_connection(router, connection_id)
    skipped = guided_setup.skip_step(target, connection_id, step)
    audit.record(target, caller, connection_id, "setup/step-skipped", f"skipped setup step {skipped.name}")
    return step_model(skipped)
