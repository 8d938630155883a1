"""In-memory fakes of the ports the generic flows keep their state through (`ports.EventLog`, `ConnectionRepository`,
`AttemptLog`, `AccountClaims`, `DeliveryLog`, `Secrets`), and a made-up connection kind whose webhook source, routes,
commands and order workflow record what they were handed. The flows' unit tests run against these: no AWS, no
moto, no external system; they prove the flow's own rules.

`registered` puts the made-up kind (and its webhook source) into `crossdock.registry` for one test and takes it out
again, clearing the registry's caches both times so no other test ever sees it.
"""

from __future__ import annotations

import hashlib
import hmac
import sys
import types
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from crossdock import registry
from crossdock.connections.model import Accounts, Connection, ConnectionState, Settings
from crossdock.errors import ExecutionAlreadyExists
from crossdock.integration import CommandHandler, Integration, Route
from crossdock.ports import CommandPorts, Delivery, DispatchPorts, Follower, InboundEvent, Refused, StagePorts
from crossdock.store.attempts import Attempts
from crossdock.store.events import EventStatus
from crossdock.store.outcome import Outcome

KIND = "made_up_pair"
SYSTEM = "made_up_system"  # the webhook source of the made-up kind
OTHER_SYSTEM = "other_system"  # another system the kind hears from
SECRET_NAMES = ("webhook_secret", "webhook_secret_previous")
MODULE = "flow_fakes_registered"  # the module name the registry imports the made-up kind from


class MadeUpSettings(Settings):
    transfer: str = "always"
    warehouse: str = "main"


def connection(
    connection_id: str = "c-1",
    state: ConnectionState = ConnectionState.ACTIVE,
    settings: MadeUpSettings | None = None,
    version: int = 1,
    saved_at: str | None = None,
    kind: str = KIND,
) -> Connection:
    return Connection(
        id=connection_id,
        kind=kind,
        state=state,
        accounts=Accounts(),
        settings=settings or MadeUpSettings(),
        settings_version=version,
        settings_saved_at=saved_at,
    )


# ---- the stores ---------------------------------------------------------------------------------------------------


@dataclass
class StoredEvent:
    event_id: str
    source: str
    topic: str
    payload: str
    status: EventStatus = EventStatus.RECEIVED
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    deliveries: int = 1


@dataclass
class FakeEventLog:
    """`ports.EventLog`: events by (connection, sort key), as the table keeps them (a repeat keeps its status)."""

    events: dict[tuple[str, str], StoredEvent] = field(default_factory=dict)

    def record_received(
        self, connection_id: str, event_id: str, source: str, topic: str, payload: str, received_at: str
    ) -> str:
        sk = f"EVT#{received_at}#{event_id}"
        stored = self.events.get((connection_id, sk))
        if stored is None:
            self.events[(connection_id, sk)] = StoredEvent(event_id, source, topic, payload)
        else:
            stored.deliveries += 1
        return sk

    def finish(self, connection_id: str, sk: str, status: EventStatus, reason: str, **details: Any) -> None:
        stored = self.events.setdefault((connection_id, sk), StoredEvent("?", "?", "?", ""))
        stored.status, stored.reason, stored.details = status, reason, details

    def of(self, connection_id: str) -> list[StoredEvent]:
        return [event for (owner, _), event in self.events.items() if owner == connection_id]

    def only(self, connection_id: str = "c-1") -> StoredEvent:
        (event,) = self.of(connection_id)
        return event


@dataclass
class FakeConnections:
    """`ports.ConnectionRepository`: connections by id and their recorded settings versions; counts the queries
    of versions (the flow should make one only for an event that waited across a save)."""

    connections: dict[str, Connection] = field(default_factory=dict)
    versions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    version_queries: int = 0

    def add(self, stored: Connection) -> Connection:
        self.connections[stored.id] = stored
        return stored

    def load(self, connection_id: str) -> Connection | None:
        return self.connections.get(connection_id)

    def settings_versions(self, connection_id: str) -> list[dict[str, Any]]:
        self.version_queries += 1
        return list(self.versions.get(connection_id, []))


@dataclass
class FakeAttempts:
    """`ports.AttemptLog`: one `Attempts` per (connection, first name). `claimed_by_another` makes the next
    `begin_next` lose its race, as if another dispatcher had claimed the attempt between read and write."""

    attempts: dict[tuple[str, str], Attempts] = field(default_factory=dict)
    claimed_by_another: bool = False

    def current(self, connection_id: str, first_name: str) -> Attempts:
        return self.attempts.get((connection_id, first_name), Attempts(0, None))

    def begin_next(self, connection_id: str, first_name: str, seen: Attempts) -> int | None:
        if self.claimed_by_another or self.current(connection_id, first_name).latest != seen.latest:
            return None
        self.attempts[(connection_id, first_name)] = Attempts(seen.latest + 1, None)
        return seen.latest + 1

    def record_failure(self, connection_id: str, first_name: str, failure_class: str) -> None:
        latest = self.current(connection_id, first_name).latest
        self.attempts[(connection_id, first_name)] = Attempts(latest, failure_class)


