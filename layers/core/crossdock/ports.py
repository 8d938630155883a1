"""The ports flows are written against: what a flow needs from the integration of a connection, and what it offers
to the integration's handlers. Plain Protocols and value types, so flows and their unit tests need no system, and
an integration's handlers need no flow."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # ingest imports this module on its cold start: no pydantic, no Powertools
    from crossdock.connections.model import Connection
    from crossdock.model.product import StockLevel
    from crossdock.store.attempts import Attempts
    from crossdock.store.events import EventStatus
    from crossdock.store.outcome import Outcome
    from crossdock.store.stock import DirtyItem

StartWorkflow = Callable[[str, dict[str, Any]], str]  # (execution name, input) → execution ARN
WorkflowStatus = Callable[[str], str | None]  # execution name → RUNNING, SUCCEEDED, FAILED, … or None (never started)
# (target system, message, message group, deduplication id): a command to the system's outbound (FIFO) queue.
SendOutbound = Callable[[str, dict[str, Any], str, str], None]


class Secrets(Protocol):
    """A connection's secrets (`store.secrets.SecretStore`)."""

    def get(self, connection_id: str, name: str) -> str | None: ...

    def put(self, connection_id: str, name: str, value: str) -> None: ...

    def delete(self, connection_id: str, name: str) -> None: ...

    def fresh(self, connection_id: str, name: str) -> str | None:
        """The secret as stored now, not as this container last read it (another container may have replaced it)."""
        ...


class Leases(Protocol):
    """Single-flight across containers (`store.leases.TableLeases`): a named lease with one holder at a time."""

    def claim(self, name: str, holder: str, now: float, seconds: float) -> bool:
        """True when `holder` holds the lease until `now + seconds` (it was free, released, lapsed, or its own)."""
        ...

    def release(self, name: str, holder: str) -> None:
        """Ends `holder`'s lease early; a lease another holder took over meanwhile is left alone."""
        ...


# ---- what flows keep: the table's repositories are in `store` (`store.repositories`, and for ingest
# `store.connection_lookup` and `store.deliveries`); a flow's deps take these, so its unit tests keep them in dicts.


class EventLog(Protocol):
    """The connections' event log (`store.events`): every inbound event is recorded, then ends with a reason."""

    def record_received(
        self, connection_id: str, event_id: str, source: str, topic: str, payload: str, received_at: str
    ) -> str:
        """Records the event as `received` (a repeat keeps the status it has) and returns its sort key."""
        ...

    def finish(self, connection_id: str, sk: str, status: EventStatus, reason: str, **details: Any) -> None:
        """Ends the event with `status` and `reason` (`details`: its `failure_class` …), and counts it."""
        ...


class ConnectionRepository(Protocol):
    """Connections as flows read them (`store.connections`)."""

    def load(self, connection_id: str) -> Connection | None: ...

    def settings_versions(self, connection_id: str) -> list[dict[str, Any]]:
        """Every recorded settings version, oldest first: `version`, `saved_at`, and the `settings` then in force."""
        ...


class AttemptLog(Protocol):
    """Attempts of a named workflow (`store.attempts`), kept under the name of its first attempt."""

    def current(self, connection_id: str, first_name: str) -> Attempts: ...

    def begin_next(self, connection_id: str, first_name: str, seen: Attempts) -> int | None:
        """Claims attempt `seen.latest + 1`; None when someone else claimed it after `seen` was read."""
        ...

    def record_failure(self, connection_id: str, first_name: str, failure_class: str) -> None: ...


@dataclass(frozen=True)
class AccountWebhooks:
    """The webhooks a connection hears from an account it shares with other connections (its Rackbeat account):
    registered once per account and event, to an address that names the account (`account_key`), and fanned out by
    ingest to every active follower whose `events` include the delivery's (issue 18)."""

    system: str
    account_key: str
    events: tuple[str, ...]


