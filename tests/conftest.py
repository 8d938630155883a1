"""Shared test helpers: the real Shopify payloads live in ../shared/fixtures (never copied into the project)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FIXTURES = SHARED / "fixtures" / "shopify"


def shopify_fixture(name: str) -> dict[str, Any]:
    path = FIXTURES / name
    if not path.exists():
        pytest.fail(f"{path} is missing: the tests need ../shared beside the project")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@pytest.fixture
def fixture_order() -> dict[str, Any]:
    """Shopify's own example order (2025-01 REST shape): 3 lines, a 10.00 discount code, taxes excluded."""
    return copy.deepcopy(shopify_fixture("2025-01/order_0.json")["order"])


@pytest.fixture
def fixture_product() -> dict[str, Any]:
    """Shopify's own example product (2025-01 REST shape, as `products/create` carries it): several variants."""
    return copy.deepcopy(shopify_fixture("2025-01/product_1.json")["product"])


@pytest.fixture
def shopify_payload() -> Any:
    """Any of Shopify's example payloads by file name under ../shared/fixtures/shopify (a fresh copy each call)."""
    return lambda name: copy.deepcopy(shopify_fixture(name))
