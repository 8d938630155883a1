"""The import-linter contract that keeps the operator CLI importable without the local runtime (pyproject.toml's
"The operator CLI runs without the local runtime") names every `crossdock_local.operator_*` module, so a command
group added later cannot import moto, the stack or a simulator unnoticed."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = "The operator CLI runs without the local runtime (only the runtime dependencies installed)"


def test_every_operator_module_is_held_to_the_contract() -> None:
    # GIVEN the contract as pyproject.toml has it, and the operator modules on disk
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    contract = next(found for found in contracts if found["name"] == CONTRACT)
    on_disk = {f"crossdock_local.{path.stem}" for path in (ROOT / "local/crossdock_local").glob("operator_*.py")}
    # THEN each of them is a source of the contract, and the contract names no module that is gone
    assert on_disk and set(contract["source_modules"]) == on_disk
    # AND what they must not import is the whole local runtime
    assert set(contract["forbidden_modules"]) >= {
        "crossdock_local.aws",
        "crossdock_local.sims",
        "crossdock_local.stack",
        "crossdock_local.scenarios",
        "crossdock_local.server",
    }
