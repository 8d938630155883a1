"""What an integration tells the rest of Crossdock about itself: one `Integration` per connection kind.

A flow finds the integration of a connection through `crossdock.registry` and then speaks only through this
description: which settings model and connection shape the kind has, which handler an inbound event goes to
(its route table), which outbound commands it runs, and how its order workflow's stages are run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from crossdock.connections.model import Connection, Settings
from crossdock.ports import (
    AccountWebhooks,
    CommandPorts,
    ConnectionSchedules,
    DispatchPorts,
    InboundEvent,
    OrderWorkflow,
    StockSync,
    StreamHandler,
)
from crossdock.store.outcome import Outcome

# An inbound event's handler: the event (with its connection, settings in force) and what dispatch offers.
InboundHandler = Callable[[InboundEvent, DispatchPorts], Outcome]
# An outbound command's handler: returns a one-line summary of what it did, for the log.
CommandHandler = Callable[[Connection, dict[str, Any], CommandPorts], str]


@dataclass(frozen=True)
class Route:
    """Events of `source` with one of `topics` go to `handle`."""

    source: str
    topics: frozenset[str]
    handle: InboundHandler
    # Handled whatever the connection's state (an app's uninstall and privacy requests arrive after it).
    any_state: bool = False


@dataclass(frozen=True)
class InitialSyncDeps:
    """What the initial-sync function offers a kind's steps: the table, the connection's API clients
    (`integrations.clients.ConnectionClients`) and the clock's stamp."""

    table: Any
    clients: Any
    now_text: Callable[[], str]


class InitialSync(Protocol):
    """A kind's one-time initial sync, run by the initial-sync workflow (statemachines/initial_sync.asl.json): its
    steps `start_export` (read the source's catalogue), `check_export` (until it is read) and `import_chunk` (until
    finished), each resumable from the progress it stores (`store.sync_progress`)."""

    # What the operator is told when the sync starts (what it does to the target that cannot be undone).
    warning: str

    def execution_name(self, connection_id: str) -> str: ...

    def chosen(self, connection: Connection) -> bool:
        """Whether the connection's settings ask for the sync (it may still have run already)."""
        ...

    def start(
        self,
        connection: Connection,
        table: Any,
        start_workflow: Callable[[str, dict[str, Any]], str],
        now_text: str,
    ) -> dict[str, Any]:
        """Claims the connection's one sync and starts its workflow; `PermanentError` when the settings did not
        choose one."""
        ...

    def run_step(self, step: str, connection: Connection, deps: InitialSyncDeps) -> dict[str, Any]: ...


@dataclass(frozen=True)
class LifecycleDeps:
    """What an operator's pause, resume or uninstall (`operations.lifecycle`) offers a kind: the table, the
    connection's secrets (`store.secrets.SecretStore`) and API clients (`integrations.clients.ConnectionClients`),
    its poll schedules and the address this stack's webhooks are registered at."""

    table: Any
    secrets: Any
    clients: Any
    schedules: ConnectionSchedules
    webhook_base_url: str


@dataclass(frozen=True)
class WebhooksRemoved:
    """What removing a connection's webhooks did: per system, the topics or events removed; notes for the operator
    (a system that had dropped them already)."""

    by_system: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class Lifecycle(Protocol):
    """How a kind is deactivated and reactivated by an operator. `operations.lifecycle` changes the connection's
    state (conditionally, so a resume never undoes an uninstall that came in between), records the uninstall in the
    event log, and turns a `CrossdockError` of these calls into a refusal naming what was being done."""

    def account_name(self, connection: Connection) -> str:
        """What names the connection to an operator (a shop domain, a Shopbox client)."""
        ...

    def paused(self, connection: Connection, deps: LifecycleDeps) -> list[str]:
        """After the state became `paused`: what else the kind stops; returns lines for the operator."""
        ...

    def resuming(self, connection: Connection, deps: LifecycleDeps) -> list[str]:
        """Before the state becomes `active` again: what the kind restores (a failure leaves it paused)."""
        ...

    def remove_webhooks(self, connection: Connection, deps: LifecycleDeps) -> WebhooksRemoved:
        """The connection's webhooks in every system, removed before an uninstall: a failure stops the uninstall
        before the state changes."""
        ...

    def uninstall(self, connection: Connection, deps: LifecycleDeps, event_sk: str) -> Outcome:
        """State `uninstalled`, the secrets the kind no longer needs deleted, its poll schedules and cursors
        removed; its history (events, mappings, settings versions) stays. `event_sk` is the uninstall's own entry."""
        ...


class ManualSync(Protocol):
    """An operator's sync of one order by its id (`crossdock orders sync <connection> <id>`, `operations.order_sync`):
    what the id may be, whether the order is in both systems already (answered from the table at once, and then
    nothing is sent), and the `crossdock` request the kind's route transfers it on (without duplicates: the route
    looks in the target before it creates)."""

    # What the id is, for the operator ("the Shopbox basket's uid").
    what: str
    # The topic of the request (source `crossdock`) the kind routes to its sync.
    topic: str

    def parse(self, text: str) -> str:
        """The id as the kind keeps it; ValueError naming the problem."""
        ...

    def described(self, key: str) -> str:
        """The order for a person ("Shopbox basket 81", "Webshipper order 1025")."""
        ...

    def already_transferred(self, connection: Connection, key: str, table: Any) -> str | None:
        """What the order is in the other system when it is there already ("Rackbeat order 1021 (done)"), else
        None."""
        ...

    def payload(self, key: str) -> str:
        """The request's payload."""
        ...


