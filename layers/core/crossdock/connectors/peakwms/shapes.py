"""PeakWMS's records and webhook payloads as frozen dataclasses, read leniently (reference/peakwms.md).

Nothing is parsed strictly: the sheet's field lists come from an SDK, not from the vendor's schema. camelCase keys;
ids kept as text whether they come as strings or numbers [guess]; amounts as Decimals; enums as the ints the sheet
lists, and [guess] their names (`"OnHold"`) read too. A webhook payload missing what names its subject (an order's
`orderId`, a product's `productId`) is refused with `PermanentError` naming the field: nothing could be done with it.

The other direction: `product_body` and `sales_order_body` write a draft as PeakWMS's create/update body, leaving
out what the draft does not set ([guess] PUT keeps what a body leaves out; a null might clear it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from crossdock.connectors.peakwms.webhook_events import EVENT_NAMES, EVENTS
from crossdock.connectors.peakwms.wire import flag, json_number, number, text, text_id, whole
from crossdock.errors import PermanentError

__all__ = ["EVENTS", "EVENT_NAMES"]  # re-exported: the event tables live apart for ingest's cold start

# [seen P1] order states; 9 SentTogether is undocumented but seen live.
ORDER_STATES = {
    "Created": 0, "Released": 1, "Picked": 2, "Packed": 3, "Shipped": 4, "Cancelled": 5, "Error": 6, "OnHold": 7,
    "DropShip": 8, "SentTogether": 9,
}  # fmt: skip
CREATED, RELEASED, PICKED, PACKED, SHIPPED, CANCELLED, ERROR, ON_HOLD = range(8)
STATE_NAMES = {number: name for name, number in ORDER_STATES.items()}
# [seen P1] line states 0 Created … 4 NoStock, 5 DropShip; hold reasons (a few of 0…24).
LINE_NO_STOCK = 4
HOLD_REASONS = {"WaitingForPayment": 0, "NoStock": 7, "MissingForwarderProduct": 14, "IncorrectAddress": 19}
HOLD_NO_STOCK = 7
# [seen P1] payment status of a sales order.
PAYMENT_PENDING, PAYMENT_AUTHORIZED, PAYMENT_CAPTURED, PAYMENT_REFUNDED = range(4)


def _enum(value: Any, names: Mapping[str, int]) -> int | None:
    """An enum as its int [seen P1], or [guess] its name in any case."""
    found = whole(value)
    if found is not None:
        return found
    if isinstance(value, str):
        lower = {name.lower(): number for name, number in names.items()}
        return lower.get(value.strip().lower())
    return None


def _first(record: Mapping[str, Any], *names: str) -> Any:
    """The first of `names` the record has (a field the sheet is unsure of, under its alternatives)."""
    for name in names:
        if record.get(name) is not None:
            return record[name]
    return None


def _required(record: Mapping[str, Any], field: str, what: str) -> str:
    found = text_id(record.get(field))
    if found is None:
        raise PermanentError(f"PeakWMS sent {what} without {field}")
    return found


def _without_none(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if value is not None}


def _amount(value: Decimal | None) -> int | float | None:
    return None if value is None else json_number(value)


# ---- products ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vendor:
    # [seen P1] `vendors[{name, vendorName}]`; [guess] `name` is the supplier's number, `vendorName` its name.
    name: str | None
    vendor_name: str | None


@dataclass(frozen=True)
class PeakProduct:
    """A product variant in PeakWMS, keyed by the host's `productId` + `variantId`; `id` is PeakWMS's own."""

    id: str | None
    product_id: str
    variant_id: str | None
    item_number: str | None = None
    description: str | None = None
    ean: str | None = None
    brand: str | None = None
    vendors: tuple[Vendor, ...] = ()
    country_of_origin: str | None = None
    customs_tariffs: tuple[str, ...] = ()
    weight: Decimal | None = None
    cost_price_piece: Decimal | None = None
    average_cost_price: Decimal | None = None
    sales_price_per_piece: Decimal | None = None
    available_to_sell: Decimal | None = None
    available_in_stock: Decimal | None = None
    ordered_by_customers: Decimal | None = None
    updated_at: str | None = None

    @property
    def key(self) -> tuple[str, str | None]:
        return self.product_id, self.variant_id

    @staticmethod
    def parse(record: Mapping[str, Any]) -> PeakProduct:
        vendors = record.get("vendors")
        tariffs = record.get("customsTariffs")
        return PeakProduct(
            id=text_id(record.get("id")),
            product_id=_required(record, "productId", "a product"),
            variant_id=text_id(record.get("variantId")),
            item_number=text(record.get("itemNumber")),
            description=text(record.get("description")),
            ean=text(record.get("ean")),
            brand=text(record.get("brand")),
            vendors=tuple(
                Vendor(text(one.get("name")), text(one.get("vendorName")))
                for one in (vendors if isinstance(vendors, list) else [])
                if isinstance(one, dict)
            ),
            country_of_origin=text(record.get("countryOfOrigin")),
            customs_tariffs=tuple(
                code
                for code in (
                    text(one.get("code")) if isinstance(one, dict) else text(one)
                    for one in (tariffs if isinstance(tariffs, list) else [])
                )
                if code
            ),
            weight=number(record.get("weight")),
            cost_price_piece=number(record.get("costPricePiece")),
            average_cost_price=number(record.get("averageCostPrice")),
            sales_price_per_piece=number(record.get("salesPricePerPiece")),
            available_to_sell=number(record.get("availableToSell")),
            available_in_stock=number(record.get("availableInStock")),
            ordered_by_customers=number(record.get("orderedByCustomers")),
            updated_at=text(record.get("updatedAt")),
        )


@dataclass(frozen=True)
class ProductDraft:
    """What we write to PeakWMS for one Shopify variant (`productId`/`variantId` = the main shop's numeric ids,
    `itemNumber` = SKU: reference/peakwms.md "Idempotency handles")."""

    product_id: str
    variant_id: str
    item_number: str | None = None
    description: str | None = None
    ean: str | None = None
    brand: str | None = None
    vendors: tuple[Vendor, ...] = ()
    country_of_origin: str | None = None
    customs_tariff: str | None = None
    weight: Decimal | None = None  # [guess] kilograms, as the sheet's other weights
    cost_price_piece: Decimal | None = None
    sales_price_per_piece: Decimal | None = None


def product_body(draft: ProductDraft, internal_id: str | None = None) -> dict[str, Any]:
    """The `POST /product` / `PUT /product` body [seen P1]; `internal_id` [guess] helps PUT find the record."""
    return _without_none(
        {
            "id": None if internal_id is None else (int(internal_id) if internal_id.isdigit() else internal_id),
            "productId": draft.product_id,
            "variantId": draft.variant_id,
            "itemNumber": draft.item_number,
            "description": draft.description,
            "ean": draft.ean,
            "brand": draft.brand,
            "vendors": [_without_none({"name": v.name, "vendorName": v.vendor_name}) for v in draft.vendors] or None,
            "countryOfOrigin": draft.country_of_origin,
            "customsTariffs": [{"code": draft.customs_tariff}] if draft.customs_tariff else None,
            "weight": _amount(draft.weight),
            "costPricePiece": _amount(draft.cost_price_piece),
            "salesPricePerPiece": _amount(draft.sales_price_per_piece),
        }
    )


# ---- sales orders --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    customer_name: str | None = None
    address1: str | None = None
    address2: str | None = None
    postal_code: str | None = None
    city: str | None = None
    state_code: str | None = None
    country: str | None = None  # ISO-2 [seen P1]
    company: str | None = None
    email: str | None = None
    phone: str | None = None

    def body(self) -> dict[str, Any]:
        return _without_none(
            {
                "customerName": self.customer_name, "address1": self.address1, "address2": self.address2,
                "postalCode": self.postal_code, "city": self.city, "stateCode": self.state_code,
                "country": self.country, "company": self.company, "email": self.email, "phone": self.phone,
            }
        )  # fmt: skip


@dataclass(frozen=True)
class SalesOrderLine:
    """A sales order line: `orderLineId` = the Shopify line item's numeric id. `state` and the packed and refunded
    quantities are PeakWMS's (reads only; None when the read does not show them).

    [guess] the packed and refunded quantities of a line: the fact sheet lists neither (its line fields are
    `orderLineId … quantityRequested …` [seen P1, P2]); read as `quantityPacked`/`packedQuantity` and
    `quantityRefunded`/`refundedQuantity`, and a reader that needs them and finds none must take the safe side."""

    order_line_id: str
    product_id: str | None
    variant_id: str | None
    quantity_requested: int
    sales_price_piece: Decimal | None = None  # ex VAT [seen P1]
    sales_price_tax_piece: Decimal | None = None
    sales_discount_piece: Decimal | None = None
    state: int | None = None
    quantity_packed: int | None = None  # [guess] units of the line PeakWMS has packed (in any pick order)
    quantity_refunded: int | None = None  # [guess] units of the line PeakWMS refunded (104s), taken off its packing

    @staticmethod
    def parse(record: Mapping[str, Any]) -> SalesOrderLine:
        return SalesOrderLine(
            order_line_id=_required(record, "orderLineId", "a sales order line"),
            product_id=text_id(record.get("productId")),
            variant_id=text_id(record.get("variantId")),
            quantity_requested=whole(_first(record, "quantityRequested", "quantity")) or 0,
            sales_price_piece=number(record.get("salesPricePiece")),
            sales_price_tax_piece=number(record.get("salesPriceTaxPiece")),
            sales_discount_piece=number(record.get("salesDiscountPiece")),
            state=_enum(_first(record, "state", "lineState"), {"Created": 0, "NoStock": 4, "DropShip": 5}),
            quantity_packed=whole(_first(record, "quantityPacked", "packedQuantity")),
            quantity_refunded=whole(_first(record, "quantityRefunded", "refundedQuantity")),
        )

    def body(self) -> dict[str, Any]:
        return _without_none(
            {
                "orderLineId": self.order_line_id,
                "productId": self.product_id,
                "variantId": self.variant_id,
                "quantityRequested": self.quantity_requested,
                "salesPricePiece": _amount(self.sales_price_piece),
                "salesPriceTaxPiece": _amount(self.sales_price_tax_piece),
                "salesDiscountPiece": _amount(self.sales_discount_piece),
            }
        )


@dataclass(frozen=True)
class SalesOrderDraft:
    """One Shopify order as a PeakWMS sales order: `order_id` = the Shopify order's numeric id."""

    order_id: str
    order_number: str
    lines: tuple[SalesOrderLine, ...]
    order_date_time: str | None = None  # ISO 8601 with offset, no fractions [seen P1]
    billing_address: Address | None = None
    shipping_address: Address | None = None
    sender_address: Address | None = None
    forwarder_product_id: str | None = None
    parcel_shop_id: str | None = None  # a drop point
    payment_method: str | None = None
    payment_status: int | None = None  # PAYMENT_*
    transaction_number: str | None = None  # the exact capturable transaction [doc P1]
    sales_currency: str | None = None
    shipping_cost: Decimal | None = None
    shipping_tax_cost: Decimal | None = None
    discount_cost: Decimal | None = None
    total_sales_price: Decimal | None = None
    priority: int | None = None  # 1–10
    comment: str | None = None
    # [guess] the sheet names no warehouse field on a sales order: `warehouseName` (the stock log names warehouses
    # by name [seen P3]; the simulator reads it). None: PeakWMS's default warehouse.
    warehouse: str | None = None


