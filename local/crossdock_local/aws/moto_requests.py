"""The WSGI environ of each request moto handles, written directly instead of through Werkzeug's `EnvironBuilder`.

moto 5.2 turns every botocore request it intercepts into a Werkzeug request (`Request.from_primitives`) by way of
`Request.from_values`, i.e. Werkzeug's test `EnvironBuilder`: a builder object with a dozen properties reflected
to and from a `Headers` copy, form and file detection, and a second copy of the headers when the environ is
built — about 5 % of the busy time of a chaos run (issue 12's third profile), on every AWS call.

For what botocore sends (a method, a URL, headers, and a body of bytes, text or nothing) the environ is built here
key by key, in the order and with the values `EnvironBuilder.get_environ` gives them (Werkzeug 3.1: the same
`iri_to_uri` and WSGI encoding of the path, the server name and port from the URL, the body's length as
`CONTENT_LENGTH`, an empty form body for an empty url-encoded request, repeated headers joined with ", "), and then
`from_primitives`' own additions. A multipart request without a body, or a body of any other kind (a stream, an
`AwsChunkedWrapper`), goes to moto's own path. `tests/component/test_moto_requests.py` holds the environ and the
request equal to moto's for the requests the stack sends, and moto's answers through the API the same.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import ExitStack
from io import BytesIO
from typing import Any
from unittest import mock
from urllib.parse import unquote, urlparse, urlsplit

from moto.core.request import (
    PRESERVED_HEADER_NAMES_ENVIRON_KEY,
    Request,
    environ_key_for_header,
    should_preserve_original_header_name,
)
from werkzeug._internal import _wsgi_encoding_dance
from werkzeug.urls import iri_to_uri

FromPrimitives = Callable[..., Any]


def _first(headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def wsgi_environ(method: str, url: str, headers: Any, body: Any) -> tuple[dict[str, Any], list[tuple[str, str]]] | None:
    """The environ `EnvironBuilder` builds for this request and the headers it was given, or None where moto must
    build it itself."""
    if body is None:
        data = b""
    elif isinstance(body, bytes):
        data = body
    elif isinstance(body, str):
        data = body.encode()
    else:
        return None
    header_items = [
        (key, value.decode("utf-8") if isinstance(value, bytes) else value)
        for key, value in headers.items()
        if key.lower() not in ["transfer-encoding"]
    ]
    parsed_url = urlparse(url)
    path = parsed_url.path
    scheme, host, script_root, _, _ = urlsplit(iri_to_uri(f"{parsed_url.scheme}://{parsed_url.netloc}"))
    content_type = _first(header_items, "content-type")
    content_length: int | None
    if data:
        input_stream, content_length = BytesIO(data), len(data)
    else:
        mimetype = content_type.partition(";")[0].strip() if content_type else None
        if mimetype == "multipart/form-data":
            return None
        if mimetype == "application/x-www-form-urlencoded":
            input_stream, content_length = BytesIO(b""), 0
        else:
            # The builder drops a Content-Length header it is not given the length with: none here.
            input_stream, content_length = BytesIO(), None
    server_name, sep, port = host.partition(":")
    server_port = _int_or_none(port) if sep else None
    if server_port is None:
        server_port = 443 if scheme == "https" else 80
    raw_uri = _wsgi_encoding_dance(path)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": _wsgi_encoding_dance(unquote(script_root.rstrip("/"))),
        "PATH_INFO": _wsgi_encoding_dance(unquote(iri_to_uri(urlsplit(path).path))),
        "QUERY_STRING": _wsgi_encoding_dance(parsed_url.query),
        "REQUEST_URI": raw_uri,
        "RAW_URI": raw_uri,
        "SERVER_NAME": server_name,
        "SERVER_PORT": str(server_port),
        "HTTP_HOST": host,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": input_stream,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if content_type is not None:
        environ["CONTENT_TYPE"] = content_type
    if content_length is not None:
        environ["CONTENT_LENGTH"] = str(content_length)
    combined: dict[str, list[str]] = {}
    for key, value in header_items:
        if key.lower() not in ("content-type", "content-length"):
            combined.setdefault(f"HTTP_{key.upper().replace('-', '_')}", []).append(value)
    for key, values in combined.items():
        environ[key] = ", ".join(values)
    return environ, header_items


def building_environs_directly(original: FromPrimitives) -> FromPrimitives:
    def from_primitives(cls: type[Request], method: str, url: str, headers: Any, body: Any = None) -> Request:
        built = wsgi_environ(method, url, headers, body)
        if built is None:
            return original(method, url, headers, body)  # type: ignore[no-any-return]
        environ, header_items = built
        request = cls(environ)
        # What from_primitives adds to the environ Werkzeug built, in its order.
        request.environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = {
            environ_key_for_header(key): key for key, _ in header_items if should_preserve_original_header_name(key)
        }
        request.environ.setdefault("CONTENT_LENGTH", "0")
        return request

    return from_primitives


def build_request_environs_directly(stack: ExitStack) -> None:
    original = Request.from_primitives  # bound to Request
    stack.enter_context(
        mock.patch.object(Request, "from_primitives", classmethod(building_environs_directly(original)))
    )