class WebhookUpkeep(Protocol):
    """A kind's webhooks in the systems that send them, kept registered: the scheduled self-check
    (`flows.webhook_self_check`) asks each active connection of the kind to re-create what went missing."""

    def check(self, connection: Connection, clients: Any, secrets: Any, webhook_base_url: str, table: Any) -> list[str]:
        """Re-creates the connection's missing webhooks and records an event saying so (only then); returns what it
        re-created as `<system>:<topic>`. `clients` is `integrations.clients.ConnectionClients`, `secrets` the
        connection secrets (`store.secrets.SecretStore`)."""
        ...


@dataclass(frozen=True)
class SetupDeps:
    """What the guided-setup function offers a step: the table, the connection's API clients
    (`integrations.clients.ConnectionClients`) and secrets (`store.secrets.SecretStore`), the clock's stamp and the
    address this stack's webhooks are registered at."""

    table: Any
    clients: Any
    secrets: Any
    now_text: Callable[[], str]
    webhook_base_url: str


@dataclass(frozen=True)
class StepChunk:
    """What one chunk of a setup step did: whether the step is finished, how far it is (`done` of `total`, None
    while not known), the state the next chunk resumes from, and a line for the operator."""

    finished: bool
    done: int
    total: int | None
    state: dict[str, Any]
    note: str = ""


class SetupStep(Protocol):
    """One step of a kind's guided setup. `run_chunk` does at most about a minute of work, starting from `state`
    (what the last chunk returned; `{}` at first) and returns the new state; the runner (`flows.guided_setup`)
    stores it with the progress after every chunk, so a crash resumes from the last chunk stored, and repeats
    chunks until one says `finished`. A chunk may be run again from the same state after a crash: it must not
    create twice what it created before."""

    name: str
    title: str
    optional: bool

    def run_chunk(self, connection: Any, deps: SetupDeps, state: dict[str, Any]) -> StepChunk: ...


@dataclass(frozen=True)
class GuidedSetup:
    """A kind's guided setup: its steps in the order they are offered (`operations.guided_setup`)."""

    steps: tuple[SetupStep, ...]

    def step(self, name: str) -> SetupStep | None:
        return next((step for step in self.steps if step.name == name), None)


@dataclass(frozen=True)
class Choice:
    """One value a setting may take, as the settings document holds it (`value`: a Rackbeat number as an int, an id
    or a name as text), and what a person knows it by (`label`)."""

    value: str | int
    label: str


# The choices of one system's objects, by dotted settings field: `order_channel`, `customer_defaults.layout`. A map
# setting's keys are the field itself (`locations`: which Shopbox branches may be mapped), what goes under any key
# is `<field>.*` (`locations.*`: the Rackbeat locations a branch may map to); a list's items are the field itself.
ChoicesByField = dict[str, list[Choice]]


@dataclass(frozen=True)
class ChoiceSource:
    """One system's part of a kind's setting choices: `read` asks the system (through the connection's API clients,
    `integrations.clients.ConnectionClients`) for the objects its settings name. A `CrossdockError` it raises leaves
    that system's fields without choices; the other sources are still read (`operations.choices`)."""

    system: str
    read: Callable[[Connection, Any], ChoicesByField]


@dataclass(frozen=True)
class SettingChoices:
    """What a kind's settings may name in the live systems, read source by source (`operations.choices`)."""

    sources: tuple[ChoiceSource, ...]


@dataclass(frozen=True)
class Integration:
    kind: str
    connection_model: type[Connection]
    settings_model: type[Settings]
    routes: tuple[Route, ...]
    commands: Mapping[str, CommandHandler] = field(default_factory=dict)
    order_workflow: OrderWorkflow | None = None
    # The streams the poll function reads for a connection of this kind (one schedule each), by stream name.
    poll_streams: Mapping[str, StreamHandler] = field(default_factory=dict)
    # The kind's stock push (`flows.stock_push`): its source and target; None for a kind that pushes no stock.
    stock: StockSync | None = None
    # The kind's one-time initial sync (`functions/initial_sync`, `operations.initial_sync`); None for a kind without.
    initial_sync: InitialSync | None = None
    # How an operator pauses, resumes and uninstalls a connection of the kind; None for a kind that cannot be.
    lifecycle: Lifecycle | None = None
    # An operator's sync of one order by its id; None for a kind without.
    manual_sync: ManualSync | None = None
    # The kind's webhooks kept by the scheduled self-check; None for a kind whose self-check is its own (Shopify's).
    webhooks: WebhookUpkeep | None = None
    # The kind's guided setup (`functions/guided_setup`, `operations.guided_setup`); None for a kind without.
    guided_setup: GuidedSetup | None = None
    # The values the kind's settings fields may take, read live from the systems (`operations.choices`, the admin
    # API's drop-downs); None for a kind whose settings name nothing in another system.
    setting_choices: SettingChoices | None = None
    # The webhooks a connection of the kind hears from an account it shares (its Rackbeat account), registered once
    # per account and fanned out by ingest (issue 18); None for a kind that hears none that way. Stored with the
    # connection item (`store.connections`), which the followers index reads.
    account_webhooks: Callable[[Connection], AccountWebhooks | None] | None = None
    # Anything else a kind keeps for its own functions (install, initial sync …) stays in its package.

    def route(self, source: str, topic: str) -> Route | None:
        for route in self.routes:
            if route.source == source and topic in route.topics:
                return route
        return None
