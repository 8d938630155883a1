"""Payments in the Shopify simulator: an order's transactions, `Order.transactions` and `orderCapture`
(reference/shopify_wms.md "Reads", "Writes" → Capture, "Behaviours a simulator must model" 3; the REST shapes of the
fixture `2025-01/transaction_0.json`).

- An order paid at checkout has a SALE; one only authorised (`create_order(authorized=True)`, or the order
  generator's `authorized_share`) has an AUTHORIZATION of the order's total in its presentment currency, to be
  captured later. With Shopify Payments the authorisation has `authorizationExpiresAt` [doc H3: Plus / Shopify
  Payments only]; how long it lasts is a guess (`authorization_days`, 7).
- `orderCapture(input: {id, parentTransactionId, amount, currency, finalCapture})` [doc H3]: `amount` at most what the
  authorisation still holds; `currency` must be the presentment currency and is required when it differs from the
  shop's; several captures only where the authorisation is `multiCapturable` (a Plus shop: `enable_multi_capture`),
  where `finalCapture: true` voids the rest; an authorisation that is not multi-capturable takes one capture and its
  rest is released. An expired authorisation is refused. Each refusal is a `userErrors` entry naming the input field
  and changes nothing; their wording is a guess after Shopify's style.
- A capture moves the order's `financial_status` (paid when everything is captured, else partially_paid) and
  `total_outstanding`, and Shopify echoes it: `orders/updated`, and `orders/paid` when the order became paid
  [guess: whether a partial capture also sends `orders/paid` is not documented — `paid_webhook_on_partial_capture`].
- `orderCapture` takes no `@idempotent` key [guess, fact sheet]: a repeated call captures again, which is what the
  connector's read-before-retry guards against.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from crossdock_local.sims.shopify.errors import ApiError
from crossdock_local.sims.shopify.graphql_api import GqlField
from crossdock_local.sims.shopify.order_views import gql_transaction
from crossdock_local.sims.shopify.orders import OrderBook
from crossdock_local.sims.shopify.state import PaymentTransaction, Shop
from crossdock_local.sims.shopify.values import decimal_of, gql_datetime, gql_decimal, order_legacy_id

CENT = Decimal("0.01")
SHOPIFY_PAYMENTS = "shopify_payments"
_TAKEN = ("SALE", "CAPTURE")  # the kinds that take the buyer's money


def _money(amount: Decimal) -> str:
    return str(amount.quantize(CENT))


class Payments:
    """Transactions per order and `orderCapture`; shares the simulator's lock, ids, clock and outbox."""

    def __init__(self, sim: OrderBook) -> None:
        self.sim = sim
        self.authorization_days = 7  # guess: Shopify Payments' authorisation period (fact sheet H3 gives none)
        self.paid_webhook_on_partial_capture = False  # guess, see the module's docstring
        self.multi_capture_shops: set[str] = set()
        sim.resolvers["orderCapture"] = self._resolve_capture

    def enable_multi_capture(self, domain: str) -> None:
        """The shop is on Shopify Plus with Shopify Payments: its new authorisations are multi-capturable."""
        self.multi_capture_shops.add(domain)

    # ---- recording ---------------------------------------------------------------------------------------------------

    def record(self, shop: Shop, order: dict[str, Any], event: str) -> None:
        """The transactions of an order event: paid at checkout, authorised at checkout, or marked paid later."""
        total, currency = self._presentment_total(order)
        if event == "authorization":
            self._add(shop, order, "AUTHORIZATION", total, parent=None, authorization=True)
        elif event == "sale":
            self._add(shop, order, "SALE", total, parent=None)
        elif event == "marked_paid":
            # The merchant marks it paid: an open authorisation is captured in full, else the rest is a manual sale.
            for auth in self.transactions(shop, order):
                left = self.capturable(shop, order, auth)
                if left > 0:
                    self._add(shop, order, "CAPTURE", left, parent=auth.id)
                    auth.voided = True
                    return
            outstanding = total - self.paid(shop, order)
            if outstanding > 0:
                self._add(shop, order, "SALE", outstanding, parent=None, gateway="manual")
        else:
            raise ValueError(f"unknown payment event {event!r} ({currency})")

    def _add(
        self,
        shop: Shop,
        order: dict[str, Any],
        kind: str,
        amount: Decimal,
        *,
        parent: int | None,
        authorization: bool = False,
        gateway: str | None = None,
    ) -> PaymentTransaction:
        names = order.get("payment_gateway_names") or []
        gateway = gateway or (str(names[0]) if names else SHOPIFY_PAYMENTS)
        _, currency = self._presentment_total(order)
        now = self.sim.now()
        expires = None
        if authorization and gateway == SHOPIFY_PAYMENTS:
            expires = now + timedelta(days=self.authorization_days)
        transaction = PaymentTransaction(
            id=self.sim.new_id(),
            order_id=int(order["id"]),
            kind=kind,
            status="SUCCESS",
            gateway=gateway,
            amount=amount.quantize(CENT),
            currency=currency,
            shop_amount=(amount * self._rate(order)).quantize(CENT),
            created_at=self.sim.shop_time(shop),
            parent_id=parent,
            multi_capturable=authorization and shop.domain in self.multi_capture_shops,
            expires_at=expires,
        )
        shop.transactions.setdefault(int(order["id"]), []).append(transaction)
        return transaction

    # ---- reading -----------------------------------------------------------------------------------------------------

    def transactions(self, shop: Shop, order: dict[str, Any]) -> list[PaymentTransaction]:
        return shop.transactions.get(int(order["id"]), [])

    def expired(self, auth: PaymentTransaction) -> bool:
        return auth.expires_at is not None and self.sim.now() >= auth.expires_at

    def captured(self, shop: Shop, order: dict[str, Any], auth: PaymentTransaction) -> Decimal:
        return sum(
            (t.amount for t in self.transactions(shop, order) if t.parent_id == auth.id and _succeeded_capture(t)),
            Decimal("0"),
        )

    def capturable(self, shop: Shop, order: dict[str, Any], auth: PaymentTransaction) -> Decimal:
        """What the authorisation still holds (0 for anything else, a voided or expired authorisation)."""
        if auth.kind != "AUTHORIZATION" or auth.status != "SUCCESS" or auth.voided or self.expired(auth):
            return Decimal("0")
        return max(Decimal("0"), auth.amount - self.captured(shop, order, auth))

    def paid(self, shop: Shop, order: dict[str, Any]) -> Decimal:
        return sum(
            (
                t.amount
                for t in self.transactions(shop, order)
                if t.kind in ("SALE", "CAPTURE") and t.status == "SUCCESS"
            ),
            Decimal("0"),
        )

    @staticmethod
    def _presentment_total(order: dict[str, Any]) -> tuple[Decimal, str]:
        shop_currency = str(order.get("currency") or "DKK")
        currency = str(order.get("presentment_currency") or shop_currency)
        presentment = ((order.get("total_price_set") or {}).get("presentment_money") or {}).get("amount")
        if currency != shop_currency and presentment is not None:
            return decimal_of(presentment), currency
        return decimal_of(order.get("total_price")), currency

    def _rate(self, order: dict[str, Any]) -> Decimal:
        """Shop money per unit of presentment money, from the order's own totals (1 in one currency)."""
        presentment, _ = self._presentment_total(order)
        shop_total = decimal_of(order.get("total_price"))
        return shop_total / presentment if presentment and shop_total else Decimal("1")

    # ---- the GraphQL views -------------------------------------------------------------------------------------------

    def order_fields(self, shop: Shop, order: dict[str, Any]) -> dict[str, Any]:
        """`Order.transactions(first:, capturable:)`, `capturable` and `totalCapturableSet` of a stored order."""
        own = self.transactions(shop, order)
        views = self._views(shop, order)
        left = sum((self.capturable(shop, order, t) for t in own), Decimal("0"))
        currencies = self._currencies(order)

        def listing(args: dict[str, Any]) -> list[dict[str, Any]]:
            chosen = views
            if args.get("capturable") is True:
                capturable_ids = {t.gid for t in own if self.capturable(shop, order, t) > 0}
                chosen = [view for view in views if view["id"] in capturable_ids]
            first = args.get("first")
            return chosen[:first] if isinstance(first, int) else chosen

        return {
            "transactions": listing,
            "capturable": left > 0,
            "totalCapturableSet": _bag(left, left * self._rate(order), currencies),
        }

    def _views(self, shop: Shop, order: dict[str, Any]) -> list[dict[str, Any]]:
        """Every transaction of the order oldest first: its payments, then its refunds' transactions."""
        currencies = self._currencies(order)
        by_id: dict[int, dict[str, Any]] = {}
        views: list[dict[str, Any]] = []
        for transaction in self.transactions(shop, order):
            view = self.view(shop, order, transaction, by_id.get(transaction.parent_id or -1))
            by_id[transaction.id] = view
            views.append(view)
        for refund in order.get("refunds") or []:
            for row in refund.get("transactions") or []:
                view = gql_transaction(row, currencies)
                view["parentTransaction"] = by_id.get(int(row["parent_id"])) if row.get("parent_id") else None
                views.append(view)
        return views

    def view(
        self, shop: Shop, order: dict[str, Any], t: PaymentTransaction, parent: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        currencies = self._currencies(order)
        left = self.capturable(shop, order, t)
        return {
            "id": t.gid,
            "kind": t.kind,
            "status": t.status,
            "gateway": t.gateway,
            "test": False,
            "createdAt": gql_datetime(t.created_at),
            "processedAt": gql_datetime(t.created_at),
            "amountSet": _bag(t.amount, t.shop_amount, currencies),
            "parentTransaction": parent,
            "manuallyCapturable": left > 0,
            "multiCapturable": t.multi_capturable,
            "authorizationExpiresAt": t.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ") if t.expires_at else None,
            "totalUnsettledSet": _bag(left, left * self._rate(order), currencies)
            if t.kind == "AUTHORIZATION"
            else None,
        }

    @staticmethod
    def _currencies(order: dict[str, Any]) -> tuple[str, str]:
        currency = str(order.get("currency") or "DKK")
        return currency, str(order.get("presentment_currency") or currency)

    # ---- orderCapture ------------------------------------------------------------------------------------------------

    def _resolve_capture(self, shop: Shop, field: GqlField, _version: str) -> dict[str, Any]:
        data = field.args.get("input") or {}
        with self.sim.lock:
            try:
                order = shop.orders.get(order_legacy_id(str(data.get("id"))))
            except ValueError:
                raise ApiError(f"Invalid global id '{data.get('id')}'", "argumentLiteralsIncompatible") from None
            if order is None:
                return _refused(["id"], "Order does not exist")
            auth = self._parent(shop, order, data.get("parentTransactionId"))
            if auth is None:
                return _refused(["parentTransactionId"], "Parent transaction is not an authorization of this order")
            problem = self._refusal(shop, order, auth, data)
            if problem is not None:
                return problem
            amount = _amount(data.get("amount"))
            assert amount is not None  # _refusal checked it
            capture = self._add(shop, order, "CAPTURE", amount, parent=auth.id)
            final = data.get("finalCapture")
            # Guess: an omitted finalCapture on a multi-capturable authorisation keeps it open; a single-capture one
            # is closed by its one capture, whatever was asked.
            if not auth.multi_capturable or final is True:
                auth.voided = True
            self._after_capture(shop, order)
            by_id = {auth.id: self.view(shop, order, auth)}
            return {"transaction": self.view(shop, order, capture, by_id[auth.id]), "userErrors": []}

    def _parent(self, shop: Shop, order: dict[str, Any], parent_gid: Any) -> PaymentTransaction | None:
        return next(
            (t for t in self.transactions(shop, order) if t.gid == str(parent_gid) and t.kind == "AUTHORIZATION"),
            None,
        )

    def _refusal(
        self, shop: Shop, order: dict[str, Any], auth: PaymentTransaction, data: dict[str, Any]
    ) -> dict[str, Any] | None:
        shop_currency, presentment = self._currencies(order)
        currency = data.get("currency")
        if currency is None and presentment != shop_currency:
            return _refused(["currency"], f"Currency is required when the presentment currency ({presentment}) differs")
        if currency is not None and str(currency) != presentment:
            return _refused(["currency"], f"Currency must be the order's presentment currency ({presentment})")
        if self.expired(auth):
            return _refused(["parentTransactionId"], "The authorization has expired and can no longer be captured")
        if auth.voided or (not auth.multi_capturable and self.captured(shop, order, auth) > 0):
            return _refused(["parentTransactionId"], "The authorization has already been captured")
        amount = _amount(data.get("amount"))
        if amount is None or amount <= 0:
            return _refused(["amount"], "Amount must be greater than 0")
        left = self.capturable(shop, order, auth)
        if amount > left:
            return _refused(["amount"], f"Amount cannot exceed the capturable amount of {_money(left)}")
        return None

    def _after_capture(self, shop: Shop, order: dict[str, Any]) -> None:
        total, _ = self._presentment_total(order)
        paid = self.paid(shop, order)
        outstanding = max(Decimal("0"), total - paid) * self._rate(order)
        became_paid = paid >= total
        order.update(
            financial_status="paid" if became_paid else "partially_paid",
            total_outstanding=_money(outstanding),
            updated_at=self.sim.shop_time(shop),
        )
        if became_paid or self.paid_webhook_on_partial_capture:
            self.sim.emit(shop, "orders/paid", order)
        self.sim.emit(shop, "orders/updated", order)


def _succeeded_capture(t: PaymentTransaction) -> bool:
    return t.kind == "CAPTURE" and t.status == "SUCCESS"


def _amount(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


def _bag(amount: Decimal, shop_amount: Decimal, currencies: tuple[str, str]) -> dict[str, Any]:
    shop_currency, presentment = currencies
    return {
        "shopMoney": {"amount": gql_decimal(shop_amount.quantize(CENT)), "currencyCode": shop_currency},
        "presentmentMoney": {"amount": gql_decimal(amount.quantize(CENT)), "currencyCode": presentment},
    }


def _refused(path: list[str], message: str) -> dict[str, Any]:
    return {"transaction": None, "userErrors": [{"field": ["input", *path], "message": message}]}