def sales_order_body(draft: SalesOrderDraft) -> dict[str, Any]:
    """The `POST /salesOrder` / `PUT /salesOrder/{orderId}` body [seen P1, P2]."""
    return _without_none(
        {
            "orderId": draft.order_id,
            "orderNumber": draft.order_number,
            "orderDateTime": draft.order_date_time,
            "billingAddress": draft.billing_address.body() if draft.billing_address else None,
            "shippingAddress": draft.shipping_address.body() if draft.shipping_address else None,
            "senderAddress": draft.sender_address.body() if draft.sender_address else None,
            "forwarderProductId": draft.forwarder_product_id,
            "parcelShopId": draft.parcel_shop_id,
            "paymentMethod": draft.payment_method,
            "paymentStatus": draft.payment_status,
            "transactionNumber": draft.transaction_number,
            "salesCurrency": draft.sales_currency,
            "shippingCost": _amount(draft.shipping_cost),
            "shippingTaxCost": _amount(draft.shipping_tax_cost),
            "discountCost": _amount(draft.discount_cost),
            "totalSalesPrice": _amount(draft.total_sales_price),
            "priority": draft.priority,
            "comment": draft.comment,
            "warehouseName": draft.warehouse,
            "orderLines": [line.body() for line in draft.lines],
        }
    )


