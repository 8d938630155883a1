"""What a test, the demo or an operator does in Webshipper outside its API: set up an account (users, carriers, order
channels, shipping rates, drop points), issue an API token, place an order from another channel, ship an order (a
shipment with carrier, tracking number and URL), report a parcel's progress (tracking events), delete a user, expire
tokens, change the rules. Not part of Webshipper.

The functions work on the state through a `Session` (the simulator's Python methods call them under its lock);
the `/_control/...` routes parse a JSON body and call the same functions, so a change made either way follows the
same rules — an order placed or shipped here is validated and announced (webhooks) as one made through the API.
Like the base's `/_control/state` and `/_control/faults` they need no token and see no faults.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from crossdock_local.sims.base import SimRequest, SimResponse, json_response, rules_control
from crossdock_local.sims.webshipper import auth, orders, shipments, tracking
from crossdock_local.sims.webshipper.rules import RulesUpdate
from crossdock_local.sims.webshipper.session import Handler, Session
from crossdock_local.sims.webshipper.state import AccountState, Record, User
from crossdock_local.sims.webshipper.views import document
from crossdock_local.sims.webshipper.wire import body_of, id_param, refuse

ControlRoute = tuple[str, str, Handler]
M = TypeVar("M", bound=BaseModel)
# Guess: how each carrier's tracking page is addressed (the sheet names no carrier URLs).
DEFAULT_TRACKING_URL = "https://tracking.example/{alias}?number={{number}}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserSeed(_Strict):
    email: str = Field(min_length=3, pattern=r"^[^@\s]+@[^@\s]+$")
    password: str = Field(min_length=1)


class CarrierSeed(_Strict):
    name: str = Field(min_length=1)
    alias: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$")
    tracking_url: str | None = None  # `{number}` is replaced by the tracking number
    drop_points: list[dict[str, Any]] = Field(default_factory=list)


class ChannelSeed(_Strict):
    channel_label: str = Field(min_length=1)
    fulfill_automatically: bool = False


class RateSeed(_Strict):
    name: str = Field(min_length=1)
    carrier: str  # a carrier's alias
    channel: str  # an order channel's label
    require_drop_point: bool = False
    is_return: bool = False
    is_hidden: bool = False
    price: float = Field(default=0.0, ge=0)


class AccountSeed(_Strict):
    name: str = Field(min_length=1, max_length=63, pattern=r"^[a-z0-9][a-z0-9-]*$")  # a subdomain
    users: list[UserSeed] = Field(default_factory=list)
    carriers: list[CarrierSeed] = Field(default_factory=list)
    channels: list[ChannelSeed] = Field(default_factory=list)
    rates: list[RateSeed] = Field(default_factory=list)


class ShipSeed(_Strict):
    tracking_number: str | None = Field(default=None, min_length=1)
    tracking_url: str | None = None
    order_line_ids: list[int] | None = None


def seed_account(session: Session, body: Record) -> Record:
    """A new account from `AccountSeed`; answers the ids it made (channels, carriers and rates by name)."""
    seed = _parsed(AccountSeed, body)
    if seed.name in session.state.accounts:
        raise refuse(409, f"account {seed.name} exists", "name")
    account = AccountState(seed.name)
    for user in seed.users:
        add_user(session, account, user.email, user.password)
    carriers = {c.alias: _add_carrier(account, c) for c in seed.carriers}
    channels = {c.channel_label: _add_channel(account, c) for c in seed.channels}
    rates = {}
    for index, rate in enumerate(seed.rates):
        if rate.carrier not in carriers:
            raise refuse(400, f"rates.{index}.carrier names no carrier of the seed", f"rates.{index}.carrier")
        if rate.channel not in channels:
            raise refuse(400, f"rates.{index}.channel names no channel of the seed", f"rates.{index}.channel")
        rates[rate.name] = _add_rate(account, rate, carriers[rate.carrier], channels[rate.channel])
    session.state.accounts[account.name] = account
    return {"account": account.name, "carriers": carriers, "channels": channels, "rates": rates}


def add_user(session: Session, account: AccountState, email: str, password: str) -> User:
    key = email.strip().lower()
    if key in account.users:
        raise refuse(409, f"a user {key} exists", "email")
    session.state.last_user_id += 1
    account.users[key] = User(session.state.last_user_id, key, password)
    return account.users[key]


def delete_user(session: Session, email: str) -> None:
    """The user is deleted in Webshipper: its tokens answer 401 from now on (seed 003)."""
    user = session.account.users.get(email.strip().lower())
    if user is None:
        raise refuse(404, f"user {email} not found", "email")
    user.deleted = True


def api_token(session: Session) -> str:
    """A stored API token for the account (Webshipper's UI issues these); it never expires."""
    return auth.issue(session.state, session.account, "api", None, session.clock, None).value


def expire_tokens(session: Session) -> int:
    """Every password-grant token of the account expires now; API tokens are left alone."""
    expired = 0
    for token in session.state.tokens.values():
        if token.account == session.account_name and token.kind == "oauth" and token.live(session.clock):
            token.expires_at = session.clock
            expired += 1
    return expired


def place_order(session: Session, body: Record) -> Record:
    """An order placed in Webshipper (another channel, a shop Webshipper reads): a JSON:API `orders` document."""
    data = body.get("data")
    if not isinstance(data, dict):
        raise refuse(400, "the body must be a JSON:API document of type orders", "data")
    attributes, relationships = data.get("attributes") or {}, data.get("relationships") or {}
    if not isinstance(attributes, dict) or not isinstance(relationships, dict):
        raise refuse(400, "data.attributes and data.relationships must be objects", "data")
    return document(session, "orders", orders.create(session, attributes, relationships))


def ship(session: Session, order_id: int, body: Record) -> Record:
    """The warehouse books a label in Webshipper: a shipment of the order (its pending lines, or those named)
    with the carrier's tracking number and URL (booked by the simulator unless given)."""
    seed = _parsed(ShipSeed, body)
    attributes: Record = {}
    if seed.tracking_number is not None:
        attributes["tracking_links"] = [{"number": seed.tracking_number, "url": seed.tracking_url}]
    if seed.order_line_ids is not None:
        attributes["order_line_ids"] = seed.order_line_ids
    relationships = {"order": {"data": {"type": "orders", "id": str(order_id)}}}
    return document(session, "shipments", shipments.create(session, attributes, relationships))


def track(session: Session, shipment_id: int, status: str, description: str | None = None) -> Record:
    """The carrier reports on a shipment: a tracking event, announced like Webshipper's own."""
    return document(session, "tracking_events", tracking.track(session, shipment_id, status, description))


class TrackSeed(_Strict):
    status: str
    description: str | None = None


def _add_carrier(account: AccountState, seed: CarrierSeed) -> int:
    record: Record = {
        "_id": account.next_id("carriers"),
        "name": seed.name,
        "alias": seed.alias,
        "_tracking_url": seed.tracking_url or DEFAULT_TRACKING_URL.format(alias=seed.alias),
        "_drop_points": [dict(p) for p in seed.drop_points],
    }
    account.of("carriers")[record["_id"]] = record
    return int(record["_id"])


def _add_channel(account: AccountState, seed: ChannelSeed) -> int:
    # Guess: `sync_status` values; a channel fed by Crossdock's API calls has nothing to sync itself.
    record: Record = {
        "_id": account.next_id("order_channels"),
        "channel_label": seed.channel_label,
        "fulfill_automatically": seed.fulfill_automatically,
        "sync_status": "ok",
    }
    account.of("order_channels")[record["_id"]] = record
    return int(record["_id"])


def _add_rate(account: AccountState, seed: RateSeed, carrier: int, channel: int) -> int:
    record: Record = {
        "_id": account.next_id("shipping_rates"),
        "_carrier": carrier,
        "_order_channel": channel,
        "name": seed.name,
        "carrier_id": carrier,
        "order_channel_id": channel,
        "require_drop_point": seed.require_drop_point,
        "is_return": seed.is_return,
        "is_hidden": seed.is_hidden,
        "price": seed.price,
    }
    account.of("shipping_rates")[record["_id"]] = record
    return int(record["_id"])


def _parsed(model: type[M], body: Record) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as invalid:
        first = invalid.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise refuse(400, f"{where}: {first['msg']}", where) from None


# ---- the HTTP side ------------------------------------------------------------------------------------------------


def _account(session: Session, name: str) -> Session:
    if name not in session.state.accounts:
        raise refuse(404, f"account {name} not found")
    session.account_name = name
    return session


def post_account(session: Session, request: SimRequest) -> SimResponse:
    return json_response(201, seed_account(session, body_of(request)))


def post_api_token(session: Session, request: SimRequest, name: str) -> SimResponse:
    return json_response(201, {"token": api_token(_account(session, name))})


def post_order(session: Session, request: SimRequest, name: str) -> SimResponse:
    return json_response(201, place_order(_account(session, name), body_of(request)))


def post_ship(session: Session, request: SimRequest, name: str, id: str) -> SimResponse:
    order_id = id_param(id, "orders")
    return json_response(201, ship(_account(session, name), order_id, body_of(request)))


def post_track(session: Session, request: SimRequest, name: str, id: str) -> SimResponse:
    seed = _parsed(TrackSeed, body_of(request))
    shipment_id = id_param(id, "shipments")
    return json_response(201, track(_account(session, name), shipment_id, seed.status, seed.description))


def delete_user_route(session: Session, request: SimRequest, name: str, email: str) -> SimResponse:
    delete_user(_account(session, name), email)
    return json_response(204, {})


def post_expire(session: Session, request: SimRequest, name: str) -> SimResponse:
    return json_response(200, {"expired": expire_tokens(_account(session, name))})


def put_rules(session: Session, request: SimRequest) -> SimResponse:
    return rules_control.put_rules(session.rules, RulesUpdate, body_of(request))


ROUTES: tuple[ControlRoute, ...] = (
    ("POST", "/_control/accounts", post_account),
    ("POST", "/_control/accounts/{name}/api-tokens", post_api_token),
    ("POST", "/_control/accounts/{name}/orders", post_order),
    ("POST", "/_control/accounts/{name}/orders/{id}/ship", post_ship),
    ("POST", "/_control/accounts/{name}/shipments/{id}/track", post_track),
    ("DELETE", "/_control/accounts/{name}/users/{email}", delete_user_route),
    ("POST", "/_control/accounts/{name}/expire-tokens", post_expire),
    ("PUT", "/_control/rules", put_rules),
)
