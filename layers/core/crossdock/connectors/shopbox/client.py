"""HTTP client for the Shopbox API v3 (reference/shopbox.md).

Every call carries its credential and the tenant in the query string (`accessToken=…&client=…` or `api-token=…`
[seen S1, S2, S3]); no message, log line or exception of this module shows them (`wire.scrub`). Outcomes in the error
taxonomy: 401 → one new login and the call again (`tokens`), 403 → `PermanentError` AUTH (the login may not act for
this client), 404 on a single read → None, 429 → `RateLimited` with `Retry-After`, 5xx and timeouts →
`RetryableError` (a read that answers 5xx is repeated once here first: Shopbox answers an occasional 500 to harmless
queries [seen S3]), other 4xx → `PermanentError` with Shopbox's own message.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from crossdock import retry_after
from crossdock.connectors.shopbox import wire
from crossdock.connectors.shopbox.account import ShopboxAccount
from crossdock.connectors.shopbox.shapes import (
    Basket,
    BasketRow,
    Branch,
    CashRegister,
    InventoryRow,
    Product,
    ProductUpsert,
    Tag,
)
from crossdock.connectors.shopbox.tokens import Credential, ShopboxTokens
from crossdock.errors import FailureClass, PermanentError, RateLimited, RetryableError
from crossdock.pacing import Pacer

DEFAULT_TIMEOUT_SECONDS = 10.0
# A 429 without Retry-After still holds this client's callers back this long [guess: the sheet knows no limit].
DEFAULT_BACK_OFF_SECONDS = 1.0
# A 429 naming at most this many seconds is waited out here, once.
SHORT_WAIT_SECONDS = 2.0
# Shopbox's limit is per second [guess]: a wait of a second or two is cheaper than handing the whole stage or command
# back to its queue, and an operator's command should not fail on it. A 429 refuses before any work, so the call is
# repeated once after it, writes too. A longer wait, one without a hint, or a second 429 is the caller's backoff;
# repeated at once it would only meet the limit again. Of the other failures only Shopbox's own passing ones
# (TARGET_DOWN) are repeated, for reads: a new login being made by another container has been waited for up to its
# limit already; waiting again would double that inside one Lambda invocation.
IN_PLACE = retry_after.InPlace(waits=1, wait_limit_seconds=SHORT_WAIT_SECONDS, default_wait_seconds=None)
LIST_PAGE = 100


class ShopboxClient:
    def __init__(
        self,
        account: ShopboxAccount,
        tokens: ShopboxTokens,
        *,
        pacer: Pacer | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._account = account
        self._tokens = tokens
        self._pacer = pacer
        wire.guard_httpx_log()  # the credential travels in the URL, which httpx logs
        self._http = httpx.Client(
            base_url=account.api_base.rstrip("/") + "/",
            transport=transport,
            timeout=httpx.Timeout(timeout_seconds, connect=min(3.0, timeout_seconds)),
            headers={"Accept": "application/json"},
        )
        self.calls = 0

    def close(self) -> None:
        self._http.close()

    # ---- the wire ------------------------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None) -> Any:
        return retry_after.call_in_place(IN_PLACE, method, lambda: self._authorised(method, path, params or {}, json))

    def _authorised(self, method: str, path: str, params: dict[str, Any], json: Any) -> Any:
        response = self._tokens.sent(
            lambda credential: self._send(method, path, params, json, credential), f"{method} {path}"
        )
        return self._answer(method, path, response)

    def _send(
        self, method: str, path: str, params: dict[str, Any], json: Any, credential: Credential
    ) -> httpx.Response:
        if self._pacer is not None:
            self._pacer.wait_turn()
        self.calls += 1
        query = {**params, credential.parameter: credential.value, "client": self._account.client_uid}
        try:
            return self._http.request(method, path.lstrip("/"), params=query, json=json)
        except httpx.TimeoutException as timeout:
            raise RetryableError(f"Shopbox timed out on {method} {path}") from _scrubbed(timeout)
        except httpx.TransportError as lost:
            # For a write this means "maybe committed": callers look before they create again.
            raise RetryableError(f"Shopbox connection failed on {method} {path}: {type(lost).__name__}") from None

    def _answer(self, method: str, path: str, response: httpx.Response) -> Any:
        status = response.status_code
        if status == 429:
            hint = wire.retry_after_seconds(response)
            if self._pacer is not None:
                self._pacer.back_off(hint if hint is not None else DEFAULT_BACK_OFF_SECONDS)
            raise RateLimited(f"Shopbox throttled {method} {path}", hint)
        if status >= 500:
            raise RetryableError(
                f"Shopbox answered {status} on {method} {path}", retry_after=wire.retry_after_seconds(response)
            )
        if status == 403:
            raise PermanentError(
                f"Shopbox refused client {self._account.client_uid} (403) on {method} {path}: "
                f"{wire.error_message(response)}",
                FailureClass.AUTH,
            )
        if status == 404 and method == "GET":
            return None  # a single read of something Shopbox does not have (a write naming it is refused below)
        if status >= 400:
            raise PermanentError(f"Shopbox refused {method} {path} ({status}): {wire.error_message(response)}")
        return wire.body(response)

    def _pages(self, path: str, params: dict[str, Any] | None = None, per_page: int = LIST_PAGE) -> Iterator[list[Any]]:
        """Page after page of a list; the caller may stop early. Both paging names are sent (inventories use
        `num_per_page` [seen S2])."""
        page = 1
        while True:
            answer = self.request(
                "GET", path, params={**(params or {}), "page": page, "per-page": per_page, "num_per_page": per_page}
            )
            rows = wire.rows(answer)
            yield rows
            if not rows or wire.last_page(answer, page, per_page, len(rows)):
                return
            page += 1

    def _all(self, path: str, params: dict[str, Any] | None = None) -> list[Any]:
        return [row for page in self._pages(path, params) for row in page]

    # ---- resources -----------------------------------------------------------------------------------------------

    def branches(self) -> list[Branch]:
        return [_read(Branch, row) for row in self._all("branches")]

    def cash_register(self, uid: str) -> CashRegister | None:
        found = wire.unwrap(self.request("GET", f"cash-registers/{uid}"))
        return None if found is None else _read(CashRegister, found)

    def tags(self) -> list[Tag]:
        return [_read(Tag, row) for row in self._all("tags")]

    def products(self) -> Iterator[Product]:
        for page in self._pages("products"):
            yield from (_read(Product, row) for row in page)

    def product(self, uid: str) -> Product | None:
        found = wire.unwrap(self.request("GET", f"products/{uid}"))
        return None if found is None else _read(Product, found)

    def upsert_product(self, upsert: ProductUpsert) -> Product:
        """`create-or-update`: a known uid updates, none creates [seen S6]. A create whose answer is lost may have
        committed: callers look the product up (by SKU) before they create again."""
        answer = wire.unwrap(self.request("POST", "products/create-or-update", json=upsert.body()))
        if not isinstance(answer, dict):
            raise RetryableError("Shopbox's create-or-update answer carried no product")
        return _read(Product, answer)

    def inventories(self, branch_uid: str) -> list[InventoryRow]:
        return [_read(InventoryRow, row) for row in self._all("product-inventories", {"branch": branch_uid})]

    def set_inventory(
        self, branch_uid: str, product_uid: str, variance_uid: str | None, quantity: int, note: str
    ) -> None:
        """The quantity of (branch, product, variant) [guess: absolute — the sheet does not know whether POST sets
        or adds; callers that must be sure read the row back]."""
        self.request(
            "POST",
            "product-inventories",
            json={
                "branch": _number(branch_uid),
                "product": _number(product_uid),
                "product_variance": None if variance_uid is None else _number(variance_uid),
                "quantity": quantity,
                "note": note,
            },
        )

    def basket_pages(self, per_page: int = LIST_PAGE) -> Iterator[list[BasketRow]]:
        """The sales list page by page from the first, lazily: the poller stops once it has read far enough back.
        [guess] newest first; no date filter is known [seen S3]."""
        for page in self._pages("baskets", per_page=per_page):
            yield [_read(BasketRow, row) for row in page]

    def basket(self, uid: str) -> Basket | None:
        found = wire.unwrap(self.request("GET", f"baskets/{uid}"))
        return None if found is None else _read(Basket, found)


_Shape = TypeVar("_Shape", bound=BaseModel)


def _read(shape: type[_Shape], value: Any) -> _Shape:
    """`value` as `shape`; an answer Shopbox shaped otherwise than the fact sheet says is a `PermanentError` naming
    the field (`lines[0].quantity: …`), not a pydantic error surfacing as a bug. Only the field and pydantic's
    reason are quoted, never the value (it could be anything Shopbox sent)."""
    try:
        return shape.model_validate(value)
    except ValidationError as unexpected:
        first = unexpected.errors()[0]
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]).lstrip(".")
        raise PermanentError(
            f"Shopbox sent a {shape.__name__} that is not as expected: {where or 'the record'}: {first['msg']}"
        ) from None


def _number(uid: str) -> int | str:
    """Uids go back as the numbers Shopbox sent."""
    return int(uid) if uid.isdigit() else uid


def _scrubbed(error: Exception) -> Exception:
    """The cause without the URL's credentials (httpx puts the request URL in some messages)."""
    return RetryableError(wire.scrub(str(error)))
