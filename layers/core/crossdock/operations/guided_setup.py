"""A connection's guided setup, as an operator (or the admin API, issue 17) drives it: show every step's progress,
run (confirm) a step, skip one.

The steps and their order are the kind's (`Integration.guided_setup`); this module names no kind. Running a step
claims a new run of it in the table (`store.setup_progress.claim_run`: refused while a run is going) and starts
the guided-setup workflow for that run, named after the connection, the step and the run's number, so a second
start of the same run cannot do the work twice. A failed step run again resumes from the state its last chunk
stored; a step done or skipped before starts from nothing. The steps are offered in order: a step runs once every
step before it is done or skipped.

A run claimed whose workflow never started (the operator's process stopped between the two) is started by the next
`run`; Step Functions refuses the name if it did start after all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from crossdock import registry
from crossdock.connections.model import Connection, ConnectionState
from crossdock.integration import GuidedSetup
from crossdock.operations import stack_access
from crossdock.operations.errors import NotFound, Refused
from crossdock.operations.target import Onboarding, OperatorTarget
from crossdock.store import connections, setup_progress
from crossdock.store.events import received_stamp

NAME_LIMIT = 80  # Step Functions execution names
FINISHED = frozenset({setup_progress.DONE, setup_progress.SKIPPED})


@dataclass(frozen=True)
class StepProgress:
    name: str
    title: str
    optional: bool
    status: str  # pending, running, done, skipped, failed
    done: int = 0
    total: int | None = None  # None while the step has not counted its work
    note: str = ""
    error: str | None = None
    run: int = 0  # how many times the step was started
    started_at: str | None = None
    finished_at: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED or self.status == setup_progress.FAILED


@dataclass(frozen=True)
class SetupProgress:
    connection_id: str
    kind: str
    steps: list[StepProgress] = field(default_factory=list)

    @property
    def next_step(self) -> str | None:
        """The first step neither done nor skipped (None: the setup is complete)."""
        return next((step.name for step in self.steps if step.status not in FINISHED), None)


@dataclass(frozen=True)
class StepStarted:
    connection_id: str
    step: StepProgress
    execution_arn: str
    resumed: bool  # a failed run's state was kept: it goes on from its last chunk


def show_setup(target: OperatorTarget, connection_id: str) -> SetupProgress:
    connection, setup = _setup_of(target, connection_id)
    return _progress(target.table, connection, setup)


def step_progress(target: OperatorTarget, connection_id: str, step: str) -> StepProgress:
    found = show_setup(target, connection_id)
    return next(progress for progress in found.steps if progress.name == _known(found, step))


def run_step(target: OperatorTarget, connection_id: str, step: str) -> StepStarted:
    """Starts a run of `step`; refused while it runs, before the steps ahead of it are done or skipped, or when the
    connection is not active."""
    connection, setup = _setup_of(target, connection_id)
    if connection.state is not ConnectionState.ACTIVE:
        raise Refused(f"connection {connection_id} is {connection.state.value}: its setup runs while it is active")
    progress = _progress(target.table, connection, setup)
    name = _known(progress, step)
    ahead = [found.name for found in progress.steps[: [s.name for s in progress.steps].index(name)]]
    unfinished = [found.name for found in progress.steps if found.name in ahead and found.status not in FINISHED]
    if unfinished:
        raise Refused(
            f"connection {connection_id}: run or skip {', '.join(unfinished)} first (the setup goes in order)"
        )
    stack = target.onboard()
    if stack.guided_setup_state_machine_arn is None:
        raise Refused(f"{target.description} has no GuidedSetupStateMachine: deploy the current template.yaml")
    # The kind's sweeps (peakwms_shopify: `shopify#orders`, `peakwms#orders`) follow the setup: their schedules are
    # made (or kept) as a step is run, and each stream waits for the step it needs (`receive_orders`) itself.
    with stack_access.platform_calls(f"step {name} was not started: making the connection's poll schedules"):
        stack_access.poll_schedules(target).follow(connection)
    current = next(found for found in progress.steps if found.name == name)
    resumed = current.status == setup_progress.FAILED
    try:
        run = setup_progress.claim_run(target.table, connection_id, name, received_stamp(), resume=resumed)
    except setup_progress.StepRunning:
        status = _execution_status(stack, _execution_name(connection_id, name, current.run))
        if status == "RUNNING":
            raise Refused(
                f"connection {connection_id}: step {name} is running (run {current.run}, started "
                f"{current.started_at}); follow it with `setup show`"
            ) from None
        if status is None:
            run = current.run  # claimed, but its workflow never started: start it now
        else:
            # Its workflow ended without recording how (its last task failed too): failed, then resumed.
            cause = f"the workflow of run {current.run} ended {status.lower()} without recording it"
            setup_progress.record_failed(target.table, connection_id, name, current.run, cause, received_stamp())
            run = setup_progress.claim_run(target.table, connection_id, name, received_stamp(), resume=True)
            resumed = True
    arn = _start(stack, connection_id, name, run)
    return StepStarted(connection_id, step_progress(target, connection_id, name), arn, resumed)


def skip_step(target: OperatorTarget, connection_id: str, step: str) -> StepProgress:
    """Marks `step` skipped (the merchant declines it); refused while it runs or once it is done."""
    connection, setup = _setup_of(target, connection_id)
    name = _known(_progress(target.table, connection, setup), step)
    try:
        setup_progress.skip(target.table, connection_id, name, received_stamp())
    except setup_progress.StepRunning:
        raise Refused(f"connection {connection_id}: step {name} is running; it cannot be skipped now") from None
    except ValueError as done:
        raise Refused(f"connection {connection_id}: {done}") from None
    return step_progress(target, connection_id, name)


def _setup_of(target: OperatorTarget, connection_id: str) -> tuple[Connection, GuidedSetup]:
    connection = connections.load_connection(target.table, connection_id)
    if connection is None:
        raise NotFound(f"no connection {connection_id}")
    setup = registry.integration(connection.kind).guided_setup
    if setup is None:
        raise Refused(f"connection {connection_id}: a {connection.kind} connection has no guided setup")
    return connection, setup


def _progress(table: Any, connection: Connection, setup: GuidedSetup) -> SetupProgress:
    stored = setup_progress.load_all(table, connection.id)
    steps = []
    for step in setup.steps:
        found = stored.get(step.name) or {}
        total = found.get("total")
        steps.append(
            StepProgress(
                name=step.name,
                title=step.title,
                optional=step.optional,
                status=str(found.get("status") or setup_progress.PENDING),
                done=int(found.get("done") or 0),
                total=None if total is None else int(total),
                note=str(found.get("note") or ""),
                error=found.get("error"),
                run=int(found.get("run") or 0),
                started_at=found.get("started_at"),
                finished_at=found.get("finished_at"),
            )
        )
    return SetupProgress(connection.id, connection.kind, steps)


def _known(progress: SetupProgress, step: str) -> str:
    names = [found.name for found in progress.steps]
    if step not in names:
        raise NotFound(f"connection {progress.connection_id} has no setup step {step!r}; its steps: {', '.join(names)}")
    return step


def _execution_name(connection_id: str, step: str, run: int) -> str:
    return f"{connection_id}-{step}-{run}"[:NAME_LIMIT]


def _execution_arn(stack: Onboarding, name: str) -> str:
    return str(stack.guided_setup_state_machine_arn).replace(":stateMachine:", ":execution:", 1) + f":{name}"


def _start(stack: Onboarding, connection_id: str, step: str, run: int) -> str:
    sfn = stack.stepfunctions
    name = _execution_name(connection_id, step, run)
    try:
        return str(
            sfn.start_execution(
                stateMachineArn=stack.guided_setup_state_machine_arn,
                name=name,
                input=json.dumps({"connection_id": connection_id, "step": step, "run": run}),
            )["executionArn"]
        )
    except sfn.exceptions.ExecutionAlreadyExists:
        return _execution_arn(stack, name)


def _execution_status(stack: Onboarding, name: str) -> str | None:
    """RUNNING, SUCCEEDED, FAILED … of the run's workflow; None when it was never started."""
    sfn = stack.stepfunctions
    try:
        return str(sfn.describe_execution(executionArn=_execution_arn(stack, name))["status"])
    except sfn.exceptions.ExecutionDoesNotExist:
        return None
