"""What a test, the demo or an operator does in Shopbox outside its API: set up a client (company) with a login,
branches and registers, tags, products and stock; sell at the till; cancel a sale; expire the login tokens; change
the rules. Not part of Shopbox.

The seeding functions work on the state through a `Session` (the simulator's Python methods call them under its
lock); the `/_control/...` routes parse a JSON body and call the same functions, so a change made either way
follows the same rules. Like the base's `/_control/state` and `/_control/faults` they need no token and see no
faults: the simulators only listen on the operator's own machine.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from pydantic import ValidationError

from crossdock_local.sims.base import SimRequest, SimResponse, json_response
from crossdock_local.sims.base.rules_control import field_errors
from crossdock_local.sims.shopbox import auth, baskets, branches, inventories, products, push, tags
from crossdock_local.sims.shopbox.rules import RulesUpdate
from crossdock_local.sims.shopbox.session import Handler, Session
from crossdock_local.sims.shopbox.state import ClientState, Login, Record
from crossdock_local.sims.shopbox.wire import body_of, integer, invalid, not_found, refuse, render, text, uid_param

ControlRoute = tuple[str, str, Handler]


def add_client(session: Session, name: str) -> ClientState:
    client = ClientState(uid=session.next_uid(), name=name)
    session.state.clients[client.uid] = client
    return client


def add_login(
    session: Session,
    username: str,
    password: str,
    clients: list[int],
    *,
    first_name: str = "",
    last_name: str = "",
    lang: str = "da",
) -> Login:
    """A user who may act for `clients`; 409 when the e-mail is taken, 422 for a client that does not exist."""
    key = username.strip().lower()
    if not key or not password:
        raise invalid("username" if not key else "password", "is required")
    if key in session.state.logins:
        raise refuse(409, "username: a login with this username exists", {"username": "is taken"})
    for index, uid in enumerate(clients):
        if uid not in session.state.clients:
            raise invalid(f"clients[{index}]", "is not a client")
    login = Login(session.next_uid(), username.strip(), password, first_name, last_name, lang, list(clients))
    session.state.logins[key] = login
    return login


def grant(session: Session, username: str, client_uid: int) -> None:
    """Let an existing login act for one more client as well."""
    login = _login(session, username)
    if client_uid not in session.state.clients:
        raise invalid("client", "is not a client")
    if client_uid not in login.clients:
        login.clients.append(client_uid)


def revoke(session: Session, username: str, client_uid: int) -> None:
    """The login may no longer act for the client (its next call naming it is 403); its tokens stay valid."""
    login = _login(session, username)
    if client_uid in login.clients:
        login.clients.remove(client_uid)


def set_password(session: Session, username: str, password: str) -> None:
    """The user changes their password in Shopbox: the stored one stops logging in (Guess: tokens already issued
    stay valid until they expire)."""
    if not password:
        raise invalid("password", "is required")
    _login(session, username).password = password


def _login(session: Session, username: str) -> Login:
    login = session.state.logins.get(username.strip().lower())
    if login is None:
        raise not_found("Login")
    return login


def add_branch(
    session: Session, name: str, registers: list[str], *, city: str | None = None, is_closed: bool = False
) -> Record:
    """A branch of the session's client with its cash registers; answers the branch as `GET /branches` shows it."""
    client = session.tenant
    branch = branches.new_branch(client, session.next_uid(), name, city, is_closed)
    for register in registers:
        branches.new_register(client, session.next_uid(), branch["uid"], register)
    return branches.branch_view(client, branch)


def add_tag(session: Session, name: str) -> Record:
    return tags.new_tag(session.tenant, session.next_uid(), name)


def expire_login_tokens(session: Session) -> int:
    """Every login token expires now (as if a day had passed for them); API tokens never expire. Returns how many
    live ones there were."""
    expired = 0
    for token in session.state.tokens.values():
        if token.kind == "login" and token.live(session.clock):
            token.expires_at = session.clock
            expired += 1
    return expired


