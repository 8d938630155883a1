"""Reading a SAM template and resolving CloudFormation intrinsic functions.

The template is read directly (no SAM transform): short-form tags become their long forms, Globals are merged into
each function, and intrinsics resolve against physical resources that the caller provisions on demand, so the
provisioning order follows the references like CloudFormation's dependency graph.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

NO_VALUE = object()  # AWS::NoValue: the enclosing key or list item disappears


class _CfnLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no type hints here
    pass


def _construct_intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix in ("Ref", "Condition"):
        return {tag_suffix: value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_intrinsic)


def load_template(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as stream:
        template = yaml.load(stream, Loader=_CfnLoader)  # a SafeLoader subclass
    if not isinstance(template, dict) or "Resources" not in template:
        raise ValueError(f"{path} is not a CloudFormation/SAM template")
    return template


def merge_globals(global_props: Any, own_props: Any) -> Any:
    """SAM's Globals rules: maps merge key by key, lists concatenate (globals first), scalars are overridden."""
    if isinstance(global_props, dict) and isinstance(own_props, dict):
        merged = dict(global_props)
        for key, value in own_props.items():
            merged[key] = merge_globals(global_props[key], value) if key in global_props else value
        return merged
    if isinstance(global_props, list) and isinstance(own_props, list):
        return global_props + own_props
    return own_props


@dataclass
class Physical:
    """What CloudFormation knows about a created resource: its `Ref` value and its `Fn::GetAtt` attributes."""

    ref: str
    attrs: dict[str, Any] = field(default_factory=dict)


class Resolver:
    def __init__(
        self,
        template: dict[str, Any],
        pseudo: dict[str, str],
        parameters: dict[str, str],
        physical: Callable[[str], Physical],
    ) -> None:
        self._template = template
        self._pseudo = pseudo
        self._parameters = self._parameter_values(parameters)
        self._physical = physical
        self._conditions: dict[str, bool] = {}

    def _parameter_values(self, overrides: dict[str, str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, spec in (self._template.get("Parameters") or {}).items():
            if name in overrides:
                values[name] = overrides[name]
            elif "Default" in spec:
                values[name] = spec["Default"]
        unknown = set(overrides) - set(values)
        if unknown:
            raise ValueError(f"unknown template parameters: {sorted(unknown)}")
        return values

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            handler = self._INTRINSICS.get(key)
            # `Condition` is also an ordinary property name (IAM statements); only a bare name is the intrinsic.
            if handler is not None and (key != "Condition" or isinstance(arg, str)):
                return handler(self, arg)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            self._conditions[name] = bool(self.resolve(self._template["Conditions"][name]))
        return self._conditions[name]

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self._pseudo:
            return self._pseudo[name]
        if name in self._parameters:
            return self._parameters[name]
        if name in self._template["Resources"]:
            return self._physical(name).ref
        raise KeyError(f"Ref to unknown name {name!r}")

    def _get_att(self, arg: Any) -> Any:
        logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else [self.resolve(a) for a in arg]
        attrs = self._physical(logical_id).attrs
        if attribute not in attrs:
            raise KeyError(f"{logical_id} has no attribute {attribute!r} in the embedded runtime")
        return attrs[attribute]

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                return str(self._get_att(name))
            return str(self._ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def _join(self, arg: list[Any]) -> str:
        delimiter, items = arg
        return str(delimiter).join(str(item) for item in self.resolve(items))

    def _select(self, arg: list[Any]) -> Any:
        index, items = self.resolve(arg)
        return items[int(index)]

    def _split(self, arg: list[Any]) -> list[str]:
        delimiter, text = self.resolve(arg)
        return str(text).split(delimiter)

    def _if(self, arg: list[Any]) -> Any:
        name, when_true, when_false = arg
        return self.resolve(when_true if self.condition(name) else when_false)

    def _find_in_map(self, arg: list[Any]) -> Any:
        map_name, top_key, second_key = self.resolve(arg)
        return self._template["Mappings"][map_name][top_key][second_key]

    def _base64(self, arg: Any) -> str:
        return base64.b64encode(str(self.resolve(arg)).encode()).decode()

    def _equals(self, arg: list[Any]) -> bool:
        left, right = self.resolve(arg)
        return bool(left == right)

    def _not(self, arg: list[Any]) -> bool:
        return not self.resolve(arg[0])

    def _and(self, arg: list[Any]) -> bool:
        return all(self.resolve(item) for item in arg)

    def _or(self, arg: list[Any]) -> bool:
        return any(self.resolve(item) for item in arg)

    def _condition_ref(self, name: str) -> bool:
        return self.condition(name)

    _INTRINSICS: ClassVar[dict[str, Callable[[Resolver, Any], Any]]] = {
        "Ref": _ref,
        "Fn::GetAtt": _get_att,
        "Fn::Sub": _sub,
        "Fn::Join": _join,
        "Fn::Select": _select,
        "Fn::Split": _split,
        "Fn::If": _if,
        "Fn::FindInMap": _find_in_map,
        "Fn::Base64": _base64,
        "Fn::Equals": _equals,
        "Fn::Not": _not,
        "Fn::And": _and,
        "Fn::Or": _or,
        "Condition": _condition_ref,
    }


_CODE_LOCATIONS = ("CodeUri", "ContentUri", "DefinitionUri")


def write_copy(template: dict[str, Any], original: Path, directory: Path) -> Path:
    """Write a (changed) template into `directory` as JSON, its code locations still those of the template at
    `original`: a test runs the stack with one thing changed (a statement removed) without copying the code."""
    copied = json.loads(json.dumps(template))
    for resource in copied["Resources"].values():
        props = resource.get("Properties") or {}
        for key in _CODE_LOCATIONS:
            if isinstance(props.get(key), str):
                props[key] = str((original.parent / props[key]).resolve())
    path = directory / f"{original.stem}.json"
    path.write_text(json.dumps(copied, indent=1), encoding="utf-8")
    return path