@dataclass(frozen=True)
class PeakSalesOrder:
    id: str | None
    order_id: str
    state: int | None
    on_hold_reason: int | None
    lines: tuple[SalesOrderLine, ...]
    payment_status: int | None
    order_number: str | None = None

    @property
    def cancelled(self) -> bool:
        return self.state == CANCELLED

    @staticmethod
    def parse(record: Mapping[str, Any]) -> PeakSalesOrder:
        lines = record.get("orderLines")
        records = lines if isinstance(lines, list) else []
        return PeakSalesOrder(
            id=text_id(record.get("id")),
            order_id=_required(record, "orderId", "a sales order"),
            state=_enum(_first(record, "state", "orderState", "status"), ORDER_STATES),
            # [guess] the hold reason's field name; the sheet lists only its values.
            on_hold_reason=_enum(_first(record, "onHoldReason", "holdReason", "onHoldReasonId"), HOLD_REASONS),
            lines=tuple(SalesOrderLine.parse(line) for line in records if isinstance(line, dict)),
            payment_status=_enum(record.get("paymentStatus"), {"Pending": 0, "Authorized": 1, "Captured": 2}),
            order_number=text(record.get("orderNumber")),
        )


# ---- stock and sales history ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StockLevel:
    product_id: str
    variant_id: str | None
    item_number: str | None
    quantity: int
    reserved_quantity: int
    id: str | None = None

    @staticmethod
    def parse(record: Mapping[str, Any]) -> StockLevel:
        return StockLevel(
            product_id=_required(record, "productId", "a stock level"),
            variant_id=text_id(record.get("variantId")),
            item_number=text(record.get("itemNumber")),
            quantity=whole(record.get("quantity")) or 0,
            reserved_quantity=whole(record.get("reservedQuantity")) or 0,
            id=text_id(record.get("id")),
        )


