"""Shopify's catalog in the simulator: locations, products, variants, inventory items and levels, bulk export.

Follows the fact sheet `../shared/reference/shopify.md`:

- "Versions and API style": products are stored REST-shaped exactly as the `products/create` webhook carries them
  (the shape of `../shared/fixtures/shopify/2025-01/product_*.json`); GraphQL's `Product`, `ProductVariant`,
  `InventoryItem` and `InventoryLevel` are derived from that store. `products/create|update|delete`,
  `inventory_levels/update` and `bulk_operations/finish` go through the simulator's signed outbox.
- "Limits": at most 250 quantities per `inventorySetQuantities`; connections page ≤ 250 with
  `pageInfo { hasNextPage endCursor }`. Top-level cursors name the last id (as Shopify's do), so a product deleted
  between two pages makes nothing else skip a page.
- "Mutations Crossdock needs": `productSet` replaces the lists it is sent (variants not sent are deleted),
  `productUpdate` and `productVariantsBulkUpdate` change only the fields given, cost lives on the inventory item
  (`inventoryItemUpdate`). `inventorySetQuantities` from 2026-04: `changeFromQuantity` on every quantity (explicit
  null skips the compare; a stale value → CHANGE_FROM_QUANTITY_STALE and nothing is applied) and a mandatory
  `@idempotent(key:)`; a key replays its first result for 24 h and refuses other input.
- "Rate limits" (bulk operations): at most 5 running per shop; the JSONL has one line per node of the root
  connection and one per node of a nested connection, carrying `__parentId`. An operation completes once
  `bulk_duration` seconds of simulator clock have passed, checked lazily whenever its shop is looked at.

Search arguments (`query:`) follow Shopify's syntax as far as Crossdock needs it: `field:value`,
`field:"quoted \\"value\\""`, `OR`, `AND` (also implicit), `-`/`NOT`, a trailing `*` for a prefix and `<`, `>`
on dates. Unknown fields are ignored as Shopify ignores them; bare words match title or SKU.
"""

from __future__ import annotations

import base64
import bisect
import copy
import json
import random
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, TypeVar

from crossdock_local.sims.base import SimRequest, SimResponse, _json_default, json_response
from crossdock_local.sims.shopify import (
    INVALID_TOKEN,
    Resolver,
    Shop,
    _uuid,
    connection,
    gid,
    gql_datetime,
    gql_decimal,
)
from crossdock_local.sims.shopify_errors import ApiError
from crossdock_local.sims.shopify_graphql import GqlField, field_type_name, parse_bulk_query
from crossdock_local.sims.shopify_paging import connection_page, first_or_last

if TYPE_CHECKING:
    from crossdock_local.sims.shopify import ShopifySimulator

T = TypeVar("T")

DEFAULT_LOCATION_NAME = "Shop location"
DEFAULT_TITLE = "Default Title"  # the option value of a product without real options
IDEMPOTENCY_REQUIRED_FROM = "2026-04"
IDEMPOTENT_REQUIRED = frozenset({"inventorySetQuantities"})  # the modelled mutations the fact sheet lists
IDEMPOTENCY_TTL = 24 * 3600.0
BULK_RESULT_TTL = 7 * 24 * 3600.0  # fact sheet: "result URL valid 7 days"
MAX_RUNNING_BULK_OPERATIONS = 5  # fact sheet: "up to 5 concurrent per shop from 2026-01"
MAX_BULK_CONNECTIONS = 5
MAX_INPUT_ARRAY = 250  # fact sheet: "array inputs ≤ 250 items"
MAX_QUANTITY = 1_000_000_000
MAX_OPTIONS = 3
QUANTITY_NAMES = (
    "available",
    "on_hand",
    "committed",
    "incoming",
    "reserved",
    "damaged",
    "safety_stock",
    "quality_control",
)
SETTABLE_QUANTITY_NAMES = ("available", "on_hand")
INVENTORY_REASONS = frozenset(
    {
        "correction",
        "cycle_count_available",
        "damaged",
        "movement_created",
        "movement_updated",
        "movement_received",
        "movement_canceled",
        "other",
        "promotion",
        "quality_control",
        "received",
        "reservation_created",
        "reservation_deleted",
        "reservation_updated",
        "restock",
        "safety_stock",
        "shrinkage",
    }
)
WEIGHT_UNITS = {"KILOGRAMS": "kg", "GRAMS": "g", "POUNDS": "lb", "OUNCES": "oz"}  # GraphQL enum → REST
WEIGHT_ENUMS = {rest: enum for enum, rest in WEIGHT_UNITS.items()}
GRAMS_PER_UNIT = {"kg": Decimal(1000), "g": Decimal(1), "lb": Decimal("453.59237"), "oz": Decimal("28.349523125")}
PRODUCT_STATUSES = ("active", "draft", "archived")
CENT = Decimal("0.01")
ACTIVE_BULK_STATUSES = ("CREATED", "RUNNING")

# Names for the generated catalog: a Danish homeware shop, like the order generator's.
SEED_PRODUCTS = (
    "Uldsokker",
    "Kaffekop",
    "Lærredsnet",
    "Hørviskestykke",
    "Stearinlys",
    "Keramikskål",
    "Plaid",
    "Bordlampe",
    "Tekande",
    "Skærebræt",
)
SEED_SIZES = ("S", "M", "L", "XL", "XXL")
SEED_PRICES = ("49.00", "79.95", "99.00", "129.00", "149.00", "199.00", "249.00", "299.95", "399.00", "549.00")
SEED_VENDORS = ("Nordisk Hjem", "Fanø Væveri", "Bornholm Keramik")


class UnknownProduct(KeyError):
    """The shop has no product with that id."""


class UnknownVariant(KeyError):
    """The product has no variant with that id."""


class UnknownInventoryItem(KeyError):
    """The shop has no inventory item with that id."""


class UnknownLocation(KeyError):
    """The shop has no location with that id."""


# --------------------------------------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------------------------------------


@dataclass
class Location:
    id: int
    name: str
    active: bool
    created_at: str  # REST timestamp in the shop's offset

    @property
    def gid(self) -> str:
        return gid("Location", self.id)

    def rest(self) -> dict[str, Any]:
        """The REST location, shaped like the fixture `location_0.json` (a Danish shop without an address)."""
        return {
            "id": self.id,
            "name": self.name,
            "address1": None,
            "address2": None,
            "city": None,
            "zip": None,
            "province": None,
            "country": "DK",
            "phone": None,
            "created_at": self.created_at,
            "updated_at": self.created_at,
            "country_code": "DK",
            "country_name": "Denmark",
            "province_code": None,
            "legacy": False,
            "active": self.active,
            "admin_graphql_api_id": self.gid,
            "localized_country_name": "Denmark",
            "localized_province_name": None,
        }


@dataclass
class InventoryItem:
    """1:1 with a variant. SKU, tracking and weight are read from the REST variant, so they never disagree."""

    id: int
    variant: dict[str, Any]
    cost: Decimal | None
    created_at: str
    updated_at: str

    @property
    def sku(self) -> str | None:
        sku: str | None = self.variant.get("sku")
        return sku

    @property
    def tracked(self) -> bool:
        return self.variant.get("inventory_management") == "shopify"


@dataclass
class InventoryLevel:
    """Stock of one item at one location. `on_hand` = `available` + `committed` (unfulfilled orders)."""

    inventory_item_id: int
    location_id: int
    available: int
    committed: int
    updated_at: str

    @property
    def on_hand(self) -> int:
        return self.available + self.committed

    @property
    def gid(self) -> str:
        return f"gid://shopify/InventoryLevel/{self.location_id}?inventory_item_id={self.inventory_item_id}"

    def quantity(self, name: str) -> int:
        # Incoming, reserved, damaged etc. are not modelled and stay 0.
        return {"available": self.available, "on_hand": self.on_hand, "committed": self.committed}.get(name, 0)

    def rest(self) -> dict[str, Any]:
        """The `inventory_levels/update` payload (fixture `inventory_level_0.json`)."""
        return {
            "inventory_item_id": self.inventory_item_id,
            "location_id": self.location_id,
            "available": self.available,
            "updated_at": self.updated_at,
            "admin_graphql_api_id": self.gid,
        }


@dataclass
class BulkOperation:
    id: int
    query: str
    fields: list[GqlField]  # the parsed, validated inner query
    created_clock: float
    duration: float
    created_at: datetime
    status: str = "CREATED"
    error_code: str | None = None
    completed_at: datetime | None = None
    object_count: int = 0
    root_object_count: int = 0
    file_size: int | None = None
    url: str | None = None

    @property
    def gid(self) -> str:
        return gid("BulkOperation", self.id)


@dataclass
class BulkFile:
    body: bytes
    expires: float  # simulator clock


@dataclass
class Replay:
    """What an idempotency key answered the first time, and the input it answered."""

    fingerprint: str
    result: Any
    expires: float


@dataclass
class ShopCatalog:
    locations: dict[int, Location] = field(default_factory=dict)  # in creation order; the first is primary
    products: dict[int, dict[str, Any]] = field(default_factory=dict)  # REST-shaped, as webhooks carry them
    variants: dict[int, dict[str, Any]] = field(default_factory=dict)  # the same dicts as in product["variants"]
    items: dict[int, InventoryItem] = field(default_factory=dict)
    levels: dict[int, dict[int, InventoryLevel]] = field(default_factory=dict)  # item id → location id → level
    handles: dict[str, int] = field(default_factory=dict)
    bulk_operations: list[BulkOperation] = field(default_factory=list)
    idempotency: dict[str, Replay] = field(default_factory=dict)
    # Casefolded SKU → item ids, rebuilt after any SKU change: stock sync searches 250 SKUs at a time in 30,000.
    sku_index: dict[str, list[int]] | None = None

    @property
    def primary_location(self) -> Location:
        return next(iter(self.locations.values()))


# --------------------------------------------------------------------------------------------------------------------
# Search syntax
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchTerm:
    field: str | None  # None: free text
    value: str
    negate: bool = False
    comparator: str = ""  # "", ">", ">=", "<", "<="
    quoted: bool = False

    @property
    def exact_sku(self) -> bool:
        return self.field == "sku" and not self.negate and not self.comparator and not self._wildcard

    @property
    def _wildcard(self) -> bool:
        return self.value.endswith("*") and not self.quoted


_FIELD_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*):(>=|<=|>|<)?")


def parse_search(text: str | None) -> list[list[SearchTerm]]:
    """`a:1 b:2 OR c:3` → [[a:1, b:2], [c:3]]: OR of AND-groups, as Shopify reads it (AND binds tighter)."""
    groups: list[list[SearchTerm]] = [[]]
    text = text or ""
    pos = 0
    while pos < len(text):
        if text[pos].isspace() or text[pos] in "()":  # grouping is not modelled; terms stay in order
            pos += 1
            continue
        word = re.match(r"(OR|AND|NOT)(?=\s|$)", text[pos:])
        if word and word.group(1) == "OR":
            groups.append([])
            pos += 2
            continue
        if word and word.group(1) == "AND":
            pos += 3
            continue
        negate = False
        if word and word.group(1) == "NOT":
            negate, pos = True, pos + 3
            while pos < len(text) and text[pos].isspace():
                pos += 1
        elif text[pos] == "-":
            negate, pos = True, pos + 1
        name: str | None = None
        comparator = ""
        match = _FIELD_RE.match(text, pos)
        if match:
            name, comparator, pos = match.group(1).lower(), match.group(2) or "", match.end()
        value, pos, quoted = _search_value(text, pos)
        groups[-1].append(SearchTerm(name, value, negate, comparator, quoted))
    return [group for group in groups if group]


