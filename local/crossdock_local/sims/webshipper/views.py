"""Resource objects as Webshipper shows them: `type`, string `id`, `attributes`, `relationships`, `links`.

Seen W3: relationships hold only `links{self,related}` (a client follows `related`); with
`rules.relationship_data` they carry the `data` linkage too. The related link of a to-one relationship is the
related resource's own URL, of a to-many one the nested list (`/orders/{id}/shipments`), so every link the
simulator hands out is one of its routes.
"""

from __future__ import annotations

from dataclasses import dataclass

from crossdock_local.sims.webshipper.session import Session
from crossdock_local.sims.webshipper.state import Record
from crossdock_local.sims.webshipper.wire import render


@dataclass(frozen=True)
class ToOne:
    name: str
    kind: str
    key: str  # the record's private key holding the related id


@dataclass(frozen=True)
class ToMany:
    name: str
    kind: str
    key: str  # the related records' private key holding this record's id


RELATIONSHIPS: dict[str, tuple[ToOne | ToMany, ...]] = {
    "orders": (
        ToOne("order_channel", "order_channels", "_order_channel"),
        ToOne("shipping_rate", "shipping_rates", "_shipping_rate"),
        ToMany("shipments", "shipments", "_order"),
    ),
    "shipments": (ToOne("order", "orders", "_order"), ToOne("carrier", "carriers", "_carrier")),
    "shipping_rates": (
        ToOne("carrier", "carriers", "_carrier"),
        ToOne("order_channel", "order_channels", "_order_channel"),
    ),
    "order_channels": (ToMany("shipping_rates", "shipping_rates", "_order_channel"),),
    "tracking_events": (ToOne("shipment", "shipments", "shipment_id"),),
    "carriers": (),
    "webhooks": (),
    "oauth_access_tokens": (),
}


def resource(session: Session, kind: str, record: Record) -> Record:
    own = f"{session.base}/{kind}/{record['_id']}"
    shown: Record = {"type": kind, "id": str(record["_id"]), "attributes": render(record), "links": {"self": own}}
    relationships = {spec.name: _relationship(session, own, spec, record) for spec in RELATIONSHIPS.get(kind, ())}
    if relationships:
        shown["relationships"] = relationships
    return shown


def document(session: Session, kind: str, record: Record) -> Record:
    return {"data": resource(session, kind, record)}


def linkage(session: Session, kind: str, record: Record, name: str) -> Record | None:
    """`GET /<kind>/{id}/relationships/<name>`: the linkage alone; None when `kind` has no such relationship."""
    for spec in RELATIONSHIPS.get(kind, ()):
        if spec.name != name:
            continue
        if isinstance(spec, ToOne):
            return {"data": _identifier(spec.kind, record.get(spec.key))}
        rows = _to_many(session, record, spec)
        return {"data": [_identifier(spec.kind, row["_id"]) for row in rows]}
    return None


def _relationship(session: Session, own: str, spec: ToOne | ToMany, record: Record) -> Record:
    links = {"self": f"{own}/relationships/{spec.name}"}
    if isinstance(spec, ToOne):
        related = record.get(spec.key)
        if related is not None:
            links["related"] = f"{session.base}/{spec.kind}/{related}"
        shown: Record = {"links": links}
        if session.rules.relationship_data:
            shown["data"] = _identifier(spec.kind, related)
        return shown
    links["related"] = f"{own}/{spec.name}"
    shown = {"links": links}
    if session.rules.relationship_data:
        shown["data"] = [_identifier(spec.kind, row["_id"]) for row in _to_many(session, record, spec)]
    return shown


def _to_many(session: Session, record: Record, spec: ToMany) -> list[Record]:
    rows = session.account.of(spec.kind).values()
    return sorted((row for row in rows if row.get(spec.key) == record["_id"]), key=lambda row: int(row["_id"]))


def _identifier(kind: str, related: object) -> Record | None:
    return None if related is None else {"type": kind, "id": str(related)}