@dataclass
class FakeClaims:
    """`ports.AccountClaims`: which connection of a kind claims an account, and which connections exist."""

    claims: dict[tuple[str, str, str], str] = field(default_factory=dict)
    existing: set[str] = field(default_factory=set)
    # (system, account key) → the followers of the account's webhooks
    following: dict[tuple[str, str], list[Follower]] = field(default_factory=dict)

    def claim(self, connection_id: str, account: str, kind: str = KIND, system: str = SYSTEM) -> None:
        self.claims[(kind, system, account)] = connection_id
        self.existing.add(connection_id)

    def connection_exists(self, connection_id: str) -> bool:
        return connection_id in self.existing

    def connection_for_account(self, kind: str, system: str, account: str) -> str | None:
        return self.claims.get((kind, system, account))

    def followers(self, system: str, account_key: str) -> list[Follower]:
        return list(self.following.get((system, account_key), []))


@dataclass
class FakeDeliveries:
    """`ports.DeliveryLog`: deliveries claimed (source, delivery id) → connection, and how often each was repeated."""

    claimed: dict[tuple[str, str], str] = field(default_factory=dict)
    repeats: dict[tuple[str, str], int] = field(default_factory=dict)

    def already_queued(self, source: str, delivery_id: str) -> bool:
        if (source, delivery_id) not in self.claimed:
            return False
        self.repeats[(source, delivery_id)] = self.repeats.get((source, delivery_id), 0) + 1
        return True

    def claim(self, source: str, delivery_id: str, connection_id: str) -> bool:
        if (source, delivery_id) in self.claimed:
            return False
        self.claimed[(source, delivery_id)] = connection_id
        return True


@dataclass
class FakeSecrets:
    """`ports.Secrets` in a dict."""

    values: dict[tuple[str, str], str] = field(default_factory=dict)
    # What a container read earlier and keeps (`SecretStore`'s cache): `get` answers it, `fresh` drops it.
    cached: dict[tuple[str, str], str] = field(default_factory=dict)

    def get(self, connection_id: str, name: str) -> str | None:
        key = (connection_id, name)
        return self.cached[key] if key in self.cached else self.values.get(key)

    def put(self, connection_id: str, name: str, value: str) -> None:
        self.values[(connection_id, name)] = value

    def delete(self, connection_id: str, name: str) -> None:
        self.values.pop((connection_id, name), None)

    def fresh(self, connection_id: str, name: str) -> str | None:
        self.cached.pop((connection_id, name), None)
        return self.values.get((connection_id, name))


# ---- the made-up kind -----------------------------------------------------------------------------------------------


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class MadeUpWebhooks:
    """`ports.WebhookSource` of the made-up system: `X-Topic`, `X-Delivery` (optional), `X-Account` (optional: else
    the address names the connection), `X-Signature` (HMAC-SHA256 of the body with any of the connection's
    webhook secrets); an authentic delivery must name a topic with a slash in it."""

    secret_names = SECRET_NAMES
    account_name = "workspace"
    refusal = "invalid signature"

    def read(self, headers: Mapping[str, str]) -> Delivery:
        lower = {name.lower(): value for name, value in headers.items()}
        if "x-signature" not in lower:
            raise Refused("missing header X-Signature")
        return Delivery(
            topic=lower.get("x-topic", ""),
            delivery_id=lower.get("x-delivery"),
            account=lower.get("x-account"),
            credential=lower["x-signature"],
            event_id=lower.get("x-delivery"),
        )

    def authentic(self, raw_body: bytes, delivery: Delivery, secrets: list[str]) -> bool:
        return any(hmac.compare_digest(sign(raw_body, secret), delivery.credential or "") for secret in secrets)

    def check(self, delivery: Delivery) -> None:
        if "/" not in delivery.topic:
            raise Refused(f"X-Topic {delivery.topic!r} is not a topic")


@dataclass
class Handled:
    """What a route's handler was handed."""

    route: str
    event: InboundEvent
    ports: DispatchPorts


