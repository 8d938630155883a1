"""The Rackbeat simulator's catalogue and stock: product groups, custom fields, lots (BOMs), the read-only `/items`
union and inventory adjustments (the fact sheet's "Stock adjustment").

`Inventory` is part of `RackbeatSimulator` (`rackbeat.py`, whose docstring gives the conventions): it works on the
same account state, under the same lock and account context, so a handler here and one there see one Rackbeat. The
simulator builds it and registers its routes; its Python control methods (`adjust_stock`, `set_stock`,
`set_field_value`) call in here. Everything the fact sheet does not say is marked "Guess:".

Stock model: a product has `stock_quantity` (its total) and `_locations` (location number → stock there). Stock only
moves through booked adjustments (here) and shipped shipments (`rackbeat.py`); either marks the product as having
stock movements, which stops it from being deleted. Reservations (in_order_quantity) come from booked orders and are
computed in `rackbeat.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from crossdock_local.sims.base import SimRequest, SimResponse, json_response
from crossdock_local.sims.rackbeat import (
    PRODUCT_FILTERS,
    PRODUCT_SEARCH,
    REFERENCE_SEARCH,
    STAMP,
    Errors,
    Record,
    SimulatorPart,
    _body,
    _decimal,
    _int,
    _invalid,
    _not_found,
    _now,
    _page_response,
    _raise_if,
    _render,
    _truthy,
)

Handler = Callable[..., SimResponse]
Reservations = dict[str, dict[str | None, Decimal]]

GROUP_FILTERS = frozenset({"number", "name", "has_inventory"})
FIELD_FILTERS = frozenset({"id", "name", "type"})
ITEM_FILTERS = PRODUCT_FILTERS | {"type"}
# Guess: which adjustment fields are filterable (the brief for Crossdock needs `is_booked`; `search=` covers reason).
ADJUSTMENT_FILTERS = frozenset({"id", "is_booked", "adjustment_type"})
ADJUSTMENT_SEARCH = ("reason",)
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CHECKBOX_TEXT = {"1": True, "true": True, "0": False, "false": False}


def _plain(value: Any) -> Any:
    """A field value as JSON: numbers stay numbers (the money rendering would make "12.50" of them)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _unset(field: Record) -> Any:
    # Guess: an unset checkbox reads as unticked (false); any other unset field reads as null.
    return False if field["type"] == "checkbox" else None


def _field_value(field: Record, value: Any) -> Any:
    """The value to store for `field`, checked against its type; raises a 422 on `value` otherwise.

    Guess: the value rules per type (checkbox true/false or 1/0, number, date `YYYY-MM-DD`, text a string; other
    types take any scalar); null clears the value."""
    kind = field["type"]
    if value is None:
        return _unset(field)
    if kind == "checkbox":
        if isinstance(value, bool):
            return value
        if isinstance(value, int | str) and str(value).strip().lower() in CHECKBOX_TEXT:
            return CHECKBOX_TEXT[str(value).strip().lower()]
        raise _invalid({"value": ["The value must be true or false."]})
    if kind == "number":
        number = _decimal(value)
        if number is None:
            raise _invalid({"value": ["The value must be a number."]})
        return number
    if kind == "date":
        if not isinstance(value, str) or not DATE.fullmatch(value):
            raise _invalid({"value": ["The value does not match the format Y-m-d."]})
        return value
    if kind in ("text", "textarea"):
        if not isinstance(value, str):
            raise _invalid({"value": ["The value must be a string."]})
        return value
    if isinstance(value, dict | list):
        raise _invalid({"value": ["The value must be a single value."]})
    return value


def _field_matches(field: Record, stored: Any, wanted: str) -> bool:
    if field["type"] == "checkbox":
        return bool(stored) == _truthy(wanted)
    if isinstance(stored, Decimal):
        other = _decimal(wanted)
        return other is not None and other == stored
    return ("" if stored is None else str(stored)) == wanted


