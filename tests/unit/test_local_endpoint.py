"""The local endpoint in front of the embedded API and the simulators: real HTTP/1.1 with keep-alive, and the
simulators' "answer lost" and "hang" faults as a cut connection."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from crossdock_local.server import LocalEndpoint
from crossdock_local.sims.base import ResponseDropped, ResponseHung, SimRequest, SimResponse, Simulator
from crossdock_local.sims.base.http import json_response


class Echo(Simulator):
    """Answers with what it was asked; `/drop` commits and loses its answer, `/hang` hangs a moment."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[SimRequest] = []
        self.router.add("GET", "/items/{number}", self._item)
        self.router.add("POST", "/drop", self._drop)
        self.router.add("POST", "/hang", self._hang)

    def _item(self, request: SimRequest, number: str) -> SimResponse:
        self.seen.append(request)
        return json_response(200, {"number": number, "query": request.query}, {"X-Echo": "yes"})

    def _drop(self, request: SimRequest) -> SimResponse:
        self.seen.append(request)
        raise ResponseDropped()

    def _hang(self, request: SimRequest) -> SimResponse:
        raise ResponseHung(0.5)


@pytest.fixture
def served() -> Iterator[tuple[str, Echo, list[tuple[str, str]]]]:
    sim = Echo()
    api_calls: list[tuple[str, str]] = []

    def api(
        method: str, path: str, headers: dict[str, str], body: bytes, query: dict[str, list[str]]
    ) -> tuple[int, dict[str, str], bytes]:
        api_calls.append((method, path))
        return 202, {"content-type": "application/json"}, b'{"accepted": true}'

    endpoint = LocalEndpoint(api, {"echo": (sim, "/api")})
    base_url = endpoint.start()
    try:
        yield base_url, sim, api_calls
    finally:
        endpoint.stop()


def _client_port(response: httpx.Response) -> int:
    return int(response.extensions["network_stream"].get_extra_info("client_addr")[1])


def test_a_client_sends_its_calls_over_one_kept_alive_connection(
    served: tuple[str, Echo, list[tuple[str, str]]],
) -> None:
    """GIVEN one httpx client, WHEN it calls a simulator three times and the API once, THEN every answer is the
    right one and all four came over the same connection (no connect, no server thread per call)."""
    base_url, sim, api_calls = served
    with httpx.Client(base_url=base_url, timeout=5) as client:
        answers = [client.get(f"/_sim/echo/api/items/A{n}", params={"page": str(n)}) for n in range(3)]
        webhook = client.post("/webhooks/echo", content=b"{}")
        ports = {_client_port(response) for response in [*answers, webhook]}
    assert [a.json() for a in answers] == [{"number": f"A{n}", "query": {"page": [str(n)]}} for n in range(3)]
    assert all(a.headers["x-echo"] == "yes" for a in answers)
    assert webhook.status_code == 202 and api_calls == [("POST", "/webhooks/echo")]
    assert len(ports) == 1
    assert [request.path for request in sim.seen] == ["/items/A0", "/items/A1", "/items/A2"]


def test_a_simulator_sees_its_path_parameters_still_encoded_and_the_api_sees_them_decoded(
    served: tuple[str, Echo, list[tuple[str, str]]],
) -> None:
    """GIVEN an item number holding a slash, WHEN it is sent encoded, THEN the simulator's route still matches it
    (the simulator decodes its own parameters, as through the in-process transport), while API Gateway's path is
    decoded."""
    base_url, _, api_calls = served
    with httpx.Client(base_url=base_url, timeout=5) as client:
        item = client.get("/_sim/echo/api/items/ABC%2F123")
        client.post("/webhooks/a%20b", content=b"{}")
    assert item.json()["number"] == "ABC%2F123"
    assert api_calls == [("POST", "/webhooks/a b")]