@dataclass
class RecordingRoutes:
    """Handlers for the made-up kind's routes: each records its event and answers with `answer` (or, when
    `start` is set, starts the order's workflow through dispatch's `start_workflow`)."""

    handled: list[Handled] = field(default_factory=list)
    answer: Outcome = field(default_factory=lambda: Outcome.done("handled"))

    def handler(self, route: str) -> Callable[[InboundEvent, DispatchPorts], Outcome]:
        def handle(event: InboundEvent, ports: DispatchPorts) -> Outcome:
            self.handled.append(Handled(route, event, ports))
            return self.answer

        return handle

    def routes(self) -> tuple[Route, ...]:
        return (
            Route(SYSTEM, frozenset({"orders/created", "orders/updated"}), self.handler("orders")),
            Route(OTHER_SYSTEM, frozenset({"stock/changed"}), self.handler("stock")),
            Route(SYSTEM, frozenset({"app/removed"}), self.handler("removed"), any_state=True),
        )

    @property
    def names(self) -> list[str]:
        return [handled.route for handled in self.handled]


@dataclass
class RecordingCommands:
    """The made-up kind's outbound commands: `push_level` records (connection id, command) and says what it did."""

    ran: list[tuple[str, dict[str, Any], CommandPorts]] = field(default_factory=list)

    def push_level(self, connection: Connection, command: dict[str, Any], ports: CommandPorts) -> str:
        self.ran.append((connection.id, command, ports))
        return f"level {command.get('level')} pushed"

    def table(self) -> Mapping[str, CommandHandler]:
        return {"push_level": self.push_level}


Stage = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class RecordingWorkflow:
    """`ports.OrderWorkflow` of the made-up kind: `stages` by name, each taking the context and returning it with
    `next` set (or raising); records every stage run and every `on_failure`."""

    stages: dict[str, Stage] = field(default_factory=dict)
    chain: frozenset[str] = frozenset()
    ran: list[tuple[str, str, str | None]] = field(default_factory=list)  # (stage, connection id, execution)
    failures: list[tuple[dict[str, Any], str, str]] = field(default_factory=list)

    def run(
        self, stage: str, context: dict[str, Any], connection: Connection, ports: StagePorts, execution: str | None
    ) -> dict[str, Any]:
        self.ran.append((stage, connection.id, execution))
        return self.stages[stage](context)

    def chained(self) -> frozenset[str]:
        return self.chain

    def on_failure(self, context: dict[str, Any], reason: str, failure_class: str, table: Any) -> None:
        self.failures.append((context, reason, failure_class))

    @property
    def stage_names(self) -> list[str]:
        return [stage for stage, _, _ in self.ran]


def goes_to(following: str) -> Stage:
    """A stage that succeeds and hands over to `following`."""
    return lambda context: {**context, "next": following}


def raises(error: Exception) -> Stage:
    def stage(context: dict[str, Any]) -> dict[str, Any]:
        raise error

    return stage


@dataclass
class MadeUpKind:
    """The made-up kind as registered: its recorders, and the integration built from them."""

    routes: RecordingRoutes = field(default_factory=RecordingRoutes)
    commands: RecordingCommands = field(default_factory=RecordingCommands)
    workflow: RecordingWorkflow | None = field(default_factory=RecordingWorkflow)
    stock: Any = None  # a `ports.StockSync`, for the stock push's tests

    def integration(self) -> Integration:
        return Integration(
            kind=KIND,
            connection_model=Connection,
            settings_model=MadeUpSettings,
            routes=self.routes.routes(),
            commands=self.commands.table(),
            order_workflow=self.workflow,
            stock=self.stock,
        )


def _clear_registry() -> None:
    registry.integration.cache_clear()
    registry.webhook_source.cache_clear()
    registry._connections.cache_clear()


@contextmanager
def registered(kind: MadeUpKind) -> Iterator[MadeUpKind]:
    """The made-up kind in `crossdock.registry` (and its system as a webhook source) while the block runs."""
    module = types.ModuleType(MODULE)
    module.INTEGRATION = kind.integration()  # type: ignore[attr-defined]
    module.SOURCE = MadeUpWebhooks()  # type: ignore[attr-defined]
    sys.modules[MODULE] = module
    registry.INTEGRATIONS[KIND] = MODULE
    registry.WEBHOOK_SOURCES[SYSTEM] = MODULE
    _clear_registry()
    try:
        yield kind
    finally:
        del registry.INTEGRATIONS[KIND], registry.WEBHOOK_SOURCES[SYSTEM], sys.modules[MODULE]
        _clear_registry()


@dataclass
class Recorded:
    """A fake of something called with arguments: what it was called with, and what it answers."""

    calls: list[tuple[Any, ...]] = field(default_factory=list)
    refuse_repeats: bool = True  # a start of a name already started raises, as Step Functions refuses it

    def start(self, name: str, workflow_input: dict[str, Any]) -> str:
        if self.refuse_repeats and any(call[0] == name for call in self.calls):
            raise ExecutionAlreadyExists(name)
        self.calls.append((name, workflow_input))
        return f"arn:aws:states:eu-west-1:123456789012:execution:order:{name}"

    @property
    def names(self) -> list[str]:
        return [call[0] for call in self.calls]
