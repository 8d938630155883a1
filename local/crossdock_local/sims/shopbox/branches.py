"""Branches (shops) and their cash registers: `GET /branches`, `GET /branches/{uid}`, `GET /cash-registers/{uid}`.

A branch shows `{uid, name, is_closed, address0: {city_name}}` [seen S1] and, Guess, its registers inside it as
`cash_registers: [{uid, name}]` (the sheet names no list of registers; S2 reads one by uid).
"""

from __future__ import annotations

from crossdock_local.sims.base import SimRequest, SimResponse
from crossdock_local.sims.shopbox.paging import listing
from crossdock_local.sims.shopbox.session import Route, Session
from crossdock_local.sims.shopbox.state import ClientState, Record
from crossdock_local.sims.shopbox.wire import not_found, single, uid_param


def new_branch(client: ClientState, uid: int, name: str, city: str | None, is_closed: bool) -> Record:
    branch: Record = {"uid": uid, "name": name, "is_closed": is_closed, "address0": {"city_name": city}}
    client.branches[uid] = branch
    return branch


def new_register(client: ClientState, uid: int, branch: int, name: str) -> Record:
    # Guess: a register read by uid names its branch (S2 reads one; the sheet lists no fields).
    register: Record = {"uid": uid, "name": name, "branch": branch}
    client.registers[uid] = register
    return register


def branch_view(client: ClientState, branch: Record) -> Record:
    registers = [
        {"uid": register["uid"], "name": register["name"]}
        for register in client.registers.values()
        if register["branch"] == branch["uid"]
    ]
    return {**branch, "cash_registers": registers}


def _list(session: Session, request: SimRequest) -> SimResponse:
    client = session.tenant
    rows = [client.branches[uid] for uid in sorted(client.branches)]
    return listing(request, "/branches", rows, session.rules, lambda row: branch_view(client, row))


def _get(session: Session, request: SimRequest, uid: str) -> SimResponse:
    client = session.tenant
    branch = client.branches.get(uid_param(uid, "Branch"))
    if branch is None:
        raise not_found("Branch")
    return single(session.rules, branch_view(client, branch))


def _get_register(session: Session, request: SimRequest, uid: str) -> SimResponse:
    register = session.tenant.registers.get(uid_param(uid, "Cash register"))
    if register is None:
        raise not_found("Cash register")
    return single(session.rules, register)


ROUTES: list[Route] = [
    ("GET", "/branches", _list, "client"),
    ("GET", "/branches/{uid}", _get, "client"),
    ("GET", "/cash-registers/{uid}", _get_register, "client"),
]
