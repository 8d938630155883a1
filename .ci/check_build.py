"""Checks what `make build` produced is deployable to Lambda on arm64: every function of the template was built (and
every function directory under functions/ is one of them, so a new function left out of the template fails), the
layer holds the crossdock package and the pinned libraries, every native extension is for aarch64 (none for x86_64,
which would import-fail on Graviton only once deployed), and functions plus layer stay under Lambda's 250 MB
unzipped limit."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

BUILD = Path(".aws-sam/build")
SOURCE_TEMPLATE = Path("template.yaml")
FUNCTIONS = Path("functions")
UNZIPPED_LIMIT = 250 * 1024 * 1024  # Lambda: function and all its layers, unzipped


def _size(path: Path) -> int:
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())


def _unlisted_function_dirs() -> list[str]:
    """Directories under functions/ with a handler that no function of the source template builds (CodeUri)."""

    class _Loader(yaml.SafeLoader):
        pass

    # The source template has CloudFormation's short tags (!Ref, !Sub …); only CodeUri is needed, so any tag reads
    # as its plain value.
    _Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    resources = yaml.load(SOURCE_TEMPLATE.read_text(), Loader=_Loader)["Resources"]
    listed = {
        str(res["Properties"].get("CodeUri", "")).rstrip("/")
        for res in resources.values()
        if res["Type"] == "AWS::Serverless::Function"
    }
    on_disk = sorted(path.parent.name for path in FUNCTIONS.glob("*/app.py"))
    return [name for name in on_disk if f"functions/{name}" not in listed]


def main() -> int:
    template = yaml.safe_load((BUILD / "template.yaml").read_text())
    resources = template["Resources"]
    functions = [name for name, res in resources.items() if res["Type"] == "AWS::Serverless::Function"]
    layers = [name for name, res in resources.items() if res["Type"] == "AWS::Serverless::LayerVersion"]
    problems = [f"{name}: not built" for name in functions + layers if not (BUILD / name).is_dir()]
    problems += [f"functions/{name}: not a function of template.yaml" for name in _unlisted_function_dirs()]
    layer_bytes = 0
    for layer in layers:
        python = BUILD / layer / "python"
        if not (python / "crossdock" / "__init__.py").exists():
            problems.append(f"{layer}: the crossdock package is missing")
        for extension in python.rglob("*.so"):
            if "aarch64" not in extension.name and "x86_64" in extension.name:
                problems.append(f"{layer}: {extension.relative_to(python)} is built for x86_64")
        layer_bytes += _size(BUILD / layer)
    biggest = max((_size(BUILD / name) for name in functions), default=0)
    if biggest + layer_bytes > UNZIPPED_LIMIT:
        problems.append(f"function + layers unzipped {biggest + layer_bytes:,} bytes > Lambda's {UNZIPPED_LIMIT:,}")
    for problem in problems:
        print(f"build check: {problem}", file=sys.stderr)
    if not problems:
        print(
            f"build check: {len(functions)} functions and {len(layers)} layer(s) built for arm64; "
            f"largest function + layers {(biggest + layer_bytes) / 1e6:.1f} MB unzipped (limit 250 MB)"
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
