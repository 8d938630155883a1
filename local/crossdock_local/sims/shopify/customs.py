"""Customs facts of an inventory item: harmonized system code, country and province of origin, country-specific HS
codes (reference/shopify_wms.md "Customs and cost"; `InventoryItemInput` [doc H6]).

Read as `InventoryItem { harmonizedSystemCode countryCodeOfOrigin provinceCodeOfOrigin
countryHarmonizedSystemCodes(first:) }` (and in REST snake_case on the inventory item), written through
`inventoryItemUpdate(id, input: {harmonizedSystemCode, countryCodeOfOrigin, provinceCodeOfOrigin,
countryHarmonizedSystemCodes})`. An HS code is 6–13 digits [doc H6]; any other is a `userErrors` entry naming the
field and nothing of the input is applied (the wording is a guess). `null` clears a field. The country is the
schema's `CountryCode` enum, so a code Shopify does not know is refused by validation before this runs.
"""

from __future__ import annotations

import re
from typing import Any

from crossdock_local.sims.shopify.paging import connection
from crossdock_local.sims.shopify.state import InventoryItem

HS_CODE = re.compile(r"^\d{6,13}$")
FIELDS = ("harmonizedSystemCode", "countryCodeOfOrigin", "provinceCodeOfOrigin", "countryHarmonizedSystemCodes")


def customs_errors(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The input's refusals (field path under `input`, message); empty when it may be applied."""
    errors = []
    code = data.get("harmonizedSystemCode")
    if code is not None and not HS_CODE.match(str(code)):
        errors.append(_error(["harmonizedSystemCode"], "Harmonized system code must be between 6 and 13 digits"))
    for index, row in enumerate(data.get("countryHarmonizedSystemCodes") or []):
        if not HS_CODE.match(str(row.get("harmonizedSystemCode") or "")):
            path = ["countryHarmonizedSystemCodes", str(index), "harmonizedSystemCode"]
            errors.append(_error(path, "Harmonized system code must be between 6 and 13 digits"))
    return errors


def apply_customs(item: InventoryItem, data: dict[str, Any]) -> bool:
    """Apply the customs fields given (a given null clears); True when anything changed."""
    before = (item.harmonized_system_code, item.country_code_of_origin, item.province_code_of_origin)
    rows_before = list(item.country_harmonized_system_codes)
    if "harmonizedSystemCode" in data:
        item.harmonized_system_code = _text(data["harmonizedSystemCode"])
    if "countryCodeOfOrigin" in data:
        item.country_code_of_origin = _text(data["countryCodeOfOrigin"])
    if "provinceCodeOfOrigin" in data:
        item.province_code_of_origin = _text(data["provinceCodeOfOrigin"])
    if "countryHarmonizedSystemCodes" in data:
        item.country_harmonized_system_codes = [
            {"country_code": str(row["countryCode"]), "harmonized_system_code": str(row["harmonizedSystemCode"])}
            for row in data["countryHarmonizedSystemCodes"] or []
        ]
    after = (item.harmonized_system_code, item.country_code_of_origin, item.province_code_of_origin)
    return after != before or item.country_harmonized_system_codes != rows_before


def gql_customs(item: InventoryItem) -> dict[str, Any]:
    """The GraphQL fields of the item's customs facts."""
    rows = [
        {"countryCode": row["country_code"], "harmonizedSystemCode": row["harmonized_system_code"]}
        for row in item.country_harmonized_system_codes
    ]
    return {
        "harmonizedSystemCode": item.harmonized_system_code,
        "countryCodeOfOrigin": item.country_code_of_origin,
        "provinceCodeOfOrigin": item.province_code_of_origin,
        "countryHarmonizedSystemCodes": connection(rows),
    }


def rest_customs(item: InventoryItem) -> dict[str, Any]:
    """The REST inventory item's customs fields (Shopify's REST names; the fixture `inventory_item.json` has none)."""
    return {
        "harmonized_system_code": item.harmonized_system_code,
        "country_code_of_origin": item.country_code_of_origin,
        "province_code_of_origin": item.province_code_of_origin,
        "country_harmonized_system_codes": [dict(row) for row in item.country_harmonized_system_codes],
    }


def _text(value: Any) -> str | None:
    return None if value is None or str(value).strip() == "" else str(value).strip()


def _error(path: list[str], message: str) -> dict[str, Any]:
    return {"field": ["input", *path], "message": message}
