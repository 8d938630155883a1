"""What every Webshipper answer shares (reference/webshipper.md "Conventions", "Errors"): JSON:API documents and
their error objects read leniently, related ids found in either form a relationship may take, and the credentials
that travel in the password grant's query string and in the bearer header scrubbed out of anything we print.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from crossdock import http_wire, pacing, retry_after

MEDIA_TYPE = "application/vnd.api+json"
# The password grant puts the e-mail and password in the query string [seen W5]; tokens travel as `Bearer …` and
# come back as `access_token` in the grant's answer. Only these: other names (`client_secret`, `code`) are left to
# the functions' log redaction net (`crossdock.aws.redaction`), whose own mask must stay recognisable.
_SECRET_PARAMS = re.compile(r"(?<![A-Za-z0-9_])(password|username)=[^&\s]*", re.IGNORECASE)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_JSON_SECRETS = re.compile(r'("(?:access_token|password|secret)"\s*:\s*)"[^"]*"', re.IGNORECASE)
DETAIL_LIMIT = 300


def scrub(text: str) -> str:
    """`text` with every credential replaced by `***`."""
    text = _SECRET_PARAMS.sub(lambda match: f"{match.group(1)}=***", text)
    text = _BEARER.sub(lambda match: f"{match.group(1)}***", text)
    return _JSON_SECRETS.sub(lambda match: f'{match.group(1)}"***"', text)


def guard_httpx_log() -> None:
    """Keeps Webshipper's credentials out of httpx's request log (`crossdock.http_wire`), once."""
    http_wire.guard_httpx_log("Webshipper", scrub)


def body(response: httpx.Response) -> Any:
    return http_wire.json_body(response, "Webshipper")


def errors(response: httpx.Response) -> list[dict[str, Any]]:
    """The JSON:API error objects of a refusal. [guess] the spec has no error schema: `{"errors": [...]}` is read,
    a bare `{"error": …}`/`{"message": …}` or a text body becomes one `detail`; never parsed strictly."""
    try:
        answer = response.json()
    except ValueError:
        text = response.text.strip()
        return [{"status": str(response.status_code), "detail": scrub(text[:DETAIL_LIMIT])}] if text else []
    if isinstance(answer, dict):
        found = answer.get("errors")
        if isinstance(found, list):
            return [error for error in found if isinstance(error, dict)]
        for key in ("error_description", "message", "error"):
            if isinstance(answer.get(key), str):
                return [{"status": str(response.status_code), "detail": scrub(answer[key])}]
    return []


def error_message(response: httpx.Response) -> str:
    """The refusal in words: each error's `detail` (or `title`) and pointer; the status otherwise."""
    parts = []
    for error in errors(response):
        said = error.get("detail") or error.get("title")
        if not said:
            continue
        source = error.get("source")
        pointer = source.get("pointer") if isinstance(source, dict) else None
        parts.append(f"{said} ({pointer})" if pointer and str(pointer) not in str(said) else str(said))
    return scrub("; ".join(parts)[:DETAIL_LIMIT]) if parts else f"HTTP {response.status_code}"


def retry_after_seconds(response: httpx.Response) -> float | None:
    return retry_after.parse(response.headers.get("retry-after"), pacing.clock.time())


def text_id(value: Any) -> str | None:
    """Ids come out as strings [doc W1] and sometimes as numbers [seen W6]; kept as text."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def wire_id(value: str) -> int | str:
    """An id sent back: as the number it is [seen W6 sends numbers; the simulator accepts both]."""
    return int(value) if value.isdigit() else value


def related_id(resource: dict[str, Any], name: str, *, attribute: str | None = None) -> str | None:
    """The id of the to-one relationship `name`: its `data` linkage, else the last segment of `links.related`
    (relationships may hold only links [seen W3]), else the deprecated attribute (`order_channel_id` [doc W1])."""
    relationships = resource.get("relationships")
    link = relationships.get(name) if isinstance(relationships, dict) else None
    if isinstance(link, dict):
        data = link.get("data")
        if isinstance(data, dict) and text_id(data.get("id")):
            return text_id(data.get("id"))
        links = link.get("links")
        related = links.get("related") if isinstance(links, dict) else None
        if isinstance(related, str):
            tail = related.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
            if tail.isdigit():
                return tail
    attributes = resource.get("attributes")
    if attribute and isinstance(attributes, dict):
        return text_id(attributes.get(attribute))
    return None
