"""Masks secrets in whatever is about to be logged: the safety net under every log line a function writes.

Two nets, because a secret reaches a log in two shapes:
- under a name: a header (`Authorization`, `X-Shopify-Hmac-Sha256`, `Rackbeat-Webhook-Token`), a query or form field
  (`code`, `hmac`, `client_secret`), a JSON or dict key (`access_token`, `shopify_app_secret`), a keyword in a
  message (`api_key=...`). Whatever the value looks like, it is masked — in structured data and in free text alike;
- by its look: Shopify tokens (`shpat_`, `shpua_`, `shprt_`, … the `shpXX_` family), bearer credentials and JWTs are
  masked wherever they stand, even without a name, e.g. inside an exception message or a library's debug line.

A secret with neither a sensitive name nor a recognisable shape (a bare 32-character webhook token in a sentence)
is beyond a pattern net: code must not put it there, and the log tests grep for the exact values to prove it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "[REDACTED]"

# Names compared after lower-casing, with `-` and spaces as `_` (`X-Shopify-Hmac-Sha256` → `x_shopify_hmac_sha256`).
_SENSITIVE_NAMES = frozenset(
    {
        "authorization",
        "proxy_authorization",
        "cookie",
        "set_cookie",
        "x_shopify_hmac_sha256",
        "x_shopify_access_token",
        "rackbeat_webhook_token",
        "hmac",
        "signature",
        "code",  # the one-time OAuth authorization code in the install callback
        "token",
        "tokens",
        "password",
        "secret",
        "api_key",
        "apikey",
        "plaintext",  # KMS Encrypt/Decrypt bodies in botocore's debug log
        "private_key",
        "credentials",
    }
)
_SENSITIVE_SUFFIXES = ("_secret", "_token", "_tokens", "_password", "_api_key", "_apikey", "_hmac", "_signature")
_SENSITIVE_PARTS = ("secret", "password", "hmac_sha256")
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

_SHOPIFY_TOKEN = r"(?<![A-Za-z0-9])shp[a-z]{2,3}_[A-Za-z0-9_\-]+"
_BEARER = r"(?i:\bbearer)\s+[A-Za-z0-9\-._~+/]+=*"
_JWT = r"\beyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*"
_LOOKS_SECRET = re.compile("|".join((_SHOPIFY_TOKEN, _BEARER, _JWT)))

# `name<sep>value` in free text: `code=abc&hmac=def`, `"access_token": "x"`, `'api_key': 'x'`, `Authorization: Bearer
# x`, also escaped inside a JSON string. Whether the name is sensitive is decided by `is_sensitive_name`, the same
# rule as for dict keys. Only a sensitive name's value is consumed, so a URL such as
# `https://shop/oauth?client_secret=x` is still searched after its `https:`.
_NAME_AND_SEPARATOR = re.compile(
    r"(?<![A-Za-z0-9_\-])(?P<name>[A-Za-z][A-Za-z0-9_\-]*)(?:\\?[\"'])?\s*[:=]\s*(?:b?\\?[\"'])?"
)
# A purely numeric value (a status `code=401`) is kept, and so is one masked already (text is redacted once as a
# log record is made and again as it is written).
_VALUE = re.compile(r"(?!\d+(?![A-Za-z0-9_\-])|" + re.escape(MASK) + r")(?i:(?:bearer|basic)\s+)?[^\s\"'\\&,;)}\]]+")


def is_sensitive_name(name: str) -> bool:
    """Whether a value under this name (header, field, key) is a secret."""
    # camelCase splits into words first: Shopbox's `accessToken` is an `access_token` (its query-string credential).
    normal = _CAMEL_HUMP.sub("_", name.strip()).lower().replace("-", "_").replace(" ", "_")
    return (
        normal in _SENSITIVE_NAMES
        or normal.endswith(_SENSITIVE_SUFFIXES)
        or any(part in normal for part in _SENSITIVE_PARTS)
    )


def redact_text(text: str) -> str:
    """Free text with secrets masked: named values first (so a name keeps its value's mask), then shapes."""
    return _LOOKS_SECRET.sub(_mask_shape, _mask_named_values(text))


def redact(value: Any) -> Any:
    """A copy of `value` safe to log: mappings, lists and tuples are walked, strings redacted, values under a
    sensitive key masked whole. Numbers, booleans and None stay as they are; any other object becomes its
    redacted `str` (which is how the log's JSON encoder would have written it)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bytes | bytearray):
        return redact_text(bytes(value).decode("utf-8", "replace"))
    if isinstance(value, Mapping):
        return {str(key): _masked(item) if is_sensitive_name(str(key)) else redact(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(item) for item in value]
    return redact_text(str(value))


def _masked(value: Any) -> Any:
    """Everything under a sensitive key: strings masked whatever they look like, structure and numbers kept (a
    list of webhook tokens stays a list, so the log still says how many there were)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {str(key): _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_masked(item) for item in value]
    return MASK


def _mask_named_values(text: str) -> str:
    parts: list[str] = []
    done = 0
    for named in _NAME_AND_SEPARATOR.finditer(text):
        if named.start() < done or not is_sensitive_name(named.group("name")):
            continue
        value = _VALUE.match(text, named.end())
        if value is not None:
            parts += [text[done : named.end()], MASK]
            done = value.end()
    return "".join(parts) + text[done:]


def _mask_shape(match: re.Match[str]) -> str:
    found = match.group(0)
    if found[:6].lower() == "bearer":
        return found[: len(found) - len(found[6:].lstrip())] + MASK
    return MASK
