"""The Lambda layer's requirements (layers/core/requirements.txt) are what the tests run: every pin equals
requirements.lock, and every dependency of a pinned package is pinned too, so `sam build` never picks a version by
itself (as it did with botocore, pulled unpinned by aws-xray-sdk)."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import cast

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
# The Lambda runtime this template deploys (Globals: python3.11, arm64), for evaluating environment markers.
LAMBDA_ENVIRONMENT: dict[str, str] = {
    **cast(dict[str, str], default_environment()),
    "python_version": "3.11",
    "platform_machine": "aarch64",
}


def _pins(path: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{path.name}: {line} is not pinned with =="
        pins[canonicalize_name(requirement.name)] = specifier.version
    return pins


LAYER = _pins(ROOT / "layers/core/requirements.txt")
LOCK = _pins(ROOT / "requirements.lock")


def test_every_layer_pin_is_the_locked_version() -> None:
    """GIVEN the layer's pins and the lock WHEN compared THEN each layer package has exactly the locked version."""
    drifted = {name: (version, LOCK.get(name)) for name, version in LAYER.items() if LOCK.get(name) != version}
    assert drifted == {}, f"layer pin ≠ lock (layer, lock): {drifted}"


def test_the_layer_pins_every_dependency_of_what_it_pins() -> None:
    """GIVEN each pinned package's own requirements (as installed here, at the locked versions) WHEN those that apply
    on Lambda's python3.11/arm64 are collected THEN every one of them is pinned in the layer as well."""
    unpinned: dict[str, list[str]] = {}
    for name in LAYER:
        for raw in importlib.metadata.requires(name) or []:
            requirement = Requirement(raw)
            if requirement.marker and not requirement.marker.evaluate({**LAMBDA_ENVIRONMENT, "extra": ""}):
                continue  # an extra, or a marker that does not hold on Lambda
            if canonicalize_name(requirement.name) not in LAYER:
                unpinned.setdefault(name, []).append(requirement.name)
    assert unpinned == {}, f"dependencies the layer leaves to pip: {unpinned}"