@dataclass(frozen=True)
class SalesHistoryRow:
    """Sold quantity of one variant on one day. [guess] the sheet has no sales-history endpoint: `POST
    /salesHistory` with `[{productId, variantId, itemNumber, date (yyyy-MM-dd), quantity}]` is agreed with the
    simulator."""

    product_id: str
    variant_id: str
    item_number: str | None
    day: date
    quantity: int

    def body(self) -> dict[str, Any]:
        return _without_none(
            {
                "productId": self.product_id,
                "variantId": self.variant_id,
                "itemNumber": self.item_number,
                "date": self.day.isoformat(),
                "quantity": self.quantity,
            }
        )


# ---- webhook payloads (reference/peakwms.md "Webhooks": the bare data object) ------------------------------


@dataclass(frozen=True)
class StockAdjusted:
    """100 StockAdjust [seen P1]: `quantity` is the new absolute total (apply it, not `adjusted_quantity`)."""

    product_id: str
    variant_id: str | None
    adjusted_quantity: int | None
    quantity: int
    warehouse_host_id: str | None = None
    stock_host_identifier: str | None = None
    lot_number: str | None = None
    adjustment_reason: str | None = None
    stock_item_id: str | None = None

    @staticmethod
    def parse(body: Mapping[str, Any]) -> StockAdjusted:
        total = whole(body.get("quantity"))
        if total is None:
            raise PermanentError("PeakWMS sent a stock adjustment without quantity (the new total)")
        return StockAdjusted(
            product_id=_required(body, "productId", "a stock adjustment"),
            variant_id=text_id(body.get("variantId")),
            adjusted_quantity=whole(body.get("adjustedQuantity")),
            quantity=total,
            warehouse_host_id=text_id(body.get("warehouseHostId")),
            stock_host_identifier=text(body.get("stockHostIdentifier")),
            lot_number=text(body.get("lotNumber")),
            adjustment_reason=text(body.get("adjustmentReason")),
            stock_item_id=text_id(body.get("stockItemId")),
        )