def _search_value(text: str, pos: int) -> tuple[str, int, bool]:
    if pos < len(text) and text[pos] in "\"'":
        quote, pos, chars = text[pos], pos + 1, []
        while pos < len(text) and text[pos] != quote:
            if text[pos] == "\\" and pos + 1 < len(text):
                pos += 1  # backslash escapes the next character: \" → ", \\ → \
            chars.append(text[pos])
            pos += 1
        return "".join(chars), pos + 1, True
    end = pos
    while end < len(text) and not text[end].isspace() and text[end] not in "()":
        end += 1
    return text[pos:end], end, False


Getter = Callable[[Any], Any]
DATE_FIELDS = frozenset({"created_at", "updated_at"})
ID_FIELDS = frozenset({"id", "product_id", "inventory_item_id"})


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _parse_time(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _compare(left: Any, comparator: str, right: Any) -> bool:
    if comparator == ">":
        return bool(left > right)
    if comparator == ">=":
        return bool(left >= right)
    if comparator == "<":
        return bool(left < right)
    return bool(left <= right)


def _value_matches(term: SearchTerm, value: Any) -> bool:
    if value is None:
        return False
    wanted, have = term.value.casefold(), str(value).casefold()
    if term.field in ID_FIELDS:
        wanted = wanted.rsplit("/", 1)[-1]  # a GID is accepted where an id is
    if term.comparator:
        if term.field in DATE_FIELDS:
            left, right = _parse_time(str(value)), _parse_time(term.value)
            return left is not None and right is not None and _compare(left, term.comparator, right)
        try:
            return _compare(Decimal(have), term.comparator, Decimal(wanted))
        except InvalidOperation:
            return False
    if wanted.endswith("*") and not term.quoted:
        return have.startswith(wanted[:-1])
    if term.field is None or term.field == "title":
        return wanted in have  # text search: a word of the title is enough
    return have == wanted


def _term_matches(term: SearchTerm, obj: Any, fields: dict[str, Getter], text_fields: tuple[str, ...]) -> bool:
    if term.field is not None and term.field not in fields:
        return True  # Shopify ignores a filter it does not know (with a warning), it does not fail the query
    names = text_fields if term.field is None else (term.field,)
    found = any(_value_matches(term, value) for name in names for value in _as_list(fields[name](obj)))
    return found != term.negate


def _search(
    items: Iterable[T], groups: list[list[SearchTerm]], fields: dict[str, Getter], text_fields: tuple[str, ...]
) -> list[T]:
    if not groups:
        return list(items)
    return [
        item
        for item in items
        if any(all(_term_matches(term, item, fields, text_fields) for term in group) for group in groups)
    ]


def _exact_skus(groups: list[list[SearchTerm]]) -> list[str] | None:
    """The SKUs of `sku:A OR sku:B ...`, the query stock sync sends; None when the query is anything else."""
    if not groups or any(len(group) != 1 or not group[0].exact_sku for group in groups):
        return None
    return [group[0].value.casefold() for group in groups]


# --------------------------------------------------------------------------------------------------------------------
# Paging by id, as Shopify's cursors do
# --------------------------------------------------------------------------------------------------------------------


def _encode_id_cursor(legacy_id: int) -> str:
    return base64.b64encode(json.dumps({"last_id": legacy_id, "last_value": str(legacy_id)}).encode()).decode()


def _decode_id_cursor(cursor: Any) -> int:
    try:
        return int(json.loads(base64.b64decode(str(cursor)))["last_id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ApiError(f"Invalid cursor '{cursor}'", "argumentLiteralsIncompatible") from exc


def page_by_id(
    items: Sequence[T], args: dict[str, Any], id_of: Callable[[T], int], to_node: Callable[[T], dict[str, Any]]
) -> dict[str, Any]:
    """One page of id-ordered `items`; only the page is converted to GraphQL nodes (30,000 variants stay cheap)."""
    ids = [id_of(item) for item in items]
    start = bisect.bisect_right(ids, _decode_id_cursor(args["after"])) if args.get("after") else 0
    end = bisect.bisect_left(ids, _decode_id_cursor(args["before"])) if args.get("before") else len(ids)
    window = first_or_last(range(start, max(start, end)), args)
    edges = [{"cursor": _encode_id_cursor(ids[index]), "node": to_node(items[index])} for index in window]
    return connection_page(
        edges,
        has_next_page=bool(window) and window[-1] < len(ids) - 1,
        has_previous_page=bool(window) and window[0] > 0,
    )


class LazyConnection:
    """A nested connection: paged (with cursors) when a query selects it, all nodes at once for a bulk export."""

    def __init__(self, nodes: Callable[[], list[dict[str, Any]]]) -> None:
        self.all_nodes = nodes

    def __call__(self, args: dict[str, Any]) -> dict[str, Any]:
        return connection(self.all_nodes())(args)


def _check_quantity_names(names: Any) -> None:
    # `names` is `[String!]!` in the schema; which strings name a quantity is checked when the field resolves.
    unknown = [name for name in _as_list(names) if name not in QUANTITY_NAMES]
    if unknown:
        raise ApiError(
            f"Invalid quantity name(s) {', '.join(map(repr, unknown))}; valid names are {', '.join(QUANTITY_NAMES)}",
            "argumentLiteralsIncompatible",
        )


# --------------------------------------------------------------------------------------------------------------------
# Values: ids, money, weight, handles
# --------------------------------------------------------------------------------------------------------------------


def _legacy_of(value: Any, kind: str) -> int | None:
    """The numeric id of `gid://shopify/<kind>/<id>`; None for a well-formed GID of another kind."""
    match = re.fullmatch(r"gid://shopify/(\w+)/(\d+)(\?.*)?", str(value))
    if match is None:
        raise ApiError(f"Invalid global id '{value}'", "argumentLiteralsIncompatible")
    return int(match.group(2)) if match.group(1) == kind else None


def _money(value: Any, what: str) -> str:
    """REST money: a two-decimal string. GraphQL `Money`/`Decimal` inputs arrive as strings or numbers."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ApiError(f"Invalid value for {what}: {value!r} is not a decimal", "INVALID_VARIABLE") from None
    if not amount.is_finite():
        raise ApiError(f"Invalid value for {what}: {value!r} is not a decimal", "INVALID_VARIABLE")
    return str(amount.quantize(CENT, ROUND_HALF_UP))


def _cost(value: Any) -> Decimal | None:
    return None if value is None else Decimal(_money(value, "cost"))


def _grams(weight: Any, unit: str) -> int:
    return int((Decimal(str(weight or 0)) * GRAMS_PER_UNIT.get(unit, Decimal(1000))).to_integral_value(ROUND_HALF_UP))


def _weight_input(measurement: Any) -> tuple[float, str] | None:
    """`{weight: {unit: KILOGRAMS, value: 1.2}}` → (1.2, "kg"); None when no weight is given."""
    weight = measurement.get("weight") if isinstance(measurement, dict) else None
    if not isinstance(weight, dict):
        return None
    unit = weight.get("unit", "KILOGRAMS")
    if unit not in WEIGHT_UNITS:
        raise ApiError(f"Invalid value for WeightUnit: {unit!r}", "INVALID_VARIABLE")
    try:
        value = float(weight.get("value") or 0)
    except (TypeError, ValueError):
        raise ApiError(f"Invalid value for weight: {weight.get('value')!r}", "INVALID_VARIABLE") from None
    return value, WEIGHT_UNITS[unit]


_TRANSLITERATE = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ß": "ss"})


def _slug(title: str) -> str:
    text = unicodedata.normalize("NFKD", title.lower().translate(_TRANSLITERATE))
    text = "".join(char for char in text if not unicodedata.combining(char))
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "product"


def _status(value: Any) -> str:
    status = str(value).lower()
    if status not in PRODUCT_STATUSES:
        raise ApiError(f"Invalid value for ProductStatus: {value!r}", "INVALID_VARIABLE")
    return status


def _tags(value: Any) -> str:
    return ", ".join(str(tag) for tag in value) if isinstance(value, list) else str(value or "")


def _error(path: list[Any], message: str, code: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"field": [str(part) for part in path], "message": message}
    if code is not None:
        error["code"] = code
    return error


def _at_least(version: str, minimum: str) -> bool:
    return version == "unstable" or version >= minimum  # "YYYY-MM" compares as text


# Bulk files are compact UTF-8 JSON lines, like Shopify's.
_jsonl_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_json_default)


# --------------------------------------------------------------------------------------------------------------------
# The catalog service
# --------------------------------------------------------------------------------------------------------------------


class Catalog:
    """Catalog state lives on each `Shop.catalog`; this object owns the logic and registers the GraphQL resolvers.

    It shares the simulator's lock, ids, clock and outbox: every public method takes the lock.
    """

    def __init__(self, sim: ShopifySimulator) -> None:
        self.sim = sim
        self.bulk_files: dict[str, BulkFile] = {}
        resolvers: dict[str, Resolver] = {
            "location": self._resolve_location,
            "locations": self._resolve_connection,
            "inventoryItem": self._resolve_inventory_item,
            "inventoryItems": self._resolve_connection,
            "productVariant": self._resolve_variant,
            "productVariants": self._resolve_connection,
            "product": self._resolve_product,
            "products": self._resolve_connection,
            "bulkOperation": self._resolve_bulk_operation,
            "currentBulkOperation": self._resolve_current_bulk_operation,
            "productSet": self._idempotent(self._product_set),
            "productUpdate": self._idempotent(self._product_update),
            "productVariantsBulkUpdate": self._idempotent(self._variants_bulk_update),
            "inventoryItemUpdate": self._idempotent(self._inventory_item_update),
            "inventorySetQuantities": self._idempotent(self._set_quantities),
            "bulkOperationRunQuery": self._idempotent(self._run_bulk_query),
        }
        sim.resolvers.update(resolvers)

    # ---- shops and locations ---------------------------------------------------------------------------------------

    def open_shop(self, shop: Shop) -> ShopCatalog:
        """Every shop starts with one active location, its primary one."""
        catalog = ShopCatalog()
        location = Location(self.sim._new_id(), DEFAULT_LOCATION_NAME, True, self.sim._shop_time(shop))
        catalog.locations[location.id] = location
        return catalog

    def add_location(self, domain: str, name: str, *, active: bool = True) -> dict[str, Any]:
        with self.sim._lock:
            shop = self.sim.shop(domain)
            location = Location(self.sim._new_id(), name, active, self.sim._shop_time(shop))
            shop.catalog.locations[location.id] = location
            return location.rest()

    def _location(self, catalog: ShopCatalog, location_id: int | None) -> Location:
        if location_id is None:
            return catalog.primary_location
        location = catalog.locations.get(int(location_id))
        if location is None:
            raise UnknownLocation(location_id)
        return location

    # ---- control side: products ------------------------------------------------------------------------------------

    def create_product(self, domain: str, product: dict[str, Any], *, emit: bool = True) -> dict[str, Any]:
        """Store a REST product (the fixtures' `{"product": {...}}` envelope is accepted too).

        Ids of the product, its variants, options and inventory items are always assigned here; each variant's
        `inventory_quantity` becomes `available` at the primary location.
        """
        with self.sim._lock:
            shop = self.sim.shop(domain)
            if set(product) == {"product"}:
                product = product["product"]
            stored = self._admit_product(shop, copy.deepcopy(product))
            if emit:
                self.sim._emit(shop, "products/create", stored)
            return copy.deepcopy(stored)

    def _admit_product(self, shop: Shop, data: dict[str, Any]) -> dict[str, Any]:
        catalog, now = shop.catalog, self.sim._shop_time(shop)
        title = str(data.get("title") or "").strip()
        if not title:
            raise ValueError("a product needs a title")
        status = str(data.get("status") or "active")
        if status not in PRODUCT_STATUSES:
            raise ValueError(f"status must be one of {PRODUCT_STATUSES}")
        product_id = self.sim._new_id()
        product: dict[str, Any] = {
            "id": product_id,
            "title": title,
            "body_html": data.get("body_html"),
            "vendor": data.get("vendor") or shop.domain.split(".")[0],  # Shopify's default vendor: the shop
            "product_type": data.get("product_type") or "",
            "created_at": now,
            "handle": self._free_handle(catalog, data.get("handle") or _slug(title)),
            "updated_at": now,
            "published_at": data.get("published_at", now if status == "active" else None),
            "template_suffix": data.get("template_suffix"),
            "published_scope": data.get("published_scope") or "web",
            "tags": _tags(data.get("tags")),
            "status": status,
            "admin_graphql_api_id": gid("Product", product_id),
            "variants": [],
            "options": [],
            "images": [],
            "image": None,
        }
        for position, wanted in enumerate(data.get("variants") or [{}], start=1):
            variant = self._new_variant(shop, product, position, now, tracked=True)
            stock = int(wanted.get("inventory_quantity") or 0)
            self._apply_rest_variant(shop, variant, {k: v for k, v in wanted.items() if k != "inventory_quantity"})
            level = self._stock(catalog, variant["inventory_item_id"], catalog.primary_location.id, now)
            level.available = stock
            self._refresh_quantity(catalog, variant)
        names = [str(option.get("name")) for option in data.get("options") or [] if option.get("name")]
        if not names and any(v.get("option1") not in (None, DEFAULT_TITLE) for v in product["variants"]):
            # Options nobody named: REST calls the first "Title"
            width = max(sum(v[f"option{n}"] is not None for n in (1, 2, 3)) for v in product["variants"])
            names = ["Title", "Option2", "Option3"][:width]
        self._rebuild_options(product, names)
        catalog.products[product_id] = product
        catalog.handles[product["handle"]] = product_id
        return product

    def update_product(
        self,
        domain: str,
        product_id: int | str,
        changes: dict[str, Any],
        *,
        variant_changes: dict[int, dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Change REST fields of the product and, by variant id, of its variants; emits `products/update`.

        A variant's `inventory_quantity` sets `available` at the primary location (and emits
        `inventory_levels/update` when it changes), as editing stock in the Shopify admin does.
        """
        with self.sim._lock:
            shop = self.sim.shop(domain)
            catalog = shop.catalog
            product = self._product(catalog, product_id)
            if set(changes) == {"product"}:
                changes = changes["product"]
            fixed = {"id", "admin_graphql_api_id", "variants", "options", "created_at"} & set(changes)
            if fixed:
                raise ValueError(f"cannot change {sorted(fixed)} (use variant_changes for variants)")
            if "status" in changes and changes["status"] not in PRODUCT_STATUSES:
                raise ValueError(f"status must be one of {PRODUCT_STATUSES}")
            own = {v["id"] for v in product["variants"]}
            for variant_id in variant_changes or {}:
                if int(variant_id) not in own:
                    raise UnknownVariant(variant_id)
            updates = dict(changes)
            if "handle" in updates:
                self._rehandle(catalog, product, str(updates.pop("handle")))
            if "tags" in updates:
                updates["tags"] = _tags(updates["tags"])
            product.update(updates)
            for variant_id, wanted in (variant_changes or {}).items():
                variant = catalog.variants[int(variant_id)]
                stock = wanted.get("inventory_quantity")
                self._apply_rest_variant(shop, variant, {k: v for k, v in wanted.items() if k != "inventory_quantity"})
                if stock is not None:
                    level = self._stock(catalog, variant["inventory_item_id"], catalog.primary_location.id, None)
                    self._set_level(shop, level, available=int(stock))
            renamed = {"title", "option1", "option2", "option3"}
            if any(set(wanted) & renamed for wanted in (variant_changes or {}).values()):
                self._rebuild_options(product, [str(option["name"]) for option in product["options"]])
            product["updated_at"] = self.sim._shop_time(shop)
            self.sim._emit(shop, "products/update", product)
            return copy.deepcopy(product)

    def delete_product(self, domain: str, product_id: int | str) -> None:
        with self.sim._lock:
            shop = self.sim.shop(domain)
            product = self._product(shop.catalog, product_id)
            self._delete_product(shop, product)
            self.sim._emit(shop, "products/delete", {"id": product["id"]})

    def _delete_product(self, shop: Shop, product: dict[str, Any]) -> None:
        catalog = shop.catalog
        for variant in list(product["variants"]):
            self._drop_variant(catalog, variant)
        catalog.handles.pop(product["handle"], None)
        del catalog.products[product["id"]]

    def products(self, domain: str) -> list[dict[str, Any]]:
        with self.sim._lock:
            return copy.deepcopy(list(self.sim.shop(domain).catalog.products.values()))

    def _product(self, catalog: ShopCatalog, product_id: int | str) -> dict[str, Any]:
        text = str(product_id).rsplit("/", 1)[-1]
        product = catalog.products.get(int(text)) if text.isdigit() else None
        if product is None:
            raise UnknownProduct(product_id)
        return product

    # ---- control side: stock ---------------------------------------------------------------------------------------

    def set_available(
        self, domain: str, inventory_item_id: int, quantity: int, location_id: int | None = None
    ) -> dict[str, Any]:
        """Set `available` (stocking the item at the location first if needed); returns the REST level."""
        with self.sim._lock:
            shop = self.sim.shop(domain)
            location = self._location(shop.catalog, location_id)
            level = self._stock(shop.catalog, self._item(shop.catalog, inventory_item_id).id, location.id, None)
            self._set_level(shop, level, available=int(quantity))
            return level.rest()

    def set_committed(
        self, domain: str, inventory_item_id: int, quantity: int, location_id: int | None = None
    ) -> dict[str, Any]:
        """Units reserved by unfulfilled orders: `on_hand` grows with them, `available` does not change."""
        with self.sim._lock:
            shop = self.sim.shop(domain)
            location = self._location(shop.catalog, location_id)
            level = self._stock(shop.catalog, self._item(shop.catalog, inventory_item_id).id, location.id, None)
            level.committed = int(quantity)
            level.updated_at = self.sim._shop_time(shop)
            return level.rest()

    def inventory_item(self, domain: str, inventory_item_id: int | str) -> dict[str, Any]:
        """REST-shaped (fixture `inventory_item.json` plus `cost`, a decimal string as REST writes money)."""
        with self.sim._lock:
            item = self._item(self.sim.shop(domain).catalog, inventory_item_id)
            return {
                "id": item.id,
                "sku": item.sku,
                "created_at": item.created_at,
                "updated_at": item.updated_at,
                "requires_shipping": item.variant.get("requires_shipping", True),
                "cost": None if item.cost is None else str(item.cost),
                "tracked": item.tracked,
                "admin_graphql_api_id": gid("InventoryItem", item.id),
            }

    def inventory(self, domain: str, sku: str) -> list[dict[str, Any]]:
        with self.sim._lock:
            catalog = self.sim.shop(domain).catalog
            return [
                {
                    "inventory_item_id": item.id,
                    "location_id": level.location_id,
                    "available": level.available,
                    "on_hand": level.on_hand,
                }
                for item in catalog.items.values()
                if item.sku == sku
                for level in catalog.levels.get(item.id, {}).values()
            ]

    def _item(self, catalog: ShopCatalog, inventory_item_id: int | str) -> InventoryItem:
        text = str(inventory_item_id).rsplit("/", 1)[-1]
        item = catalog.items.get(int(text)) if text.isdigit() else None
        if item is None:
            raise UnknownInventoryItem(inventory_item_id)
        return item

    def _stock(self, catalog: ShopCatalog, item_id: int, location_id: int, now: str | None) -> InventoryLevel:
        """The item's level at the location, created (stocked there, 0 available) when missing."""
        levels = catalog.levels.setdefault(item_id, {})
        level = levels.get(location_id)
        if level is None:
            level = InventoryLevel(item_id, location_id, 0, 0, now or catalog.items[item_id].updated_at)
            levels[location_id] = level
        return level

    def _set_level(self, shop: Shop, level: InventoryLevel, *, available: int) -> bool:
        """Set `available`; on a change refresh the variant's total and emit `inventory_levels/update`."""
        if level.available == available:
            return False
        level.available = available
        level.updated_at = self.sim._shop_time(shop)
        item = shop.catalog.items[level.inventory_item_id]
        self._refresh_quantity(shop.catalog, item.variant)
        self.sim._emit(shop, "inventory_levels/update", level.rest())
        return True

    def _refresh_quantity(self, catalog: ShopCatalog, variant: dict[str, Any]) -> None:
        # REST's inventory_quantity is the variant's total available over all locations.
        levels = catalog.levels.get(variant["inventory_item_id"], {}).values()
        total = sum(level.available for level in levels)
        variant["inventory_quantity"] = total
        variant["old_inventory_quantity"] = total

    # ---- variants, options, handles --------------------------------------------------------------------------------

    def _new_variant(
        self, shop: Shop, product: dict[str, Any], position: int, now: str, *, tracked: bool
    ) -> dict[str, Any]:
        """A REST variant with every key the fixtures have, and its inventory item; registered in the catalog."""
        variant_id, item_id = self.sim._new_id(), self.sim._new_id()
        variant: dict[str, Any] = {
            "id": variant_id,
            "product_id": product["id"],
            "title": DEFAULT_TITLE,
            "price": "0.00",
            "position": position,
            "inventory_policy": "deny",
            "compare_at_price": None,
            "option1": DEFAULT_TITLE,
            "option2": None,
            "option3": None,
            "created_at": now,
            "updated_at": now,
            "taxable": True,
            "barcode": None,
            "fulfillment_service": "manual",
            "grams": 0,
            "inventory_management": "shopify" if tracked else None,
            "requires_shipping": True,
            "sku": "",
            "weight": 0.0,
            "weight_unit": "kg",
            "inventory_item_id": item_id,
            "inventory_quantity": 0,
            "old_inventory_quantity": 0,
            "presentment_prices": [],
            "admin_graphql_api_id": gid("ProductVariant", variant_id),
            "image_id": None,
        }
        self._set_price(shop, variant, "0.00", None)
        product["variants"].append(variant)
        catalog = shop.catalog
        catalog.variants[variant_id] = variant
        catalog.items[item_id] = InventoryItem(item_id, variant, None, now, now)
        catalog.sku_index = None
        return variant

    def _drop_variant(self, catalog: ShopCatalog, variant: dict[str, Any]) -> None:
        item_id = variant["inventory_item_id"]
        catalog.variants.pop(variant["id"], None)
        catalog.items.pop(item_id, None)
        catalog.levels.pop(item_id, None)
        catalog.sku_index = None

    def _set_price(self, shop: Shop, variant: dict[str, Any], price: str, compare_at: str | None) -> None:
        variant["price"], variant["compare_at_price"] = price, compare_at
        variant["presentment_prices"] = [
            {"price": {"amount": price, "currency_code": shop.currency}, "compare_at_price": compare_at}
        ]

    def _set_weight(self, variant: dict[str, Any], value: float, unit: str) -> None:
        variant["weight"], variant["weight_unit"], variant["grams"] = value, unit, _grams(value, unit)

    def _apply_rest_variant(self, shop: Shop, variant: dict[str, Any], changes: dict[str, Any]) -> None:
        """REST variant fields; identity and links are the simulator's and are never taken over."""
        derived = {
            "id",
            "product_id",
            "inventory_item_id",
            "admin_graphql_api_id",
            "inventory_quantity",
            "old_inventory_quantity",
            "presentment_prices",
            "created_at",
            "updated_at",
            "image_id",
        }
        updates = {key: value for key, value in changes.items() if key not in derived}
        price = _money(updates.pop("price", variant["price"]), "price")
        compare_at = updates.pop("compare_at_price", variant["compare_at_price"]) or None
        self._set_price(shop, variant, price, None if compare_at is None else _money(compare_at, "compare_at_price"))
        if {"weight", "weight_unit"} & set(updates):
            unit = str(updates.pop("weight_unit", variant["weight_unit"]))
            self._set_weight(variant, float(updates.pop("weight", variant["weight"]) or 0), unit)
            updates.pop("grams", None)
        elif "grams" in updates:  # grams alone: keep the unit, convert
            grams = Decimal(str(updates.pop("grams") or 0))
            self._set_weight(variant, float(grams / GRAMS_PER_UNIT[variant["weight_unit"]]), variant["weight_unit"])
        if "sku" in updates:
            shop.catalog.sku_index = None
        options = {"option1", "option2", "option3"}
        if updates.get("title") and not options & set(updates):
            # A variant's title is made of its option values ("S / Rød"), so a title alone names the options.
            values = str(updates["title"]).split(" / ")[:MAX_OPTIONS]
            updates.update({f"option{n}": value for n, value in enumerate(values, start=1)})
        variant.update(updates)
        if options & set(updates):
            self._retitle(variant)
        variant["updated_at"] = self.sim._shop_time(shop)

    def _retitle(self, variant: dict[str, Any]) -> None:
        values = [variant.get(f"option{n}") for n in (1, 2, 3)]
        variant["title"] = " / ".join(str(v) for v in values if v is not None) or DEFAULT_TITLE

    def _rebuild_options(self, product: dict[str, Any], names: list[str]) -> None:
        """`options` from the option names and the values the variants use; ids are kept for names kept."""
        if not names:
            names = ["Title"]
            for variant in product["variants"]:
                variant["option1"] = variant.get("option1") or DEFAULT_TITLE
                self._retitle(variant)
        existing = {option["name"]: option for option in product["options"]}
        options = []
        for position, name in enumerate(names[:MAX_OPTIONS], start=1):
            values = list(dict.fromkeys(v[f"option{position}"] for v in product["variants"] if v[f"option{position}"]))
            option_id = existing[name]["id"] if name in existing else self.sim._new_id()
            options.append(
                {"id": option_id, "product_id": product["id"], "name": name, "position": position, "values": values}
            )
        product["options"] = options

    def _free_handle(self, catalog: ShopCatalog, wanted: str) -> str:
        handle, number = wanted, 0
        while handle in catalog.handles:
            number += 1
            handle = f"{wanted}-{number}"
        return handle

    def _rehandle(self, catalog: ShopCatalog, product: dict[str, Any], wanted: str) -> None:
        if wanted == product["handle"]:
            return
        catalog.handles.pop(product["handle"], None)
        product["handle"] = self._free_handle(catalog, wanted)
        catalog.handles[product["handle"]] = product["id"]

    # ---- generator -------------------------------------------------------------------------------------------------

    def seed_catalog(
        self,
        domain: str,
        variants: int,
        *,
        variants_per_product: int = 3,
        stock: Callable[[int], int] | None = None,
        sku: Callable[[int], str | None] | None = None,
        seed: int = 0,
    ) -> None:
        """`variants` variants in products of `variants_per_product` sizes, stocked at the primary location.

        Deterministic for a given `seed` (ids follow the simulator's seed) and quick: 30,000 variants take about
        a second, and no webhooks are emitted. `sku(i)` names variant i (None or "" leaves it without a
        SKU, repeating a value makes duplicate SKUs); the default is `RB-000001`, ... `stock(i)` is its available
        quantity (default: 0-40). Built directly rather than through `create_product`, which does per-call work
        (copies, handle search, option rebuilding) that 30,000 variants cannot afford.
        """
        if variants_per_product < 1:
            raise ValueError("variants_per_product must be at least 1")
        rng = random.Random(seed)
        with self.sim._lock:
            shop = self.sim.shop(domain)
            catalog, now = shop.catalog, self.sim._shop_time(shop)
            location_id = catalog.primary_location.id
            sizes = list(SEED_SIZES[:variants_per_product]) + [
                f"Str. {n}" for n in range(len(SEED_SIZES) + 1, variants_per_product + 1)
            ]
            first_product = len(catalog.products)
            slugs = {name: _slug(name) for name in SEED_PRODUCTS}
            for index in range(0, variants, variants_per_product):
                number = first_product + index // variants_per_product + 1
                count = min(variants_per_product, variants - index)
                product_id = self.sim._new_id()
                name = rng.choice(SEED_PRODUCTS)
                title = f"{name} {number:05d}"
                handle = self._free_handle(catalog, f"{slugs[name]}-{number:05d}")
                single = variants_per_product == 1
                product: dict[str, Any] = {
                    "id": product_id,
                    "title": title,
                    "body_html": f"<p>{title}</p>",
                    "vendor": rng.choice(SEED_VENDORS),
                    "product_type": "Boligtekstil" if number % 2 else "Køkken",
                    "created_at": now,
                    "handle": handle,
                    "updated_at": now,
                    "published_at": now,
                    "template_suffix": None,
                    "published_scope": "web",
                    "tags": "",
                    "status": "active",
                    "admin_graphql_api_id": gid("Product", product_id),
                    "variants": [],
                    "options": [
                        {
                            "id": self.sim._new_id(),
                            "product_id": product_id,
                            "name": "Title" if single else "Størrelse",
                            "position": 1,
                            "values": [DEFAULT_TITLE] if single else sizes[:count],
                        }
                    ],
                    "images": [],
                    "image": None,
                }
                price = rng.choice(SEED_PRICES)
                weight = rng.choice((0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0))
                for offset in range(count):
                    position = index + offset
                    variant_id, item_id = self.sim._new_id(), self.sim._new_id()
                    quantity = stock(position) if stock is not None else int(rng.random() * 41)
                    option = DEFAULT_TITLE if single else sizes[offset]
                    variant = {
                        "id": variant_id,
                        "product_id": product_id,
                        "title": option,
                        "price": price,
                        "position": offset + 1,
                        "inventory_policy": "deny",
                        "compare_at_price": None,
                        "option1": option,
                        "option2": None,
                        "option3": None,
                        "created_at": now,
                        "updated_at": now,
                        "taxable": True,
                        "barcode": f"57{position + 1:011d}",  # 57: GS1 Denmark
                        "fulfillment_service": "manual",
                        "grams": int(weight * 1000),
                        "inventory_management": "shopify",
                        "requires_shipping": True,
                        "sku": sku(position) if sku is not None else f"RB-{position + 1:06d}",
                        "weight": weight,
                        "weight_unit": "kg",
                        "inventory_item_id": item_id,
                        "inventory_quantity": quantity,
                        "old_inventory_quantity": quantity,
                        "presentment_prices": [
                            {"price": {"amount": price, "currency_code": shop.currency}, "compare_at_price": None}
                        ],
                        "admin_graphql_api_id": gid("ProductVariant", variant_id),
                        "image_id": None,
                    }
                    product["variants"].append(variant)
                    catalog.variants[variant_id] = variant
                    cost = (Decimal(price) * Decimal("0.4")).quantize(CENT)
                    catalog.items[item_id] = InventoryItem(item_id, variant, cost, now, now)
                    catalog.levels[item_id] = {location_id: InventoryLevel(item_id, location_id, quantity, 0, now)}
                catalog.products[product_id] = product
                catalog.handles[handle] = product_id
            catalog.sku_index = None

    # ---- GraphQL: nodes derived from the REST store ----------------------------------------------------------------
    # Fields that cost work (timestamps, related objects) are lazy: `project` calls them only when selected.

    def _gql_location(self, location: Location) -> dict[str, Any]:
        return {
            "id": location.gid,
            "legacyResourceId": str(location.id),
            "name": location.name,
            "isActive": location.active,
            "fulfillsOnlineOrders": location.active,
            "shipsInventory": location.active,
            "createdAt": lambda _args: gql_datetime(location.created_at),
            "updatedAt": lambda _args: gql_datetime(location.created_at),
        }

    def _gql_level(self, shop: Shop, level: InventoryLevel) -> dict[str, Any]:
        catalog = shop.catalog

        def quantities(args: dict[str, Any]) -> list[dict[str, Any]]:
            _check_quantity_names(args.get("names"))
            return [
                {
                    "id": f"gid://shopify/InventoryQuantity/{level.location_id}"
                    f"?inventory_item_id={level.inventory_item_id}&name={name}",
                    "name": name,
                    "quantity": level.quantity(name),
                    "updatedAt": lambda _args: gql_datetime(level.updated_at),
                }
                for name in _as_list(args.get("names") or [])
            ]

        return {
            "id": level.gid,
            "canDeactivate": level.committed == 0,
            "createdAt": lambda _args: gql_datetime(catalog.items[level.inventory_item_id].created_at),
            "updatedAt": lambda _args: gql_datetime(level.updated_at),
            "location": lambda _args: self._gql_location(catalog.locations[level.location_id]),
            "item": lambda _args: self._gql_item(shop, catalog.items[level.inventory_item_id]),
            "quantities": quantities,
        }

    def _gql_item(self, shop: Shop, item: InventoryItem) -> dict[str, Any]:
        catalog, variant = shop.catalog, item.variant

        def level_at(args: dict[str, Any]) -> dict[str, Any] | None:
            location_id = _legacy_of(args.get("locationId"), "Location")
            level = catalog.levels.get(item.id, {}).get(location_id) if location_id is not None else None
            return None if level is None else self._gql_level(shop, level)

        def levels() -> list[dict[str, Any]]:
            return [self._gql_level(shop, level) for level in catalog.levels.get(item.id, {}).values()]

        unit = variant.get("weight_unit") or "kg"
        return {
            "id": gid("InventoryItem", item.id),
            "legacyResourceId": str(item.id),
            "sku": item.sku,
            "tracked": item.tracked,
            "requiresShipping": variant.get("requires_shipping", True),
            "createdAt": lambda _args: gql_datetime(item.created_at),
            "updatedAt": lambda _args: gql_datetime(item.updated_at),
            "unitCost": lambda _args: (
                None if item.cost is None else {"amount": gql_decimal(item.cost), "currencyCode": shop.currency}
            ),
            "measurement": lambda _args: {
                "id": gid("InventoryItemMeasurement", item.id),
                "weight": {"unit": WEIGHT_ENUMS.get(unit, "KILOGRAMS"), "value": float(variant.get("weight") or 0)},
            },
            "inventoryLevel": level_at,
            "inventoryLevels": LazyConnection(levels),
            "variant": lambda _args: self._gql_variant(shop, variant),
        }

    def _gql_variant(self, shop: Shop, variant: dict[str, Any]) -> dict[str, Any]:
        catalog = shop.catalog
        product = catalog.products[variant["product_id"]]
        item = catalog.items[variant["inventory_item_id"]]

        def selected_options(_args: dict[str, Any]) -> list[dict[str, Any]]:
            return [
                {"name": option["name"], "value": variant.get(f"option{option['position']}")}
                for option in product["options"]
            ]

        return {
            "id": variant["admin_graphql_api_id"],
            "legacyResourceId": str(variant["id"]),
            "sku": variant.get("sku"),
            "title": variant.get("title"),
            "displayName": lambda _args: f"{product['title']} - {variant.get('title')}",
            "price": variant.get("price"),  # `Money` scalar: two decimals, as REST
            "compareAtPrice": variant.get("compare_at_price"),
            "barcode": variant.get("barcode"),
            "position": variant.get("position"),
            "inventoryQuantity": variant.get("inventory_quantity"),
            "inventoryPolicy": str(variant.get("inventory_policy") or "deny").upper(),
            "taxable": variant.get("taxable"),
            "availableForSale": product["status"] == "active"
            and (
                not item.tracked or variant.get("inventory_policy") == "continue" or variant["inventory_quantity"] > 0
            ),
            "createdAt": lambda _args: gql_datetime(variant.get("created_at")),
            "updatedAt": lambda _args: gql_datetime(variant.get("updated_at")),
            "selectedOptions": selected_options,
            "product": lambda _args: self._gql_product(shop, product),
            "inventoryItem": lambda _args: self._gql_item(shop, item),
        }

    def _gql_product(self, shop: Shop, product: dict[str, Any]) -> dict[str, Any]:
        variants = product["variants"]

        def options(_args: dict[str, Any]) -> list[dict[str, Any]]:
            return [
                {
                    "id": gid("ProductOption", option["id"]),
                    "name": option["name"],
                    "position": option["position"],
                    "values": list(option["values"]),
                    "optionValues": [
                        {"id": gid("ProductOptionValue", f"{option['id']}{n}"), "name": value, "hasVariants": True}
                        for n, value in enumerate(option["values"])
                    ],
                }
                for option in product["options"]
            ]

        return {
            "id": product["admin_graphql_api_id"],
            "legacyResourceId": str(product["id"]),
            "title": product["title"],
            "handle": product["handle"],
            "descriptionHtml": product.get("body_html") or "",
            "productType": product.get("product_type") or "",
            "vendor": product.get("vendor"),
            "status": str(product["status"]).upper(),
            "tags": [tag.strip() for tag in str(product.get("tags") or "").split(",") if tag.strip()],
            "totalInventory": lambda _args: sum(int(v.get("inventory_quantity") or 0) for v in variants),
            "tracksInventory": lambda _args: any(v.get("inventory_management") == "shopify" for v in variants),
            "hasOnlyDefaultVariant": lambda _args: len(variants) == 1 and variants[0].get("title") == DEFAULT_TITLE,
            "createdAt": lambda _args: gql_datetime(product.get("created_at")),
            "updatedAt": lambda _args: gql_datetime(product.get("updated_at")),
            "variantsCount": lambda _args: {"count": len(variants), "precision": "EXACT"},
            "variants": LazyConnection(lambda: [self._gql_variant(shop, v) for v in variants]),
            "options": options,
        }

    def _gql_bulk_operation(self, operation: BulkOperation) -> dict[str, Any]:
        def timestamp(moment: datetime | None) -> str | None:
            return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

        done = operation.status == "COMPLETED"
        return {
            "id": operation.gid,
            "status": operation.status,
            "errorCode": operation.error_code,
            # UnsignedInt64 travels as a string in Shopify's JSON.
            "objectCount": str(operation.object_count),
            "rootObjectCount": str(operation.root_object_count),
            "fileSize": None if operation.file_size is None else str(operation.file_size),
            "url": operation.url if done else None,
            "partialDataUrl": None,
            "createdAt": timestamp(operation.created_at),
            "completedAt": timestamp(operation.completed_at),
            "type": "QUERY",
            "query": operation.query,
        }

    # ---- GraphQL: queries ------------------------------------------------------------------------------------------

    def _resolve_location(self, shop: Shop, f: GqlField, _version: str) -> dict[str, Any] | None:
        if f.args.get("id") is None:
            return self._gql_location(shop.catalog.primary_location)  # no id: the shop's primary location
        location_id = _legacy_of(f.args["id"], "Location")
        location = shop.catalog.locations.get(location_id) if location_id is not None else None
        return None if location is None else self._gql_location(location)

    def _resolve_inventory_item(self, shop: Shop, f: GqlField, _version: str) -> dict[str, Any] | None:
        item_id = _legacy_of(f.args["id"], "InventoryItem")
        item = shop.catalog.items.get(item_id) if item_id is not None else None
        return None if item is None else self._gql_item(shop, item)

    def _resolve_variant(self, shop: Shop, f: GqlField, _version: str) -> dict[str, Any] | None:
        variant_id = _legacy_of(f.args["id"], "ProductVariant")
        variant = shop.catalog.variants.get(variant_id) if variant_id is not None else None
        return None if variant is None else self._gql_variant(shop, variant)

    def _resolve_product(self, shop: Shop, f: GqlField, _version: str) -> dict[str, Any] | None:
        product_id = _legacy_of(f.args["id"], "Product")
        product = shop.catalog.products.get(product_id) if product_id is not None else None
        return None if product is None else self._gql_product(shop, product)

    def _resolve_connection(self, shop: Shop, f: GqlField, _version: str) -> dict[str, Any]:
        _, items, id_of, to_node = self._source(shop, f.name, f.args)
        return page_by_id(items, f.args, id_of, to_node)

    def _source(
        self, shop: Shop, name: str, args: dict[str, Any]
    ) -> tuple[str, Sequence[Any], Callable[[Any], int], Callable[[Any], dict[str, Any]]]:
        """A root connection's node type, its matching objects in id order, their id, and their GraphQL node."""
        catalog = shop.catalog
        groups = parse_search(args.get("query"))
        if name == "locations":
            locations = [loc for loc in catalog.locations.values() if loc.active or args.get("includeInactive")]
            return "Location", locations, lambda loc: int(loc.id), self._gql_location
        if name == "inventoryItems":
            items = self._search_items(catalog, groups)
            return "InventoryItem", items, lambda item: int(item.id), lambda item: self._gql_item(shop, item)
        if name == "productVariants":
            found = self._search_items(catalog, groups, for_variants=True)
            variants = sorted((item.variant for item in found), key=lambda v: int(v["id"]))
            return "ProductVariant", variants, lambda v: int(v["id"]), lambda v: self._gql_variant(shop, v)
        products = _search(catalog.products.values(), groups, self._product_fields(catalog), ("title", "sku"))
        return "Product", products, lambda p: int(p["id"]), lambda p: self._gql_product(shop, p)

    def _search_items(
        self, catalog: ShopCatalog, groups: list[list[SearchTerm]], *, for_variants: bool = False
    ) -> list[InventoryItem]:
        skus = _exact_skus(groups)
        if skus is not None:
            index = self._sku_index(catalog)
            ids = sorted({item_id for sku in skus for item_id in index.get(sku, ())})
            return [catalog.items[item_id] for item_id in ids]
        if for_variants:
            fields: dict[str, Getter] = {
                "sku": lambda item: item.sku,
                "id": lambda item: item.variant["id"],
                "product_id": lambda item: item.variant["product_id"],
                "inventory_item_id": lambda item: item.id,
                "barcode": lambda item: item.variant.get("barcode"),
                "title": lambda item: (
                    f"{catalog.products[item.variant['product_id']]['title']} {item.variant['title']}"
                ),
                "created_at": lambda item: item.variant.get("created_at"),
                "updated_at": lambda item: item.variant.get("updated_at"),
            }
        else:
            fields = {
                "sku": lambda item: item.sku,
                "id": lambda item: item.id,
                "created_at": lambda item: item.created_at,
                "updated_at": lambda item: item.updated_at,
            }
        return _search(catalog.items.values(), groups, fields, ("sku", "title") if for_variants else ("sku",))

    def _product_fields(self, catalog: ShopCatalog) -> dict[str, Getter]:
        return {
            "sku": lambda p: [v.get("sku") for v in p["variants"]],
            "barcode": lambda p: [v.get("barcode") for v in p["variants"]],
            "id": lambda p: p["id"],
            "title": lambda p: p["title"],
            "handle": lambda p: p["handle"],
            "status": lambda p: p["status"],
            "vendor": lambda p: p.get("vendor"),
            "product_type": lambda p: p.get("product_type"),
            "created_at": lambda p: p.get("created_at"),
            "updated_at": lambda p: p.get("updated_at"),
        }

    def _sku_index(self, catalog: ShopCatalog) -> dict[str, list[int]]:
        if catalog.sku_index is None:
            index: dict[str, list[int]] = {}
            for item in catalog.items.values():
                if item.sku:
                    index.setdefault(item.sku.casefold(), []).append(item.id)
            catalog.sku_index = index
        return catalog.sku_index

    def _resolve_bulk_operation(self, shop: Shop, f: GqlField, _version: str) -> dict[str, Any] | None:
        self.advance(shop)
        operation_id = _legacy_of(f.args["id"], "BulkOperation")
        for operation in shop.catalog.bulk_operations:
            if operation.id == operation_id:
                return self._gql_bulk_operation(operation)
        return None

    def _resolve_current_bulk_operation(self, shop: Shop, f: GqlField, _version: str) -> dict[str, Any] | None:
        self.advance(shop)
        if str(f.args.get("type") or "QUERY") != "QUERY":
            return None  # bulk mutations are not modelled
        operations = shop.catalog.bulk_operations
        return self._gql_bulk_operation(operations[-1]) if operations else None

    # ---- GraphQL: idempotency --------------------------------------------------------------------------------------

    def _idempotent(self, resolve: Resolver) -> Resolver:
        """`@idempotent(key:)`: the first answer for a key is kept 24 h and replayed for the same input.

        From 2026-04 the directive is mandatory on the stock mutations ("Mutations Crossdock needs"); a missing key
        is refused before anything is applied. The key is compared with the mutation's arguments, so reusing a
        key for other input is an error rather than a silent replay of the wrong answer.
        """

        def run(shop: Shop, f: GqlField, version: str) -> Any:
            directive = f.directives.get("idempotent")
            key = directive.get("key") if directive is not None else None
            if directive is not None and (not isinstance(key, str) or not key.strip()):
                raise ApiError("The @idempotent directive needs a non-blank `key`", "BAD_REQUEST")
            if key is None:
                if f.name in IDEMPOTENT_REQUIRED and _at_least(version, IDEMPOTENCY_REQUIRED_FROM):
                    raise ApiError(
                        f"The @idempotent directive is required for {f.name} from API version "
                        f'{IDEMPOTENCY_REQUIRED_FROM}; add @idempotent(key: "...") to the field',
                        "IDEMPOTENCY_KEY_REQUIRED",
                    )
                return resolve(shop, f, version)
            now, store = self.sim.clock(), shop.catalog.idempotency
            for stale in [k for k, replay in store.items() if replay.expires <= now]:
                del store[stale]
            fingerprint = json.dumps({"field": f.name, "args": f.args}, sort_keys=True, default=str)
            replay = store.get(key)
            if replay is not None:
                if replay.fingerprint != fingerprint:
                    raise ApiError(
                        "The same idempotency key cannot be used with different operation parameters.",
                        "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
                    )
                return replay.result
            result = resolve(shop, f, version)
            store[key] = Replay(fingerprint, result, now + IDEMPOTENCY_TTL)
            return result

        return run

    # ---- GraphQL: inventorySetQuantities ---------------------------------------------------------------------------

    def _set_quantities(self, shop: Shop, f: GqlField, version: str) -> dict[str, Any]:
        """All-or-nothing: every quantity is checked before any is applied."""
        data = f.args.get("input")
        if not isinstance(data, dict):
            raise ApiError("Variable $input of type InventorySetQuantitiesInput! was provided invalid value")
        quantities = data.get("quantities")
        if not isinstance(quantities, list) or not all(isinstance(q, dict) for q in quantities):
            raise _invalid_input("quantities", "Expected value to be a list of InventoryQuantityInput")
        if len(quantities) > MAX_INPUT_ARRAY:
            raise ApiError(
                f"The input array size of {len(quantities)} is greater than the maximum allowed of {MAX_INPUT_ARRAY}.",
                "MAX_INPUT_SIZE_EXCEEDED",
            )
        for index, quantity in enumerate(quantities):
            if _at_least(version, IDEMPOTENCY_REQUIRED_FROM) and "changeFromQuantity" not in quantity:
                raise _invalid_input(
                    f"quantities.{index}.changeFromQuantity",
                    "Expected value to be present (pass null to skip the compare-and-set check)",
                )
            for required in ("inventoryItemId", "locationId", "quantity"):
                if quantity.get(required) is None:
                    raise _invalid_input(f"quantities.{index}.{required}", "Expected value to not be null")
        for required in ("name", "reason"):
            if data.get(required) is None:
                raise _invalid_input(required, "Expected value to not be null")
        name, reason = str(data["name"]), str(data["reason"])
        errors: list[dict[str, Any]] = []
        if name not in SETTABLE_QUANTITY_NAMES:
            errors.append(
                _error(["input", "name"], "The quantity name must be either 'available' or 'on_hand'.", "INVALID_NAME")
            )
        if reason not in INVENTORY_REASONS:
            errors.append(_error(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON"))
        changes = self._check_quantities(shop, quantities, name, errors)
        if errors:
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        return {"inventoryAdjustmentGroup": self._apply_quantities(shop, changes, name, data), "userErrors": []}

    def _check_quantities(
        self, shop: Shop, quantities: list[dict[str, Any]], name: str, errors: list[dict[str, Any]]
    ) -> list[tuple[InventoryLevel, int]]:
        catalog, checked, seen = shop.catalog, [], set()
        for index, quantity in enumerate(quantities):
            path = ["input", "quantities", str(index)]
            item_id = _legacy_of(quantity["inventoryItemId"], "InventoryItem")
            location_id = _legacy_of(quantity["locationId"], "Location")
            value = quantity["quantity"]
            if not isinstance(value, int) or isinstance(value, bool):
                raise _invalid_input(f"quantities.{index}.quantity", "Expected value to be an Int")
            if item_id not in catalog.items:
                errors.append(
                    _error(
                        [*path, "inventoryItemId"],
                        "The specified inventory item could not be found.",
                        "INVALID_INVENTORY_ITEM",
                    )
                )
                continue
            if location_id not in catalog.locations:
                errors.append(
                    _error([*path, "locationId"], "The specified location could not be found.", "INVALID_LOCATION")
                )
                continue
            assert item_id is not None and location_id is not None
            level = catalog.levels.get(item_id, {}).get(location_id)
            if level is None:
                errors.append(
                    _error(
                        [*path, "locationId"],
                        "The specified inventory item is not stocked at the location.",
                        "ITEM_NOT_STOCKED_AT_LOCATION",
                    )
                )
                continue
            if (item_id, location_id) in seen:
                errors.append(
                    _error(
                        path,
                        "The combination of inventoryItemId and locationId must be unique.",
                        "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                    )
                )
                continue
            seen.add((item_id, location_id))
            if value > MAX_QUANTITY:
                errors.append(
                    _error(
                        [*path, "quantity"],
                        "The quantity can't be higher than 1,000,000,000.",
                        "INVALID_QUANTITY_TOO_HIGH",
                    )
                )
            elif value < -MAX_QUANTITY:
                errors.append(
                    _error(
                        [*path, "quantity"],
                        "The quantity can't be lower than -1,000,000,000.",
                        "INVALID_QUANTITY_TOO_LOW",
                    )
                )
            elif name == "on_hand" and value < 0:
                errors.append(
                    _error([*path, "quantity"], "The quantity can't be negative.", "INVALID_QUANTITY_NEGATIVE")
                )
            expected = quantity.get("changeFromQuantity")
            if expected is not None and expected != level.quantity(name):
                errors.append(
                    _error(
                        [*path, "changeFromQuantity"],
                        "The changeFromQuantity value does not match persisted value.",
                        "CHANGE_FROM_QUANTITY_STALE",
                    )
                )
            checked.append((level, value))
        return checked

    def _apply_quantities(
        self, shop: Shop, changes: list[tuple[InventoryLevel, int]], name: str, data: dict[str, Any]
    ) -> dict[str, Any] | None:
        catalog, recorded = shop.catalog, []
        for level, value in changes:
            before_available, before_on_hand = level.available, level.on_hand
            available = value if name == "available" else value - level.committed
            self._set_level(shop, level, available=available)
            item, location = catalog.items[level.inventory_item_id], catalog.locations[level.location_id]
            for quantity_name, before in (("available", before_available), ("on_hand", before_on_hand)):
                after = level.quantity(quantity_name)
                if after != before:
                    recorded.append((quantity_name, after - before, after, item, location))
        if not recorded:
            return None  # nothing changed: Shopify answers without an adjustment group
        return {
            "id": gid("InventoryAdjustmentGroup", self.sim._new_id()),
            "createdAt": gql_datetime(self.sim._shop_time(shop)),
            "reason": data["reason"],
            "referenceDocumentUri": data.get("referenceDocumentUri"),
            "changes": [
                {
                    "name": quantity_name,
                    "delta": delta,
                    "quantityAfterChange": after,
                    "ledgerDocumentUri": None,
                    "item": self._gql_item(shop, item),
                    "location": self._gql_location(location),
                }
                for quantity_name, delta, after, item, location in recorded
            ],
        }

    # ---- GraphQL: product mutations --------------------------------------------------------------------------------

    def _product_set(self, shop: Shop, f: GqlField, _version: str) -> dict[str, Any]:
        """Create, or update the identified product; lists sent (variants, productOptions) replace the old ones."""
        catalog = shop.catalog
        data = f.args.get("input")
        if not isinstance(data, dict):
            raise ApiError("Variable $input of type ProductSetInput! was provided invalid value")
        identifier = f.args.get("identifier") or {}
        failed = {"product": None, "productSetOperation": None}
        product: dict[str, Any] | None = None
        if identifier.get("id") is not None or data.get("id") is not None:
            where = ["identifier", "id"] if identifier.get("id") is not None else ["input", "id"]
            if identifier.get("id") is not None and data.get("id") is not None and identifier["id"] != data["id"]:
                return {**failed, "userErrors": [_error(where, "The id differs from input.id.", "INVALID_INPUT")]}
            product_id = _legacy_of(identifier.get("id") or data.get("id"), "Product")
            product = catalog.products.get(product_id) if product_id is not None else None
            if product is None:
                return {**failed, "userErrors": [_error(where, "Product does not exist", "PRODUCT_DOES_NOT_EXIST")]}
        elif identifier.get("handle"):
            by_handle = catalog.handles.get(str(identifier["handle"]))
            product = catalog.products.get(by_handle) if by_handle is not None else None
            data = {"handle": identifier["handle"], **data}
        errors = self._check_product_set(shop, product, data)
        if errors:
            return {**failed, "userErrors": errors}
        created = product is None
        product = self._apply_product_set(shop, product, data)
        self.sim._emit(shop, "products/create" if created else "products/update", product)
        if f.args.get("synchronous", True) is False:
            # Asynchronous: Shopify answers with an operation to poll; here it has already finished.
            operation = {"id": gid("ProductSetOperation", self.sim._new_id()), "status": "COMPLETE"}
            return {"product": None, "productSetOperation": operation, "userErrors": []}
        return {"product": self._gql_product(shop, product), "productSetOperation": None, "userErrors": []}

    def _check_product_set(
        self, shop: Shop, product: dict[str, Any] | None, data: dict[str, Any]
    ) -> list[dict[str, Any]]:
        catalog, errors = shop.catalog, []
        if "status" in data:
            _status(data["status"])
        if product is None and not str(data.get("title") or "").strip():
            errors.append(_error(["input", "title"], "Title can't be blank", "INVALID_INPUT"))
        if data.get("handle") and catalog.handles.get(str(data["handle"]), None) not in (
            None,
            product["id"] if product else None,
        ):
            errors.append(_error(["input", "handle"], f"Handle '{data['handle']}' already in use.", "INVALID_INPUT"))
        option_names = self._option_names(product, data)
        if len(option_names) > MAX_OPTIONS:
            errors.append(_error(["input", "productOptions"], "A product can have at most 3 options.", "INVALID_INPUT"))
        variants = data.get("variants")
        if variants is None:
            return errors
        if not isinstance(variants, list):
            raise _invalid_input("variants", "Expected value to be a list of ProductVariantSetInput")
        own = {v["id"] for v in product["variants"]} if product else set()
        combinations: set[tuple[str, ...]] = set()
        for index, variant in enumerate(variants):
            path = ["input", "variants", str(index)]
            if variant.get("id") is not None and _legacy_of(variant["id"], "ProductVariant") not in own:
                errors.append(_error([*path, "id"], "Product variant does not exist", "PRODUCT_VARIANT_DOES_NOT_EXIST"))
            values = self._option_values(variant, option_names)
            if values is None:
                errors.append(
                    _error(
                        [*path, "optionValues"],
                        f"Option values must be given for each product option ({', '.join(option_names)}).",
                        "INVALID_VARIANT",
                    )
                )
            elif values in combinations:
                errors.append(
                    _error(
                        [*path, "optionValues"],
                        f"The variant '{' / '.join(values)}' already exists.",
                        "VARIANT_ALREADY_EXISTS",
                    )
                )
            else:
                combinations.add(values)
            self._check_variant_input(variant)
            for number, stock in enumerate(variant.get("inventoryQuantities") or []):
                where = [*path, "inventoryQuantities", str(number)]
                if _legacy_of(stock.get("locationId"), "Location") not in catalog.locations:
                    errors.append(_error([*where, "locationId"], "Location does not exist", "INVALID_INPUT"))
                if stock.get("name") not in SETTABLE_QUANTITY_NAMES:
                    errors.append(
                        _error([*where, "name"], "The quantity name must be 'available' or 'on_hand'.", "INVALID_INPUT")
                    )
                if not isinstance(stock.get("quantity"), int):
                    raise _invalid_input(f"variants.{index}.inventoryQuantities.{number}.quantity", "Expected an Int")
        return errors

    def _option_names(self, product: dict[str, Any] | None, data: dict[str, Any]) -> list[str]:
        """The option names after this productSet: those sent, else from the variants, else the current ones."""
        if data.get("productOptions") is not None:
            return [str(option.get("name")) for option in data["productOptions"]]
        names: list[str] = []
        for variant in data.get("variants") or []:
            for value in variant.get("optionValues") or []:
                if value.get("optionName") and value["optionName"] not in names:
                    names.append(str(value["optionName"]))
        if names:
            return names
        if product is not None and product["options"] and product["options"][0]["name"] != "Title":
            return [str(option["name"]) for option in product["options"]]
        return []

    def _option_values(self, variant: dict[str, Any], names: list[str]) -> tuple[str, ...] | None:
        """The variant's value for each option, in option order; None when one is missing."""
        given = {str(v.get("optionName")): str(v.get("name")) for v in variant.get("optionValues") or []}
        if not names:
            return (DEFAULT_TITLE,) if not given or set(given) == {"Title"} else None
        if set(given) != set(names):
            return None
        return tuple(given[name] for name in names)

    def _check_variant_input(self, variant: dict[str, Any]) -> None:
        """Type checks that would fail while applying, so a bad value never leaves half an update behind."""
        if variant.get("price") is not None:
            _money(variant["price"], "price")
        if variant.get("compareAtPrice") is not None:
            _money(variant["compareAtPrice"], "compareAtPrice")
        policy = variant.get("inventoryPolicy")
        if policy is not None and str(policy) not in ("DENY", "CONTINUE"):
            raise ApiError(f"Invalid value for ProductVariantInventoryPolicy: {policy!r}", "INVALID_VARIABLE")
        item = variant.get("inventoryItem")
        if isinstance(item, dict):
            _cost(item.get("cost"))
            _weight_input(item.get("measurement"))

    def _apply_product_set(self, shop: Shop, product: dict[str, Any] | None, data: dict[str, Any]) -> dict[str, Any]:
        catalog, now = shop.catalog, self.sim._shop_time(shop)
        names = self._option_names(product, data)
        if product is None:
            product_id = self.sim._new_id()
            product = {
                "id": product_id,
                "title": str(data["title"]).strip(),
                "body_html": None,
                "vendor": shop.domain.split(".")[0],
                "product_type": "",
                "created_at": now,
                "handle": self._free_handle(catalog, str(data.get("handle") or _slug(str(data["title"])))),
                "updated_at": now,
                "published_at": None,
                "template_suffix": None,
                "published_scope": "web",
                "tags": "",
                "status": "active",
                "admin_graphql_api_id": gid("Product", product_id),
                "variants": [],
                "options": [],
                "images": [],
                "image": None,
            }
            catalog.products[product_id] = product
            catalog.handles[product["handle"]] = product_id
            if data.get("variants") is None:
                data = {**data, "variants": [_default_variant(data)]}  # a product always has a variant
        self._apply_product_fields(catalog, product, data)
        if data.get("status", "ACTIVE") == "ACTIVE" and product["published_at"] is None:
            product["published_at"] = now
        if data.get("variants") is not None:
            self._replace_variants(shop, product, data["variants"], names, now)
        self._rebuild_options(product, names)
        product["updated_at"] = now
        return product

    def _apply_product_fields(self, catalog: ShopCatalog, product: dict[str, Any], data: dict[str, Any]) -> None:
        """The product's own fields that `data` carries (productSet and productUpdate alike)."""
        if data.get("title") is not None:
            product["title"] = str(data["title"]).strip()
        if "descriptionHtml" in data:
            product["body_html"] = data["descriptionHtml"]
        if "productType" in data:
            product["product_type"] = data["productType"] or ""
        if "vendor" in data:
            product["vendor"] = data["vendor"]
        if data.get("status") is not None:
            product["status"] = _status(data["status"])
        if "tags" in data:
            product["tags"] = _tags(data["tags"])
        if data.get("handle"):
            self._rehandle(catalog, product, str(data["handle"]))

    def _replace_variants(
        self, shop: Shop, product: dict[str, Any], wanted: list[dict[str, Any]], names: list[str], now: str
    ) -> None:
        """The sent list becomes the variant list: matched by id, else by option values; the rest is deleted."""
        catalog = shop.catalog
        by_id = {v["id"]: v for v in product["variants"]}
        width = max(len(names), 1)
        by_options = {tuple(v[f"option{n}"] for n in range(1, width + 1)): v for v in product["variants"]}
        kept: list[dict[str, Any]] = []
        kept_ids: set[int] = set()
        new_ones: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for spec in wanted:
            values = self._option_values(spec, names) or (DEFAULT_TITLE,)
            existing = by_id.get(_legacy_of(spec["id"], "ProductVariant") or 0) if spec.get("id") else None
            existing = existing or by_options.get(values)
            if existing is not None and existing["id"] not in kept_ids:
                variant = existing
            else:
                variant = self._new_variant(shop, product, 0, now, tracked=False)
                new_ones.append((variant, spec))
            for number in (1, 2, 3):
                variant[f"option{number}"] = values[number - 1] if number <= len(values) else None
            self._retitle(variant)
            self._apply_variant_input(shop, variant, spec)
            kept.append(variant)
            kept_ids.add(variant["id"])
        for variant in product["variants"]:
            if variant["id"] not in kept_ids:
                self._drop_variant(catalog, variant)
        for position, variant in enumerate(kept, start=1):
            variant["position"] = position
        product["variants"] = kept
        for variant, spec in new_ones:
            # Stock is set when a variant is created; without quantities it is stocked at the primary location.
            stocks = spec.get("inventoryQuantities") or []
            if not stocks:
                self._stock(catalog, variant["inventory_item_id"], catalog.primary_location.id, now)
            for stock in stocks:
                location_id = _legacy_of(stock["locationId"], "Location")
                assert location_id is not None
                level = self._stock(catalog, variant["inventory_item_id"], location_id, now)
                level.available = stock["quantity"] - (level.committed if stock["name"] == "on_hand" else 0)
            self._refresh_quantity(catalog, variant)

    def _apply_variant_input(self, shop: Shop, variant: dict[str, Any], data: dict[str, Any]) -> None:
        """GraphQL variant input (ProductVariantSetInput / ProductVariantsBulkInput): only the fields given."""
        if "price" in data or "compareAtPrice" in data:
            price = _money(data["price"], "price") if data.get("price") is not None else variant["price"]
            compare_at = data.get("compareAtPrice", variant["compare_at_price"])
            self._set_price(shop, variant, price, None if compare_at is None else _money(compare_at, "compareAtPrice"))
        if "barcode" in data:
            variant["barcode"] = data["barcode"]
        if "taxable" in data:
            variant["taxable"] = bool(data["taxable"])
        if data.get("inventoryPolicy") is not None:
            variant["inventory_policy"] = str(data["inventoryPolicy"]).lower()
        if "sku" in data:
            variant["sku"] = data["sku"]
            shop.catalog.sku_index = None
        item_input = data.get("inventoryItem")
        if isinstance(item_input, dict):
            self._apply_item_input(shop, shop.catalog.items[variant["inventory_item_id"]], item_input)
        variant["updated_at"] = self.sim._shop_time(shop)

    def _apply_item_input(self, shop: Shop, item: InventoryItem, data: dict[str, Any]) -> None:
        """InventoryItemInput: cost here; SKU, tracking and weight on the REST variant the webhooks carry."""
        variant = item.variant
        if "cost" in data:
            item.cost = _cost(data["cost"])
        if "sku" in data:
            variant["sku"] = data["sku"]
            shop.catalog.sku_index = None
        if data.get("tracked") is not None:
            variant["inventory_management"] = "shopify" if data["tracked"] else None
        if data.get("requiresShipping") is not None:
            variant["requires_shipping"] = bool(data["requiresShipping"])
        weight = _weight_input(data.get("measurement"))
        if weight is not None:
            self._set_weight(variant, *weight)
        item.updated_at = self.sim._shop_time(shop)

    def _product_update(self, shop: Shop, f: GqlField, _version: str) -> dict[str, Any]:
        """Only the fields given change; variants and options are never touched."""
        data = f.args.get("product", f.args.get("input"))  # `input` is the deprecated name of the argument
        if not isinstance(data, dict):
            raise ApiError("Field 'productUpdate' is missing required arguments: product", "missingRequiredArguments")
        product_id = _legacy_of(data["id"], "Product") if data.get("id") is not None else None
        product = shop.catalog.products.get(product_id) if product_id is not None else None
        if product is None:
            return {"product": None, "userErrors": [_error(["id"], "Product does not exist")]}
        if "status" in data:
            _status(data["status"])
        if data.get("title") is not None and not str(data["title"]).strip():
            return {"product": None, "userErrors": [_error(["title"], "Title can't be blank")]}
        self._apply_product_fields(shop.catalog, product, data)
        product["updated_at"] = self.sim._shop_time(shop)
        self.sim._emit(shop, "products/update", product)
        return {"product": self._gql_product(shop, product), "userErrors": []}

    def _variants_bulk_update(self, shop: Shop, f: GqlField, _version: str) -> dict[str, Any]:
        """Only the fields given change. With an error nothing is applied unless `allowPartialUpdates: true`."""
        catalog = shop.catalog
        product_id = _legacy_of(f.args["productId"], "Product")
        product = catalog.products.get(product_id) if product_id is not None else None
        if product is None:
            error = _error(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
            return {"product": None, "productVariants": None, "userErrors": [error]}
        specs = f.args["variants"]
        if not isinstance(specs, list):
            raise _invalid_input("variants", "Expected value to be a list of ProductVariantsBulkInput")
        if len(specs) > MAX_INPUT_ARRAY:
            raise ApiError(
                f"The input array size of {len(specs)} is greater than the maximum allowed of {MAX_INPUT_ARRAY}.",
                "MAX_INPUT_SIZE_EXCEEDED",
            )
        own = {v["id"]: v for v in product["variants"]}
        errors: list[dict[str, Any]] = []
        valid: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for index, spec in enumerate(specs):
            path = ["variants", str(index)]
            before = len(errors)
            variant_id = _legacy_of(spec["id"], "ProductVariant") if spec.get("id") is not None else None
            if variant_id not in own:
                errors.append(_error([*path, "id"], "Product variant does not exist", "PRODUCT_VARIANT_DOES_NOT_EXIST"))
            if spec.get("inventoryQuantities"):
                errors.append(
                    _error(
                        [*path, "inventoryQuantities"],
                        "Inventory quantities can only be provided during create. To update inventory for existing "
                        "variants, use inventorySetQuantities.",
                        "NO_INVENTORY_QUANTITIES_ON_VARIANTS_UPDATE",
                    )
                )
            self._check_variant_input(spec)
            if len(errors) == before and variant_id is not None:
                valid.append((own[variant_id], spec))
        if errors and not f.args.get("allowPartialUpdates"):
            return {"product": None, "productVariants": None, "userErrors": errors}
        for variant, spec in valid:
            self._apply_variant_input(shop, variant, spec)
        if valid:
            product["updated_at"] = self.sim._shop_time(shop)
            self.sim._emit(shop, "products/update", product)
        return {
            "product": self._gql_product(shop, product),
            "productVariants": [self._gql_variant(shop, variant) for variant, _ in valid],
            "userErrors": errors,
        }

    def _inventory_item_update(self, shop: Shop, f: GqlField, _version: str) -> dict[str, Any]:
        item_id = _legacy_of(f.args["id"], "InventoryItem")
        item = shop.catalog.items.get(item_id) if item_id is not None else None
        if item is None:
            return {"inventoryItem": None, "userErrors": [_error(["id"], "Inventory item does not exist")]}
        data = f.args["input"]
        if not isinstance(data, dict):
            raise _invalid_input("input", "Expected value to be an InventoryItemInput")
        _cost(data.get("cost"))
        _weight_input(data.get("measurement"))
        before = copy.deepcopy(item.variant)
        self._apply_item_input(shop, item, data)
        # SKU, tracking and weight are in the product payload; a cost change alone is not.
        if any(item.variant[key] != before[key] for key in ("sku", "inventory_management", "weight", "weight_unit")):
            product = shop.catalog.products[item.variant["product_id"]]
            product["updated_at"] = item.variant["updated_at"] = self.sim._shop_time(shop)
            self.sim._emit(shop, "products/update", product)
        return {"inventoryItem": self._gql_item(shop, item), "userErrors": []}

    # ---- bulk operations -------------------------------------------------------------------------------------------

    def _run_bulk_query(self, shop: Shop, f: GqlField, _version: str) -> dict[str, Any]:
        query = str(f.args["query"])
        try:
            fields = parse_bulk_query(query)
            _check_bulk_shape(fields)
        except ApiError as exc:
            error = _error(["query"], f"Invalid bulk query: {exc.message}", "INVALID")
            return {"bulkOperation": None, "userErrors": [error]}
        self.advance(shop)
        running = [op for op in shop.catalog.bulk_operations if op.status in ACTIVE_BULK_STATUSES]
        if len(running) >= MAX_RUNNING_BULK_OPERATIONS:
            message = (
                f"A maximum of {MAX_RUNNING_BULK_OPERATIONS} bulk query operations can run at the same time for "
                f"this app and shop; running: {', '.join(op.gid for op in running)}"
            )
            return {"bulkOperation": None, "userErrors": [_error(["query"], message, "LIMIT_REACHED")]}
        operation_record = BulkOperation(
            self.sim._new_id(), query, fields, self.sim.clock(), self.sim.bulk_duration, self.sim.now()
        )
        shop.catalog.bulk_operations.append(operation_record)
        return {"bulkOperation": self._gql_bulk_operation(operation_record), "userErrors": []}

    def advance_all(self) -> None:
        with self.sim._lock:
            for shop in self.sim.shops.values():
                self.advance(shop)

    def advance(self, shop: Shop) -> None:
        """Move the shop's bulk operations along the simulator clock: CREATED → RUNNING → COMPLETED."""
        operations = shop.catalog.bulk_operations
        if not any(op.status in ACTIVE_BULK_STATUSES for op in operations):
            return
        with self.sim._lock:
            now = self.sim.clock()
            for operation in operations:
                if operation.status not in ACTIVE_BULK_STATUSES:
                    continue
                if now - operation.created_clock >= operation.duration:
                    self._complete(shop, operation)
                else:
                    operation.status = "RUNNING"

    def _complete(self, shop: Shop, operation: BulkOperation) -> None:
        try:
            body, objects, roots = self._export(shop, operation.fields)
        except ApiError:
            operation.status, operation.error_code = "FAILED", "INTERNAL_SERVER_ERROR"
            body, objects, roots = b"", 0, 0
        else:
            operation.status = "COMPLETED"
        operation.completed_at = operation.created_at + timedelta(seconds=operation.duration)
        operation.object_count, operation.root_object_count = objects, roots
        if objects:
            token = _uuid(self.sim._id_rng).replace("-", "")
            expires = operation.created_clock + operation.duration + BULK_RESULT_TTL
            self.bulk_files[token] = BulkFile(body, expires)
            operation.url = f"{self.sim.public_url}/_bulk/{token}.jsonl"
            operation.file_size = len(body)
        self.sim._emit(
            shop,
            "bulk_operations/finish",
            {
                "admin_graphql_api_id": operation.gid,
                "completed_at": operation.completed_at.astimezone(shop.tz).isoformat(timespec="seconds"),
                "created_at": operation.created_at.astimezone(shop.tz).isoformat(timespec="seconds"),
                "error_code": None if operation.error_code is None else operation.error_code.lower(),
                "status": operation.status.lower(),
                "type": "query",
            },
        )

    def _export(self, shop: Shop, fields: list[GqlField]) -> tuple[bytes, int, int]:
        """The JSONL of a bulk query: root nodes, each followed by its nested connections' nodes (`__parentId`)."""
        root = fields[0]
        node_type, items, _, to_node = self._source(shop, root.name, root.args)
        selection = _Selection.of(node_type, _node_selection(root))
        lines: list[str] = []
        encode = _jsonl_encoder.encode
        for raw in items:
            node = to_node(raw)
            children: Children = []
            lines.append(encode(_bulk_record(selection, node, children)))
            _bulk_children(node["id"], children, lines, encode)
        body = ("\n".join(lines) + "\n").encode() if lines else b""
        return body, len(lines), len(items)

    def serve_bulk_file(self, request: SimRequest, file_name: str) -> SimResponse:
        """The storage URL of a bulk result: no token needed, as with Shopify's signed URLs; gone after 7 days."""
        bulk_file = self.bulk_files.get(file_name.removesuffix(".jsonl"))
        if bulk_file is None:
            return json_response(404, {"errors": "Not Found"})
        if self.sim.clock() >= bulk_file.expires:
            return json_response(403, {"errors": "Request has expired"})
        return SimResponse(200, bulk_file.body, {"content-type": "application/jsonl"})

    # ---- control endpoints (not Shopify) ---------------------------------------------------------------------------

    def control_create(self, request: SimRequest, domain: str) -> SimResponse:
        """POST a REST product (`{"product": {...}}` or the bare object); `?emit=false` skips the webhook."""
        shop, error = self.sim._control_shop(request, domain)
        if shop is None:
            return error or json_response(401, {"errors": INVALID_TOKEN})
        body = _json_object(request)
        if body is None:
            return json_response(422, {"errors": {"product": ["must be a JSON object"]}})
        emit = (request.arg("emit", "true") or "").lower() not in ("0", "false", "no")
        try:
            product = self.create_product(domain, body, emit=emit)
        except (ValueError, ApiError) as exc:
            return json_response(422, {"errors": {"product": [str(exc)]}})
        return json_response(201, {"product": product})

    def control_update(self, request: SimRequest, domain: str, product_id: str) -> SimResponse:
        """PUT `{"product": {changes..., "variants": [{"id": ..., changes...}]}}`; listed variants change only."""
        shop, error = self.sim._control_shop(request, domain)
        if shop is None:
            return error or json_response(401, {"errors": INVALID_TOKEN})
        body = _json_object(request)
        if body is None:
            return json_response(422, {"errors": {"product": ["must be a JSON object"]}})
        changes = dict(body.get("product", body))
        variants = changes.pop("variants", None) or []
        try:
            variant_changes = {int(v["id"]): {k: x for k, x in v.items() if k != "id"} for v in variants}
            product = self.update_product(domain, product_id, changes, variant_changes=variant_changes)
        except (UnknownProduct, UnknownVariant):
            return json_response(404, {"errors": "Not Found"})
        except (ValueError, KeyError, TypeError, ApiError) as exc:
            return json_response(422, {"errors": {"product": [str(exc)]}})
        return json_response(200, {"product": product})

    def control_delete(self, request: SimRequest, domain: str, product_id: str) -> SimResponse:
        shop, error = self.sim._control_shop(request, domain)
        if shop is None:
            return error or json_response(401, {"errors": INVALID_TOKEN})
        try:
            self.delete_product(domain, product_id)
        except UnknownProduct:
            return json_response(404, {"errors": "Not Found"})
        return json_response(200, {})


def _default_variant(data: dict[str, Any]) -> dict[str, Any]:
    """The variant a product created without variants gets: the first value of each option sent."""
    values = [
        {"optionName": option.get("name"), "name": option["values"][0].get("name")}
        for option in data.get("productOptions") or []
        if option.get("values")
    ]
    return {"optionValues": values} if values else {}


def _json_object(request: SimRequest) -> dict[str, Any] | None:
    try:
        body = request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _invalid_input(path: str, explanation: str) -> ApiError:
    """The shape of Shopify's input coercion errors, raised before anything runs."""
    return ApiError(
        f"Variable $input was provided invalid value for {path} ({explanation})",
        "INVALID_VARIABLE",
        problems=[{"path": path.split("."), "explanation": explanation}],
    )


# --------------------------------------------------------------------------------------------------------------------
# Bulk query shape and JSONL records
# --------------------------------------------------------------------------------------------------------------------


def _node_selection(f: GqlField) -> list[GqlField]:
    """A connection's node fields, from `edges { node { ... } }` or `nodes { ... }`."""
    for sub in f.selections:
        if sub.name == "nodes":
            return sub.selections
        if sub.name == "edges":
            for inner in sub.selections:
                if inner.name == "node":
                    return inner.selections
    return []


def _check_bulk_shape(fields: list[GqlField]) -> None:
    """Shopify's bulk limits: one root connection, at most 5 connections, nested at most 2 deep."""
    if len(fields) != 1 or not str(field_type_name("QueryRoot", fields[0].name) or "").endswith("Connection"):
        raise ApiError("Bulk queries must have exactly one top-level field, and it must be a connection.")
    count = 0

    def walk(type_name: str, selections: list[GqlField], depth: int) -> None:
        nonlocal count
        for f in selections:
            field_type = field_type_name(type_name, f.name)
            if field_type is None:
                continue
            if field_type.endswith("Connection"):
                count += 1
                if depth >= 2:
                    raise ApiError("Bulk queries cannot nest connections more than 2 levels deep.")
                if not _node_selection(f):
                    raise ApiError(f"Connection '{f.name}' must select `edges {{ node }}` or `nodes`.")
                walk(field_type.removesuffix("Connection"), _node_selection(f), depth + 1)
            else:
                walk(field_type, f.selections, depth)

    walk("QueryRoot", fields, 0)
    if count > MAX_BULK_CONNECTIONS:
        raise ApiError(f"Bulk queries cannot contain more than {MAX_BULK_CONNECTIONS} connections.")


@dataclass
class _Selection:
    """A bulk query's selection compiled once, so 30,000 records do not look the schema up field by field."""

    type_name: str
    fields: list[tuple[str, GqlField, _Selection | None]]  # key, field, sub-selection (None: a scalar)

    @classmethod
    def of(cls, type_name: str, selections: list[GqlField]) -> _Selection:
        fields: list[tuple[str, GqlField, _Selection | None]] = []
        for f in selections:
            field_type = field_type_name(type_name, f.name)
            if field_type is None:
                fields.append((f.key, f, None))
            elif field_type.endswith("Connection"):
                node_type = field_type.removesuffix("Connection")
                fields.append((f.key, f, cls.of(node_type, _node_selection(f))))
            else:
                fields.append((f.key, f, cls.of(field_type, f.selections)))
        return cls(type_name, fields)


Children = list[tuple[dict[str, Any], _Selection]]


def _bulk_record(selection: _Selection, value: dict[str, Any], children: Children) -> dict[str, Any]:
    """One JSONL object: selected fields embedded, except nested connections, whose nodes go to `children`."""
    out: dict[str, Any] = {}
    for key, f, sub in selection.fields:
        if f.name == "__typename":
            out[key] = selection.type_name
            continue
        raw = value.get(f.name)
        if isinstance(raw, LazyConnection):
            assert sub is not None
            # Every node of a nested connection, on lines of their own: bulk queries ignore first/last.
            children.extend((node, sub) for node in raw.all_nodes())
            continue
        if callable(raw):
            raw = raw(f.args)
        if sub is None or raw is None:
            out[key] = raw
        elif isinstance(raw, list):
            out[key] = [_bulk_record(sub, item, children) for item in raw]
        else:
            out[key] = _bulk_record(sub, raw, children)
    return out


def _bulk_children(parent_id: str, children: Children, lines: list[str], encode: Callable[[Any], str]) -> None:
    for node, selection in children:
        grandchildren: Children = []
        record = _bulk_record(selection, node, grandchildren)
        record["__parentId"] = parent_id
        lines.append(encode(record))
        _bulk_children(node["id"], grandchildren, lines, encode)
