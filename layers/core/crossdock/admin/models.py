"""The admin API's own request and response models. Where an operation returns a dataclass the route answers with
that dataclass itself (`ConnectionDetail`, `SettingsSaved`, `RetryResult` …): pydantic reads stdlib dataclasses,
so the document and the answer mirror the operation with nothing copied; these are what has no dataclass yet."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from crossdock.operations.connections import ConnectionDetail
from crossdock.operations.events import EventRow


class Me(BaseModel):
    user: str
    email: str | None
    operator: bool
    tenant: str | None


class ConnectionHealth(BaseModel):
    connection_id: str
    kind: str
    account: str = Field(description="what names the connection: its shop, else its first account")
    state: str
    state_since: str | None
    tenant: str | None
    settings_version: int
    last_event: EventRow | None
    needs_attention: int = Field(description="events waiting for a person")


class ConnectionList(BaseModel):
    connections: list[ConnectionHealth]


class ConnectionShown(BaseModel):
    tenant: str | None
    connection: ConnectionDetail


class SettingsVersion(BaseModel):
    version: int
    saved_at: str | None
    saved_by: str | None


class SettingsShown(BaseModel):
    connection_id: str
    kind: str
    state: str
    version: int
    saved_at: str | None
    saved_by: str | None = Field(description="who saved this version through the admin API; None: the CLI or a flow")
    settings: dict[str, Any]
    settings_schema: dict[str, Any] = Field(alias="schema", description="the kind's settings model (JSON Schema)")
    history: list[SettingsVersion]

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class SettingsSave(BaseModel):
    """A save, based on the version the caller read: a save based on another is refused (409)."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, description="the settings version this save is based on")
    settings: dict[str, Any] = Field(description="the whole settings document of the connection's kind")


class TenantChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str | None = Field(min_length=1, max_length=64, description="None: the connection belongs to no tenant")


class OrderSyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(min_length=1, max_length=200, description="the order's id in its source system")


class EventList(BaseModel):
    events: list[EventRow]
    cursor: str | None = Field(description="give it back as `cursor` for the next (older) page; None: no more")


class RedriveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    queue: str = Field(min_length=1, max_length=100, description="the dead-letter queue's name, e.g. inbound")
    limit: int | None = Field(default=None, ge=1, le=1000, description="at most this many; default: all it holds now")