@dataclass(frozen=True)
class EanUpdated:
    """101 EanUpdates. [guess] the payload is unpublished: `{productId, variantId, ean}`."""

    product_id: str
    variant_id: str | None
    ean: str | None  # None: the EAN was removed

    @staticmethod
    def parse(body: Mapping[str, Any]) -> EanUpdated:
        return EanUpdated(
            product_id=_required(body, "productId", "an EAN update"),
            variant_id=text_id(body.get("variantId")),
            ean=text(_first(body, "ean", "EAN", "barcode")),
        )


@dataclass(frozen=True)
class OrderPacked:
    """102 PickOrderPacked [seen P1] (and 110 PickOrderPicked, the same shape with picked quantities): one pick
    order's lines, so partial packing is several events of one sales order."""

    order_id: str
    pick_order_id: str | None
    payment_captured: bool
    tracking_number: str | None
    tracking_url: str | None
    lines: tuple[tuple[str, int], ...]  # (orderLineId, quantity packed in this pick order)

    @staticmethod
    def parse(body: Mapping[str, Any]) -> OrderPacked:
        raw_lines = body.get("orderLines")
        lines = []
        for line in raw_lines if isinstance(raw_lines, list) else []:
            if isinstance(line, dict):
                lines.append((_required(line, "orderLineId", "a packed line"), whole(line.get("quantity")) or 0))
        return OrderPacked(
            order_id=_required(body, "orderId", "a packed order"),
            pick_order_id=text_id(body.get("pickOrderId")),
            payment_captured=flag(body.get("paymentCaptured")) is True,
            tracking_number=text(body.get("trackingNumber")),
            tracking_url=text(body.get("trackingUrl")),
            lines=tuple(lines),
        )


@dataclass(frozen=True)
class PurchaseOrderLine:
    product_id: str | None
    variant_id: str | None
    item_number: str | None
    quantity: int | None
    average_cost_price: Decimal | None


@dataclass(frozen=True)
class PurchaseOrderClosed:
    """103 InboundOrderClosed: "carries a PurchaseOrder" [doc P1]; [guess] its fields: `{id | purchaseOrderId,
    purchaseOrderNumber | number, supplier…, orderLines | lines [{productId, variantId, itemNumber,
    quantityReceived | quantity, averageCostPrice}]}`. `raw` keeps the whole body for the ERP side."""

    purchase_order_id: str | None
    number: str | None
    lines: tuple[PurchaseOrderLine, ...]
    raw: Mapping[str, Any]

    @staticmethod
    def parse(body: Mapping[str, Any]) -> PurchaseOrderClosed:
        raw_lines = _first(body, "orderLines", "lines", "purchaseOrderLines")
        return PurchaseOrderClosed(
            purchase_order_id=text_id(_first(body, "purchaseOrderId", "id", "orderId")),
            number=text(_first(body, "purchaseOrderNumber", "number", "orderNumber")),
            lines=tuple(
                PurchaseOrderLine(
                    product_id=text_id(line.get("productId")),
                    variant_id=text_id(line.get("variantId")),
                    item_number=text(line.get("itemNumber")),
                    quantity=whole(_first(line, "quantityReceived", "quantityDelivered", "quantity")),
                    average_cost_price=number(line.get("averageCostPrice")),
                )
                for line in (raw_lines if isinstance(raw_lines, list) else [])
                if isinstance(line, dict)
            ),
            raw=dict(body),
        )


@dataclass(frozen=True)
class OrderRefunded:
    """104 OrderRefunded. [guess] the payload is unpublished: `{orderId, amount, orderLines[{orderLineId,
    quantity}]}`; no lines means an amount only (or the whole order when the amount is absent too)."""

    order_id: str
    amount: Decimal | None
    lines: tuple[tuple[str, int], ...]

    @staticmethod
    def parse(body: Mapping[str, Any]) -> OrderRefunded:
        raw_lines = body.get("orderLines")
        lines = []
        for line in raw_lines if isinstance(raw_lines, list) else []:
            if isinstance(line, dict):
                lines.append((_required(line, "orderLineId", "a refunded line"), whole(line.get("quantity")) or 0))
        amount = number(_first(body, "amount", "refundedAmount", "amountRefunded"))
        if amount is not None and amount < 0:
            raise PermanentError(f"PeakWMS sent a refund of order {body.get('orderId')} with a negative amount")
        return OrderRefunded(order_id=_required(body, "orderId", "a refund"), amount=amount, lines=tuple(lines))