class Inventory(SimulatorPart):
    """Product groups, custom fields, lots, `/items` and inventory adjustments of a `RackbeatSimulator`."""

    def routes(self) -> list[tuple[str, str, Handler]]:
        # Each `{...}` pattern is anchored and ends before the next segment, so none shadows another here or in
        # rackbeat.py (`/products/{number}/fields` cannot match `/products/{number}`).
        return [
            ("GET", "/product-groups", self._list_groups),
            ("GET", "/product-groups/{number}", self._get_group),
            ("GET", "/fields", self._list_fields),
            ("GET", "/products/{number}/fields", self._list_field_values),
            ("PUT", "/products/{number}/fields/{field_id}", self._put_field_value),
            ("GET", "/lots", self._list_lots),
            ("POST", "/lots", self._create_lot),
            ("GET", "/lots/{number}", self._get_lot),
            ("PUT", "/lots/{number}", self._update_lot),
            ("GET", "/items", self._list_items),
            ("GET", "/items/{number}", self._get_item),
            ("GET", "/inventory-adjustments", self._list_adjustments),
            ("POST", "/inventory-adjustments", self._create_adjustment_route),
            ("GET", "/inventory-adjustments/{regulation_id}", self._get_adjustment),
            ("POST", "/inventory-adjustments/{regulation_id}/book", self._book_adjustment_route),
        ]

    # ---- product groups --------------------------------------------------------------------------------------------

    def _list_groups(self, request: SimRequest) -> SimResponse:
        rows = list(self._acct.product_groups.values())
        return _page_response(request, "product_groups", rows, _render, GROUP_FILTERS, REFERENCE_SEARCH)

    def _get_group(self, request: SimRequest, number: str) -> SimResponse:
        group = self._acct.product_groups.get(unquote(number))
        if group is None:
            raise _not_found()
        return json_response(200, {"product_group": _render(group)})

    # ---- custom fields ---------------------------------------------------------------------------------------------

    def _list_fields(self, request: SimRequest) -> SimResponse:
        wanted = request.arg("for")
        # Guess: without `for` every field is listed, item and customer fields alike.
        rows = [f for _, f in sorted(self._acct.fields.items()) if not wanted or f["for"] == wanted]
        return _page_response(request, "fields", rows, _render, FIELD_FILTERS, ("name",))

    def _item_field(self, field_id: Any) -> Record:
        number = _int(field_id)
        field = self._acct.fields.get(number if number is not None else -1)
        if field is None or field["for"] != "item":
            raise _not_found()  # guess: an unknown (or customer) field in the path is a 404, like an unknown item
        return field

    def _value_row(self, item: Record, field: Record) -> Record:
        value = item["_field_values"].get(field["id"], _unset(field))
        return {"field": {"id": field["id"], "name": field["name"], "type": field["type"]}, "value": _plain(value)}

    def _list_field_values(self, request: SimRequest, number: str) -> SimResponse:
        product = self._sim._product(number)
        # Guess: every item field is listed, set or not, so a client sees unticked checkboxes as false.
        fields = [f for _, f in sorted(self._acct.fields.items()) if f["for"] == "item"]
        rows = [self._value_row(product, field) for field in fields]
        return _page_response(request, "field_values", rows, lambda row: row, frozenset(), ())

    def _put_field_value(self, request: SimRequest, number: str, field_id: str) -> SimResponse:
        product = self._sim._product(number)
        body = _body(request)
        if "value" not in body:
            raise _invalid({"value": ["The value field is required."]})
        # Guess: the answer's envelope `{"field_value": {...}}`, shaped like one row of the list.
        return json_response(200, {"field_value": self._set_value(product, field_id, body["value"])})

    def set_field_value(self, number: str, field_id: int, value: Any) -> Record:
        """The control method's entry (account context set by the caller): the number is not URL-encoded."""
        product = self._acct.products.get(number)
        if product is None:
            raise _not_found()
        return self._set_value(product, field_id, value)

    def _set_value(self, product: Record, field_id: Any, value: Any) -> Record:
        field = self._item_field(field_id)
        product["_field_values"][field["id"]] = _field_value(field, value)
        product["updated_at"] = _now()  # so `updated_at_from` polling sees the change too
        self._sim._emit("product.updated", product["number"])  # guess: a field value change is a product update
        return self._value_row(product, field)

    def filter_field_eq(self, request: SimRequest, rows: list[Record]) -> list[Record]:
        """The sheet's `field_eq[<field id>]=value` filter over items' custom field values."""
        for key, values in request.query.items():
            found = re.fullmatch(r"field_eq\[(\w+)\]", key)
            if found is None:
                continue
            field_id = _int(found.group(1))
            field = self._acct.fields.get(field_id if field_id is not None else -1)
            if field is None or field["for"] != "item":
                raise _invalid({key: [f"Property '{key}' is not filterable"]})  # guess: as for simple_filter
            rows = [
                row
                for row in rows
                if _field_matches(field, row["_field_values"].get(field["id"], _unset(field)), values[0])
            ]
        return rows

    # ---- lots (BOMs) -----------------------------------------------------------------------------------------------

    def _lot(self, number: str) -> Record:
        lot = self._acct.lots.get(unquote(number))
        if lot is None:
            raise _not_found()
        return lot

    def _lot_lines(self, raw: Any, errors: Errors) -> list[Record]:
        """`lines: [{"item_id": <product number>, "quantity": n}]`; null or absent is a lot without lines (guess)."""
        if raw is None:
            return []
        if not isinstance(raw, list):
            errors["lines"] = ["The lines must be an array."]
            return []
        lines: list[Record] = []
        for index, line in enumerate(raw):
            prefix = f"lines.{index}."
            if not isinstance(line, dict):
                errors[f"lines.{index}"] = ["The line must be an object."]
                continue
            item_id = line.get("item_id")
            # Guess: a lot is built from products only (no lot inside a lot); the message is the order lines' one.
            product = self._acct.products.get(str(item_id)) if item_id is not None else None
            quantity = _decimal(line.get("quantity"))
            if product is None:
                errors[prefix + "item_id"] = ["Product needed"]
            if quantity is None or quantity <= 0:
                errors[prefix + "quantity"] = ["The quantity must be a number greater than 0."]
            if product is not None and quantity is not None and quantity > 0:
                lines.append({"item_id": product["number"], "quantity": quantity})
        return lines

    def _render_lot(self, lot: Record, held: Reservations | None = None) -> Any:
        rendered = self._sim._render_product(lot, held)
        rendered["lines"] = [
            {
                "item_id": line["item_id"],
                "name": self._acct.products.get(line["item_id"], {}).get("name"),
                "quantity": _plain(line["quantity"]),
            }
            for line in lot["lines"]
        ]
        return rendered

    def _list_lots(self, request: SimRequest) -> SimResponse:
        rows = self.filter_field_eq(request, [self._acct.lots[n] for n in sorted(self._acct.lots)])
        held = self._sim._reservations()
        return _page_response(
            request, "lots", rows, lambda row: self._render_lot(row, held), PRODUCT_FILTERS, PRODUCT_SEARCH
        )

    def _create_lot(self, request: SimRequest) -> SimResponse:
        body = _body(request)
        lot = self._sim._new_item(body)  # same fields and rules as a product, and never a product's number
        errors: Errors = {}
        lot["lines"] = self._lot_lines(body.get("lines"), errors)
        _raise_if(errors)
        self._acct.lots[lot["number"]] = lot
        self._sim._emit("lot.created", lot["number"])  # guess: event name by analogy with product.created
        return json_response(201, {"lot": self._render_lot(lot)})

    def _get_lot(self, request: SimRequest, number: str) -> SimResponse:
        return json_response(200, {"lot": self._render_lot(self._lot(number))})

    def _update_lot(self, request: SimRequest, number: str) -> SimResponse:
        lot, body = self._lot(number), _body(request)
        errors: Errors = {}
        lines = self._lot_lines(body["lines"], errors) if "lines" in body else lot["lines"]  # guess: lines replace
        _raise_if(errors)
        lot.update(self._sim._product_fields(body, creating=False), lines=lines, updated_at=_now())
        self._sim._emit("lot.updated", lot["number"])  # guess: event name
        return json_response(200, {"lot": self._render_lot(lot)})

    # ---- /items: products and lots together (read-only) ------------------------------------------------------------

    def _render_item(self, item: Record, held: Reservations | None = None) -> Any:
        return self._render_lot(item, held) if item["type"] == "lot" else self._sim._render_product(item, held)

    def _list_items(self, request: SimRequest) -> SimResponse:
        # Guess: `type` ("product" | "lot") tells the two apart; rows are ordered by number across both kinds.
        rows = [{**p, "type": "product"} for p in self._acct.products.values()]
        rows += [{**lot, "type": "lot"} for lot in self._acct.lots.values()]
        rows = self.filter_field_eq(request, sorted(rows, key=lambda row: str(row["number"])))
        held = self._sim._reservations()
        return _page_response(
            request, "items", rows, lambda row: self._render_item(row, held), ITEM_FILTERS, PRODUCT_SEARCH
        )

    def _get_item(self, request: SimRequest, number: str) -> SimResponse:
        key = unquote(number)
        if key in self._acct.products:
            item = {**self._acct.products[key], "type": "product"}
        elif key in self._acct.lots:
            item = {**self._acct.lots[key], "type": "lot"}
        else:
            raise _not_found()
        return json_response(200, {"item": self._render_item(item)})

    # ---- inventory adjustments -------------------------------------------------------------------------------------

    def _adjustment_line(self, raw: Any, prefix: str, errors: Errors) -> Record | None:
        """One line of an adjustment (`prefix` "" for the single form, "lines.N." for the multi-line form)."""
        if not isinstance(raw, dict):
            errors[prefix.rstrip(".")] = ["The line must be an object."]
            return None
        problems: Errors = {}
        item_id = raw.get("item_id")
        product = self._acct.products.get(str(item_id)) if item_id is not None else None
        if item_id is None:
            problems[prefix + "item_id"] = ["The item id field is required."]
        elif product is None:
            # Guess: adjustments register stock of products; a lot's stock is not simulated.
            known_lot = str(item_id) in self._acct.lots
            problems[prefix + "item_id"] = [
                "Stock of a lot can not be adjusted." if known_lot else "The selected item id is invalid."
            ]
        elif not product["inventory_enabled"]:
            problems[prefix + "item_id"] = ["The item does not keep inventory."]  # guess: wording
        # Guess: `quantity` is a change (+ adds, - removes), not the counted total; the sheet's "zero-change
        # adjustment is rejected" fits a delta.
        quantity = _decimal(raw.get("quantity"))
        if quantity is None:
            problems[prefix + "quantity"] = ["The quantity field is required and must be a number."]
        elif quantity == 0:
            problems[prefix + "quantity"] = ["The quantity can not be 0."]
        location = raw.get("location")
        if isinstance(location, dict):
            location = location.get("number")  # guess: tolerate {"number": ...} like other references
        if location is not None and str(location) not in self._acct.locations:
            problems[prefix + "location"] = ["The selected location is invalid."]
        errors.update(problems)
        if problems or product is None or quantity is None:
            return None
        return {
            "item_id": product["number"],
            "quantity": quantity,
            "location": None if location is None else str(location),
        }

    def create_adjustment(self, body: Record) -> Record:
        """Validate a POST /inventory-adjustments body completely, then store the (unbooked) adjustment."""
        errors: Errors = {}
        kind = body.get("adjustment_type")
        if kind is None:
            errors["adjustment_type"] = ["The adjustment type field is required."]
        elif kind != "quantity":
            # Guess: only quantity adjustments are simulated; the sheet shows no other type.
            errors["adjustment_type"] = ["The selected adjustment type is invalid."]
        reason = body.get("reason")
        if reason is not None and not isinstance(reason, str):
            errors["reason"] = ["The reason must be a string."]
        regulated_at = body.get("regulated_at")
        if regulated_at is not None and not (isinstance(regulated_at, str) and STAMP.fullmatch(regulated_at)):
            errors["regulated_at"] = ["The regulated at does not match the format Y-m-d H:i:s."]
        if "lines" in body:
            # Guess: a multi-line form `{adjustment_type, reason, regulated_at, lines: [{item_id, quantity,
            # location}]}`. The sheet documents only the single-item form; Rackbeat's UI regulations have lines,
            # and Crossdock books bulk stock imports this way, so the simulator accepts both.
            raw_lines = body["lines"]
            if "item_id" in body:
                errors["item_id"] = ["Give either item_id or lines, not both."]  # guess
            if not isinstance(raw_lines, list) or not raw_lines:
                errors["lines"] = ["The lines must be a non-empty array."]
                raw_lines = []
            lines = [self._adjustment_line(raw, f"lines.{i}.", errors) for i, raw in enumerate(raw_lines)]
        else:
            lines = [self._adjustment_line(body, "", errors)]
        _raise_if(errors)
        stamp = _now()
        regulation: Record = {
            "id": self._sim._next_id("adjustment"),
            "adjustment_type": "quantity",
            "reason": reason,
            "regulated_at": regulated_at or stamp,  # guess: defaults to the moment it is made
            "is_booked": False,
            "booked_at": None,
            "lines": [line for line in lines if line is not None],
            "created_at": stamp,
            "updated_at": stamp,
        }
        self._acct.adjustments[regulation["id"]] = regulation
        return regulation

    def book_adjustment(self, regulation: Record) -> None:
        """Apply every line to its product's total and location stock, all or nothing; one `product.stock_changed`
        per item whose stock really changed."""
        if regulation["is_booked"]:
            raise _invalid({"inventory_regulation": ["The adjustment is already booked."]})  # guess: key and wording
        products = self._acct.products
        # The items may have changed since the adjustment was made (deleted, stock switched off): check again first.
        errors: Errors = {}
        for index, line in enumerate(regulation["lines"]):
            product = products.get(line["item_id"])
            if product is None or not product["inventory_enabled"]:
                errors[f"lines.{index}.item_id"] = ["The item no longer keeps inventory."]
        _raise_if(errors)
        stamp = _now()
        moved: dict[str, dict[str | None, Decimal]] = {}  # item → location (None: the total only) → net change
        for line in regulation["lines"]:
            product = products[line["item_id"]]
            product["stock_quantity"] += line["quantity"]
            if line["location"] is not None:
                per_location = product["_locations"]
                per_location[line["location"]] = per_location.get(line["location"], Decimal(0)) + line["quantity"]
            product.update(updated_at=stamp, _stock_moved=True)
            net = moved.setdefault(product["number"], {})
            net[line["location"]] = net.get(line["location"], Decimal(0)) + line["quantity"]
        regulation.update(is_booked=True, booked_at=stamp, updated_at=stamp)
        # +2 and -2 at the same place leave the item as it was: nothing to announce then.
        for number, net in moved.items():
            if any(net.values()):
                self._sim._emit("product.stock_changed", number)

    def adjust(self, number: str, delta: Decimal, location: str | None, reason: str) -> Record:
        """Create and book a one-line adjustment, as a warehouse worker does in Rackbeat's UI."""
        body = {
            "adjustment_type": "quantity",
            "item_id": number,
            "quantity": str(delta),
            "location": location,
            "reason": reason,
        }
        regulation = self.create_adjustment(body)
        self.book_adjustment(regulation)
        return regulation

    def stock_of(self, number: str, location: str | None) -> Decimal:
        product = self._acct.products.get(number)
        if product is None:
            raise _invalid({"item_id": ["The selected item id is invalid."]})
        if location is None:
            total: Decimal = product["stock_quantity"]
            return total
        if str(location) not in self._acct.locations:
            raise _invalid({"location": ["The selected location is invalid."]})
        return Decimal(product["_locations"].get(str(location), Decimal(0)))

    def _adjustment(self, regulation_id: str) -> Record:
        regulation = self._acct.adjustments.get(_int(regulation_id) or 0)
        if regulation is None:
            raise _not_found()
        return regulation

    def _list_adjustments(self, request: SimRequest) -> SimResponse:
        rows = [self._acct.adjustments[i] for i in sorted(self._acct.adjustments)]
        # Guess: the list's plural key follows the path (`inventory_adjustments`), while one adjustment comes as
        # `inventory_regulation` (seen).
        return _page_response(request, "inventory_adjustments", rows, _render, ADJUSTMENT_FILTERS, ADJUSTMENT_SEARCH)

    def _create_adjustment_route(self, request: SimRequest) -> SimResponse:
        regulation = self.create_adjustment(_body(request))
        return json_response(201, {"inventory_regulation": _render(regulation)})

    def _get_adjustment(self, request: SimRequest, regulation_id: str) -> SimResponse:
        return json_response(200, {"inventory_regulation": _render(self._adjustment(regulation_id))})

    def _book_adjustment_route(self, request: SimRequest, regulation_id: str) -> SimResponse:
        regulation = self._adjustment(regulation_id)
        _body(request)  # an empty body or {} is expected; nothing in it changes the booking
        self.book_adjustment(regulation)
        return json_response(200, {"inventory_regulation": _render(regulation)})  # guess: 200 with the adjustment