def set_rules(session: Session, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise refuse(400, "the body must be a JSON object of rules")
    try:
        chosen = RulesUpdate.model_validate(body).model_dump(exclude_none=True)
    except ValidationError as wrong:
        raise refuse(400, "invalid rules", field_errors(wrong)) from None
    for name, value in chosen.items():
        setattr(session.rules, name, value)
    return asdict(session.rules)


# ---- the HTTP side ---------------------------------------------------------------------------------------------


def _for_client(session: Session, raw: Any, name: str = "client") -> Session:
    uid = integer(raw, name)
    client = session.state.clients.get(uid)
    if client is None:
        raise invalid(name, "is not a client")
    session.client = client
    return session


def _strings(raw: Any, name: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise invalid(name, "must be a list")
    return [text(item, f"{name}[{index}]", required=True) or "" for index, item in enumerate(raw)]


def seed_client(session: Session, body: Record) -> Record:
    """`{name, login?: {username, password, first_name?, last_name?}, branches?: [{name, city?, is_closed?,
    cash_registers?: [name]}], tags?: [name]}` → the client's uid, its branches and tags (and the login's uid).
    Everything is checked before anything is written."""
    name = text(body.get("name"), "name", required=True) or ""
    raw_branches = body.get("branches") or []
    if not isinstance(raw_branches, list) or not all(isinstance(b, dict) for b in raw_branches):
        raise invalid("branches", "must be a list of objects")
    tag_names = _strings(body.get("tags"), "tags")
    plans = []
    for index, raw in enumerate(raw_branches):
        closed = raw.get("is_closed", False)
        if not isinstance(closed, bool):
            raise invalid(f"branches[{index}].is_closed", "must be true or false")
        plans.append(
            (
                text(raw.get("name"), f"branches[{index}].name", required=True) or "",
                _strings(raw.get("cash_registers"), f"branches[{index}].cash_registers"),
                text(raw.get("city"), f"branches[{index}].city"),
                closed,
            )
        )
    login_body = body.get("login")
    if login_body is not None and not isinstance(login_body, dict):
        raise invalid("login", "must be an object")
    credentials = None
    if login_body is not None:
        credentials = (
            text(login_body.get("username"), "login.username", required=True) or "",
            text(login_body.get("password"), "login.password", required=True) or "",
            text(login_body.get("first_name"), "login.first_name") or "",
            text(login_body.get("last_name"), "login.last_name") or "",
        )
        if credentials[0].strip().lower() in session.state.logins:
            raise refuse(409, "login.username: a login with this username exists", {"login.username": "is taken"})
    client = add_client(session, name)
    session.client = client
    answer: Record = {
        "uid": client.uid,
        "name": client.name,
        "branches": [add_branch(session, n, regs, city=city, is_closed=closed) for n, regs, city, closed in plans],
        "tags": [add_tag(session, tag) for tag in tag_names],
    }
    if credentials is not None:
        username, password, first_name, last_name = credentials
        login = add_login(session, username, password, [client.uid], first_name=first_name, last_name=last_name)
        answer["login"] = {"uid": login.uid, "username": login.username}
    return answer


def _create_client(session: Session, request: SimRequest) -> SimResponse:
    return json_response(201, seed_client(session, body_of(request)))


def _create_login(session: Session, request: SimRequest) -> SimResponse:
    body = body_of(request)
    raw_clients = body.get("clients") or []
    if not isinstance(raw_clients, list):
        raise invalid("clients", "must be a list")
    login = add_login(
        session,
        text(body.get("username"), "username", required=True) or "",
        text(body.get("password"), "password", required=True) or "",
        [integer(uid, f"clients[{index}]") for index, uid in enumerate(raw_clients)],
        first_name=text(body.get("first_name"), "first_name") or "",
        last_name=text(body.get("last_name"), "last_name") or "",
    )
    return json_response(201, {"uid": login.uid, "username": login.username, "clients": login.clients})


def _create_api_token(session: Session, request: SimRequest, uid: str) -> SimResponse:
    client = _for_client(session, uid_param(uid, "Client")).tenant
    # The one answer that carries a secret: whoever asked for the token needs it (never in the state snapshot).
    return json_response(201, {"api_token": auth.issue_api_token(session.state, client, session.clock).value})


def _upsert_product(session: Session, request: SimRequest, uid: str) -> SimResponse:
    product, created = products.upsert(_for_client(session, uid_param(uid, "Client")), body_of(request))
    return json_response(201 if created else 200, render(product))


def _delete_product(session: Session, request: SimRequest, uid: str, product: str) -> SimResponse:
    client = _for_client(session, uid_param(uid, "Client")).tenant
    try:
        gone = products.delete(client, uid_param(product, "Product"))
    except KeyError:
        raise not_found("Product") from None
    return json_response(200, render(gone))


def _set_stock(session: Session, request: SimRequest, uid: str) -> SimResponse:
    client = _for_client(session, uid_param(uid, "Client")).tenant
    body = body_of(request)
    key = inventories.stock_key(client, body.get("branch"), body.get("product"), body.get("product_variance"))
    row = client.set_stock(key, integer(body.get("quantity"), "quantity"), session.next_uid)
    return json_response(200, render(row))


def _set_push(session: Session, request: SimRequest, uid: str) -> SimResponse:
    client = _for_client(session, uid_param(uid, "Client")).tenant
    push.set_push_url(client, body_of(request).get("url"))
    return json_response(200, {"stock_push": client.push_url is not None})


def _sell(session: Session, request: SimRequest) -> SimResponse:
    body = body_of(request)
    basket = baskets.sell(_for_client(session, body.get("client")), body)
    return json_response(201, baskets.detail_view(session, basket))


def _cancel(session: Session, request: SimRequest, uid: str) -> SimResponse:
    found = session.state.basket(uid_param(uid, "Basket"))
    if found is None:
        raise not_found("Basket")
    client, basket = found
    session.client = client
    return json_response(200, baskets.detail_view(session, baskets.cancel(session, client, basket)))


def _expire_tokens(session: Session, request: SimRequest) -> SimResponse:
    return json_response(200, {"expired": expire_login_tokens(session)})


def _get_rules(session: Session, request: SimRequest) -> SimResponse:
    return json_response(200, asdict(session.rules))


def _put_rules(session: Session, request: SimRequest) -> SimResponse:
    try:
        body = request.json()
    except ValueError:
        raise refuse(400, "the body must be a JSON object of rules") from None
    return json_response(200, set_rules(session, body))


ROUTES: list[ControlRoute] = [
    ("POST", "/_control/clients", _create_client),
    ("POST", "/_control/logins", _create_login),
    ("POST", "/_control/clients/{uid}/api-tokens", _create_api_token),
    ("POST", "/_control/clients/{uid}/products", _upsert_product),
    ("DELETE", "/_control/clients/{uid}/products/{product}", _delete_product),
    ("POST", "/_control/clients/{uid}/stock", _set_stock),
    ("PUT", "/_control/clients/{uid}/stock-push", _set_push),
    ("POST", "/_control/baskets", _sell),
    ("POST", "/_control/baskets/{uid}/cancel", _cancel),
    ("POST", "/_control/tokens/expire", _expire_tokens),
    ("GET", "/_control/rules", _get_rules),
    ("PUT", "/_control/rules", _put_rules),
]