@dataclass(frozen=True)
class Follower:
    """A connection that follows an account's webhooks, as the followers index shows it (`store.connection_lookup`)."""

    connection_id: str
    kind: str
    state: str
    events: frozenset[str]


class AccountClaims(Protocol):
    """Which connection a webhook is for, without loading one (`store.connection_lookup`): all ingest asks."""

    def connection_exists(self, connection_id: str) -> bool: ...

    def connection_for_account(self, kind: str, system: str, account: str) -> str | None: ...

    def followers(self, system: str, account_key: str) -> list[Follower]:
        """Every connection, whatever its state, that follows the account's webhooks (`AccountWebhooks`)."""
        ...


class DeliveryLog(Protocol):
    """Webhook deliveries already queued (`store.deliveries`): a sender's repeat is queued once."""

    def already_queued(self, source: str, delivery_id: str) -> bool: ...

    def claim(self, source: str, delivery_id: str, connection_id: str) -> bool:
        """Marks the delivery queued: True the first time, False for a repeat."""
        ...


class WebhookSource(Protocol):
    """How one system's webhooks are recognised before they are queued (ingest): no call out, no pydantic.

    A delivery names either its account (a shop domain in a header: ingest finds the connection of the route's kind
    that claims it) or nothing (the webhook's address names the connection)."""

    secret_names: tuple[str, ...]  # the connection's secrets that authenticate a delivery
    account_name: str  # what the system calls the account a delivery names ("shop"), for a 404's message
    refusal: str  # the 401's message

    def read(self, headers: Mapping[str, str]) -> Delivery:
        """The delivery's headers; raises `Refused` naming a header that must be there before authentication."""
        ...

    def authentic(self, raw_body: bytes, delivery: Delivery, secrets: list[str]) -> bool: ...

    def check(self, delivery: Delivery) -> None:
        """Raises `Refused` for what is wrong with an authentic delivery (told only to whoever could sign it)."""
        ...


@runtime_checkable
class IdentifiedByBody(Protocol):
    """A `WebhookSource` whose deliveries carry no id in their headers (Webshipper's): ingest asks it for the id
    once the delivery is authentic and its body is a JSON object, so repeats are still queued once."""

    def identify(self, body: Mapping[str, Any], delivery: Delivery, connection_id: str) -> Delivery:
        """`delivery` with `delivery_id` (and `event_id`) from the signed body; raises `Refused` when the body
        lacks what names it."""
        ...


@runtime_checkable
class ReadFromAddress(Protocol):
    """A `WebhookSource` whose deliveries say nothing in their headers (PeakWMS's): the address it registered says
    it instead — the event in the path, the credential in the query (`/webhooks/peakwms/{connection}/{event}?key=`).
    Ingest hands it the address's parameters in place of asking `read`."""

    def read_address(self, headers: Mapping[str, str], address: Mapping[str, str]) -> Delivery:
        """The delivery from its address (`address`: the path's parameters other than the connection, and the
        query's); raises `UnknownAddress` for an address nothing is registered at, `Refused` for a bad one."""
        ...


@dataclass(frozen=True)
class Delivery:
    """What ingest reads from a webhook's headers (or, for an `IdentifiedByBody` source, its body)."""

    topic: str
    # The sender's delivery id (None when the system sends none: then nothing is deduplicated, see the source).
    delivery_id: str | None
    # The account the system names (a shop domain …), when it names one.
    account: str | None
    # The credential the request carries (a signature or a token), checked by `authentic`.
    credential: str | None
    # The event's id in the log (the sender's, where it sends one; else one is made up).
    event_id: str | None = None


class Refused(ValueError):
    """A webhook that cannot be read: a 400 naming what is missing."""


class UnknownAddress(Refused):
    """A webhook sent to an address that does not exist (an event nobody registers): a 404."""