def test_a_lost_answer_cuts_the_connection_after_the_write_and_the_next_call_gets_a_new_one(
    served: tuple[str, Echo, list[tuple[str, str]]],
) -> None:
    """GIVEN a write whose answer the simulator loses, WHEN a client sends it, THEN the write reached the simulator,
    the client sees a broken connection (not an answer), and its next call is answered on a fresh connection."""
    base_url, sim, _ = served
    with httpx.Client(base_url=base_url, timeout=5) as client:
        before = client.get("/_sim/echo/api/items/A")
        first_port = _client_port(before)
        with pytest.raises(httpx.TransportError):
            client.post("/_sim/echo/api/drop", json={"n": 1})
        after = client.get("/_sim/echo/api/items/B")
        second_port = _client_port(after)
    assert [request.path for request in sim.seen] == ["/items/A", "/drop", "/items/B"]
    assert sim.seen[1].body == b'{"n":1}'
    assert after.status_code == 200 and second_port != first_port


def test_a_hung_request_runs_into_the_clients_read_timeout(served: tuple[str, Echo, list[tuple[str, str]]]) -> None:
    """GIVEN a request the simulator hangs on, WHEN the client's read timeout is shorter than the hang, THEN the
    client times out rather than being answered."""
    base_url, _, _ = served
    with httpx.Client(base_url=base_url, timeout=httpx.Timeout(5, read=0.1)) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.post("/_sim/echo/api/hang", json={})
        assert client.get("/_sim/echo/api/items/C").status_code == 200


def test_an_unknown_simulator_is_404(served: tuple[str, Echo, list[tuple[str, str]]]) -> None:
    base_url, _, _ = served
    answer = httpx.get(f"{base_url}/_sim/nobody/api/items/A", timeout=5)
    assert answer.status_code == 404 and answer.json() == {"message": "no such simulator"}


def test_a_simulators_control_api_is_reached_beside_its_platform_api(
    served: tuple[str, Echo, list[tuple[str, str]]],
) -> None:
    # GIVEN a simulator whose platform API lives under /api
    base_url, sim, _ = served
    with httpx.Client(base_url=base_url) as client:
        # WHEN its control API is asked, beside that root, and a platform path outside the root
        state = client.get("/_sim/echo/_control/state")
        outside = client.get("/_sim/echo/items/1")
    # THEN the control API answers with the simulator's snapshot, and the path outside the root is not the simulator's
    assert state.status_code == 200 and state.json()["system"] == sim.snapshot()["system"]
    assert outside.status_code == 404


def test_an_aws_service_is_served_below_its_prefix_and_an_unknown_one_is_404() -> None:
    # GIVEN an endpoint serving one AWS service (as the stack serves Cognito's API for the console's sign-in)
    calls: list[tuple[str, str, str, bytes]] = []

    def cognito(
        method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        calls.append((method, path, query, body))
        return 200, {"Content-Type": "application/x-amz-json-1.1"}, b'{"AuthenticationResult": {}}'

    endpoint = LocalEndpoint(lambda *_: (500, {}, b""), {}, {"cognito-idp": cognito})
    base_url = endpoint.start()
    try:
        # WHEN a client calls its API at the root, then a path below it, then a service that is not served
        api = httpx.post(f"{base_url}/_aws/cognito-idp/", content=b'{"AuthFlow": "USER_PASSWORD_AUTH"}')
        jwks = httpx.get(f"{base_url}/_aws/cognito-idp/eu-west-1_pool/.well-known/jwks.json?x=1")
        other = httpx.get(f"{base_url}/_aws/sts/")
    finally:
        endpoint.stop()
    # THEN the service got each path below its prefix with the query as sent; the unknown one is a 404
    assert api.status_code == 200 and api.json() == {"AuthenticationResult": {}} and jwks.status_code == 200
    assert calls == [
        ("POST", "/", "", b'{"AuthFlow": "USER_PASSWORD_AUTH"}'),
        ("GET", "/eu-west-1_pool/.well-known/jwks.json", "x=1", b""),
    ]
    assert other.status_code == 404
