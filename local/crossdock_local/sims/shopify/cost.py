"""Shopify's query cost, as the simulator charges it ("Rate limits" of the fact sheet).

The requested cost is computed from the validated document before anything runs: 1 point per object, a
connection 2 plus `first` (or `last`) times the cost of one node, scalars free; a mutation costs 10. The actual cost
is computed from the answer afterwards in the same units (only the objects returned), and Shopify refunds the
difference. Shopify's real calculator differs in details (interfaces, some connections priced differently); this
follows its shape, which is what Crossdock's page sizes are chosen against.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
)
from graphql.execution.values import VariableValues, get_argument_values

from crossdock_local.sims.shopify.errors import ApiError
from crossdock_local.sims.shopify.graphql_api import included, root_type

MAX_SINGLE_QUERY_COST = 1000  # Shopify refuses a single query estimated above 1000 points
MUTATION_COST = 10
MAX_PAGE_SIZE = 250  # fact sheet: "array inputs ≤ 250 items"; connections page at most 250 too


def object_cost(type_name: str) -> int:
    # Edges and pageInfo are wrappers, not objects of their own; every other object costs a point.
    return 0 if type_name.endswith("Edge") or type_name == "PageInfo" else 1


def page_size(node: FieldNode, args: Mapping[str, Any]) -> int:
    """`first`/`last` of a connection: one is required, at most 250 (checked before anything is charged)."""
    size = args.get("first", args.get("last"))
    if size is None:
        raise ApiError("you must provide one of first or last", "argumentLiteralsIncompatible")
    if not 0 <= size <= MAX_PAGE_SIZE:
        raise ApiError(
            f"Argument 'first' on Field '{node.name.value}' must be between 0 and {MAX_PAGE_SIZE}",
            "argumentLiteralsIncompatible",
        )
    return int(size)


@dataclass(frozen=True)
class _Costed:
    """An object-typed field of an operation, compiled once per document: what both costs walk."""

    key: str  # the response key (alias or name)
    type_name: str
    node: FieldNode
    definition: GraphQLField
    conditions: tuple[Any, ...]  # nodes carrying @skip/@include that must let this field through
    children: tuple[_Costed, ...]

    @property
    def connection(self) -> bool:
        return self.type_name.endswith("Connection")


_PLANS: OrderedDict[int, tuple[OperationDefinitionNode, tuple[_Costed, ...]]] = OrderedDict()
_PLAN_CACHE_SIZE = 512


def _plan(operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]) -> tuple[_Costed, ...]:
    """The operation's object fields (cached: documents are cached per query text, so operations are reused)."""
    cached = _PLANS.get(id(operation))
    if cached is not None and cached[0] is operation:
        _PLANS.move_to_end(id(operation))
        return cached[1]
    plan = _compile(root_type(operation), operation.selection_set, fragments, ())
    _PLANS[id(operation)] = (operation, plan)
    if len(_PLANS) > _PLAN_CACHE_SIZE:
        _PLANS.popitem(last=False)
    return plan


def _compile(
    parent: Any, selection_set: SelectionSetNode | None, fragments: Mapping[str, Any], conditions: tuple[Any, ...]
) -> tuple[_Costed, ...]:
    compiled: list[_Costed] = []
    for selection in selection_set.selections if selection_set is not None else ():
        guarded = (*conditions, selection) if selection.directives else conditions
        if isinstance(selection, InlineFragmentNode):
            compiled.extend(_compile(parent, selection.selection_set, fragments, guarded))
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                compiled.extend(_compile(parent, fragment.selection_set, fragments, guarded))
        elif isinstance(selection, FieldNode) and selection.name.value != "__typename":
            definition = parent.fields[selection.name.value]
            named = get_named_type(definition.type)
            if is_leaf_type(named):
                continue
            children = _compile(named, selection.selection_set, fragments, ())
            key = (selection.alias or selection.name).value
            compiled.append(_Costed(key, named.name, selection, definition, guarded, children))
    return tuple(compiled)


def _included(field: _Costed, variables: VariableValues) -> bool:
    return all(included(node, variables) for node in field.conditions)


def requested_cost(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode], variables: VariableValues
) -> int:
    """What Shopify charges up front; raises `ApiError` for a connection without a valid page size."""
    if operation.operation.value == "mutation":
        return MUTATION_COST
    return _requested(_plan(operation, fragments), variables)


def _requested(fields: tuple[_Costed, ...], variables: VariableValues) -> int:
    total = 0
    for field in fields:
        if field.conditions and not _included(field, variables):
            continue
        inner = _requested(field.children, variables)
        if field.connection:
            total += 2 + page_size(field.node, get_argument_values(field.definition, field.node, variables)) * inner
        else:
            total += object_cost(field.type_name) + inner
    return total


def actual_cost(
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: VariableValues,
    data: Mapping[str, Any] | None,
) -> int:
    """The cost of what was answered: the objects in `data`, a connection 2 each."""
    if data is None:
        return 0
    return _actual(_plan(operation, fragments), variables, data)


def _actual(fields: tuple[_Costed, ...], variables: VariableValues, data: Any) -> int:
    total = 0
    for field in fields:
        if field.conditions and not _included(field, variables):
            continue
        total += _value_cost(field, variables, data.get(field.key))
    return total


def _value_cost(field: _Costed, variables: VariableValues, value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, list):
        return sum(_value_cost(field, variables, item) for item in value)
    own = 2 if field.connection else object_cost(field.type_name)
    return own + _actual(field.children, variables, value)