@dataclass(frozen=True)
class InboundEvent:
    """An event from the inbound queue, recorded in the event log (`sk`) and ready for its handler."""

    connection: Connection
    source: str
    topic: str
    payload: str
    sk: str
    received_at: str
    # Who asked for a second look (`operator`, `reconciliation`), None for a first delivery.
    redrive: str | None = None
    # When ingest heard the delivery (epoch seconds on the stack's clock), for one fanned out to an account's
    # followers: the change it reports happened before, which lets the followers' stock pushes share a read that
    # started after it (`store.stock`, `flows.stock_push`); None otherwise.
    heard_at: float | None = None


class DispatchPorts(Protocol):
    """What dispatch offers an inbound event's handler."""

    @property
    def table(self) -> Any: ...
    @property
    def secrets(self) -> Secrets | None: ...
    @property
    def clients(self) -> Any: ...  # the connection's API clients (`crossdock.integrations.clients.ConnectionClients`)
    @property
    def send_outbound(self) -> SendOutbound | None: ...
    @property
    def now(self) -> Callable[[], float]: ...
    @property
    def schedules(self) -> Any: ...  # the connection's poll schedules, or None where nothing follows them

    def start_workflow(
        self, connection_id: str, name: str, workflow_input: dict[str, Any], repeat: str, redrive: str | None
    ) -> Outcome:
        """Starts the named workflow (a repeat is refused by Step Functions: skipped with `repeat` as reason); a
        redrive starts the next attempt only when the latest one ended without a result."""
        ...


class CommandPorts(Protocol):
    """What the outbound (push) function offers a command's handler."""

    @property
    def table(self) -> Any: ...
    @property
    def clients(self) -> Any: ...
    @property
    def now(self) -> Callable[[], float]: ...
    @property
    def sleep(self) -> Callable[[float], None]: ...
    @property
    def seconds_left(self) -> Callable[[], float]: ...
    @property
    def request_stock_push(self) -> Callable[[str], None]: ...
    @property
    def continue_stock_push(self) -> Callable[[str], None]: ...
    @property
    def marks(self) -> StockMarks: ...


@dataclass
class StockPushReport:
    """What one stock push did: levels set, levels already right, mutations sent, and what it could not set."""

    pushed: int = 0
    unchanged: int = 0
    mutations: int = 0
    waiting: int = 0
    problems: list[str] = field(default_factory=list)
    more: bool = False

    def summary(self) -> str:
        text = f"{self.pushed} set, {self.unchanged} already right, {self.mutations} mutations"
        if self.waiting:
            text += f", {self.waiting} waiting for the burst to settle"
        return text


class StockMarks(Protocol):
    """Items whose stock changed and wait for a push (`store.stock`), oldest change first."""

    def dirty(self, connection_id: str) -> list[DirtyItem]: ...

    def clear(self, connection_id: str, item: DirtyItem) -> bool:
        """Drops the mark unless the item changed again meanwhile (it then waits for the next push)."""
        ...


class StockSource(Protocol):
    """The stock master of a kind (an ERP): the absolute quantity of an item, read when the push runs."""

    @property
    def missing(self) -> str:
        """Why an item without a quantity is not pushed (a problem line after its number)."""
        ...

    def quantity(self, number: str) -> int | None:
        """The quantity to show, or None when the item is gone or keeps no stock."""
        ...


class StockTarget(Protocol):
    """Where a kind's stock goes (a shop, a POS branch): sets absolute levels, a batch at a time."""

    @property
    def batch_size(self) -> int: ...

    def set_levels(self, wanted: dict[str, StockLevel], report: StockPushReport) -> None:
        """Sets every level that differs (counting into `report`, problems included)."""
        ...


class StockSync(Protocol):
    """A kind's stock push (`flows.stock_push`): whether it is on, and its source and target for a connection."""

    def enabled(self, connection: Connection) -> bool: ...

    def endpoints(self, connection: Connection, clients: Any) -> tuple[StockSource, StockTarget]: ...


