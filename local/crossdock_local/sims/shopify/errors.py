"""The errors the simulated Admin API answers with, in Shopify's shape (`message`, `locations`, `path`, `extensions`).

Resolvers raise `ApiError` for what Shopify refuses as a top-level error (an invalid id, a missing `@idempotent`
key, too many inputs); what a mutation refuses about the merchant's data is a `userErrors` entry instead, which is
data, not an error.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A top-level GraphQL error: `code` goes to `extensions.code`, other keyword arguments beside it."""

    def __init__(self, message: str, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.extra = extra

    def payload(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message}
        if "locations" in self.extra:
            error["locations"] = self.extra["locations"]
        extensions = {k: v for k, v in self.extra.items() if k != "locations"}
        if self.code is not None or extensions:
            error["extensions"] = {**({"code": self.code} if self.code is not None else {}), **extensions}
        return error


INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