class OrderWorkflow(Protocol):
    """The stages of a kind's order workflow (transfer → book → ship → invoice …, credit notes, cancellations)."""

    def run(
        self, stage: str, context: dict[str, Any], connection: Connection, ports: StagePorts, execution: str | None
    ) -> dict[str, Any]:
        """Runs one stage and returns the context with `next` set (the following stage, or `done`)."""
        ...

    def chained(self) -> frozenset[str]:
        """Stages that may follow one another within one invocation."""
        ...

    def on_failure(self, context: dict[str, Any], reason: str, failure_class: str, table: Any) -> None:
        """Bookkeeping of the kind after a workflow failed for good (its mappings); the event is already recorded."""
        ...


class StagePorts(Protocol):
    @property
    def table(self) -> Any: ...
    @property
    def clients(self) -> Any: ...
    @property
    def workflow_status(self) -> WorkflowStatus: ...


# ---- polling (flows/poll.py) --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamSchedule:
    """How often a stream is polled for one connection: an EventBridge Scheduler expression (`rate(15 minutes)`)."""

    expression: str
    description: str

    @staticmethod
    def every(minutes: int, description: str) -> StreamSchedule:
        return StreamSchedule(f"rate({minutes} minute{'s' if minutes != 1 else ''})", description)


@dataclass(frozen=True)
class PollEvent:
    """What a run found worth an entry in the connection's event log (recorded `done` once its messages are
    queued)."""

    topic: str
    reason: str
    payload: str


@dataclass
class PollResult:
    """What one run of a stream found: the inbound messages to queue, and the position to save once every one of
    them is queued (the next run starts there, less the stream's overlap)."""

    messages: list[dict[str, Any]]
    position: str
    # What the run looked at and found, returned by the poll function and logged (the stream's own keys).
    report: dict[str, Any] = field(default_factory=dict)
    event: PollEvent | None = None


class PollPorts(Protocol):
    """What the poll flow offers a stream's handler."""

    @property
    def table(self) -> Any: ...

    @property
    def clients(self) -> Any:
        """The connection's API clients (`crossdock.integrations.clients.ConnectionClients`)."""
        ...

    @property
    def now(self) -> Callable[[], float]: ...

    @property
    def seconds_left(self) -> Callable[[], float]:
        """Lambda time left: a handler stops reading before it runs out."""
        ...


class StreamHandler(Protocol):
    """One stream a connection kind polls on a schedule (reconciliation sweeps, a system without webhooks …).

    Positions are the stream's own text. A stream with an overlap keeps times (ISO 8601 UTC, `…T12:00:00Z`): the
    flow hands the handler `since` = position − overlap and `until` = the run's start. A stream without one keeps
    anything else (a page offset): `since` is the saved position as it is. `since` is None on a first run (no cursor
    yet: just activated, re-installed or re-enabled), and the handler chooses where to begin."""

    def schedule(self, connection: Connection) -> StreamSchedule | None:
        """The stream's schedule for this connection; None when its settings switch the stream off."""
        ...

    def overlap(self, connection: Connection) -> float | None:
        """Seconds a run reaches back behind the cursor, for sources whose listings are eventually consistent (an
        update indexed only after the last run looked); None: positions are not times."""
        ...

    def poll(self, connection: Connection, since: str | None, until: str, ports: PollPorts) -> PollResult:
        """Reads what changed in [since, until) and returns the messages that get it handled. It queues nothing
        and saves no cursor itself; raising a `CrossdockError` leaves the cursor where it was."""
        ...


class ConnectionSchedules(Protocol):
    """A connection's poll schedules, one per stream of its kind (`flows.poll_schedules.PollSchedules`)."""

    def follow(self, connection: Connection, *, activating: bool = False) -> dict[str, str]:
        """Each stream's schedule as the connection's state and settings say (after an activation: from scratch)."""
        ...

    def stop(self, connection: Connection) -> bool:
        """Removes every schedule of the connection and forgets its cursors."""
        ...

    def suspend(self, connection: Connection) -> bool:
        """Removes every schedule of the connection and keeps its cursors: `follow` later catches up from them."""
        ...
