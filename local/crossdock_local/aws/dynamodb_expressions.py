"""DynamoDB update expressions, parsed once per expression.

moto 5.2 tokenizes and parses an `UpdateExpression` twice for every `UpdateItem` (once in the request handler, to
check the placeholders, and once in the backend), and its validators then walk the tree ten times, each asking at
every node for its map of node types to handlers, which it builds afresh as a dict each time. UpdateItem was the
costliest DynamoDB call of a chaos run (the rate limiter, the stock marks, the event log all update), and most of
its time went there. The expressions Crossdock sends are a handful of strings with placeholders, so:

- a parsed expression is kept per expression string: every user of the tree only reads it (`find_clauses`) or
  validates a deep copy of it (moto's `Validator` copies before it replaces placeholders with values), so one tree
  can serve every request; an expression moto refuses is parsed (and refused) again each time, with the same error.
- a traverser's map of node types is built once per traverser (it is the same bound methods each time).
- the validator's copy of the kept tree is made node by node (`copy_tree`) instead of by `copy.deepcopy`, whose
  memo and reduce protocol for each of the tree's few dozen nodes were a twentieth of a chaos run's time: a parsed
  tree holds only nodes (type, children, parent) and str/int leaves, so the copy is the same tree, with each
  parent link pointing into the copy as deepcopy's memo makes it. Anything else (a value being list-appended, a
  node with other attributes) still goes to deepcopy.

- the validators that look at nothing but the expression, its names and the table's key attributes (one SET,
  REMOVE and ADD clause at most; no two actions on overlapping paths; no key attribute updated: moto's first three)
  run once per kept tree, names and key attributes; a combination that passed them is not walked by them again (a
  combination they refuse is never recorded, so it is refused again each time, with the same error). They were
  three of the ten walks of every UpdateItem (and moto validates a new item's update twice).

Every other validator runs as before for each request, against its own item, names and values.
`tests/component/test_dynamodb_expressions.py` holds the answers to moto's without the patch.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any
from unittest import mock

# moto's expression parser is untyped (moto imports it with `type: ignore` too).
import moto.dynamodb.parsing.validators as moto_validators
from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser, Node  # type: ignore[attr-defined]
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]

_KEPT_EXPRESSIONS = 4096  # distinct expressions kept; an application sends a handful
# moto's validators that read only the tree, the names and the table's key attributes, in the order moto runs them.
_STATIC_VALIDATORS = (
    moto_validators.ActionCountValidator,
    moto_validators.OverlappingPathsValidator,
    moto_validators.UpdateHashRangeKeyValidator,
)
_NODE_FIELDS = frozenset({"type", "children", "parent"})
_LEAVES = (str, int)  # immutable (bool is an int); moto's parser puts nothing else under a node


class _NotATree(Exception):
    """Something in the tree is not what a parsed update expression holds: deepcopy copies it instead."""


def _copy_node(node: Any, parent: Any) -> Any:
    fields = vars(node)
    if fields.keys() != _NODE_FIELDS:
        raise _NotATree
    twin = object.__new__(type(node))
    children = fields["children"]
    if children is not None:
        copied = []
        for child in children:
            if isinstance(child, Node):
                copied.append(_copy_node(child, twin))
            elif isinstance(child, _LEAVES):
                copied.append(child)
            else:
                raise _NotATree
        children = copied
    twin.__dict__.update(type=fields["type"], children=children, parent=parent)
    return twin


def copy_tree(value: Any) -> Any:
    """`copy.deepcopy(value)`, node by node for an expression tree (a root, without a parent)."""
    if isinstance(value, Node) and value.parent is None:
        try:
            return _copy_node(value, None)
        except _NotATree:
            pass
    return copy.deepcopy(value)


def parse_update_expressions_once(stack: ExitStack) -> None:
    original_make: Callable[[Any, str], Any] = UpdateExpressionParser.make.__func__
    parsed: dict[str, Any] = {}  # expression -> its tree (a moto Node)
    # The ids of the kept trees. A kept tree stays in `parsed` for good, so no other object ever has its id.
    kept_trees: set[int] = set()
    lock = threading.Lock()

    def make(cls: Any, expression: str) -> Any:
        with lock:
            tree = parsed.get(expression)
        if tree is None:
            tree = original_make(cls, expression)  # raises for an expression moto refuses: nothing is kept
            with lock:
                if len(parsed) < _KEPT_EXPRESSIONS and expression not in parsed:
                    parsed[expression] = tree
                    kept_trees.add(id(tree))
        return tree

    def processing_map(traverser: Any) -> dict[type, Any]:
        kept: dict[type, Any] | None = traverser.__dict__.get("_embedded_processing_map")
        if kept is None:
            kept = traverser._processing_map()
            traverser.__dict__["_embedded_processing_map"] = kept
            traverser.__dict__["_embedded_node_types"] = tuple(kept)
        return kept

    def nodes_to_be_processed(traverser: Any) -> tuple[type, ...]:
        types: tuple[type, ...] | None = traverser.__dict__.get("_embedded_node_types")
        if types is None:
            processing_map(traverser)
            types = traverser.__dict__["_embedded_node_types"]
        return types

    def process(traverser: Any, node: Any) -> Any:
        for node_type, processor in processing_map(traverser).items():
            if isinstance(node, node_type):
                return processor(node)
        return None

    # id(kept tree) -> the (names, key attributes) that passed the static validators with it.
    statically_valid: dict[int, set[tuple[Any, ...]]] = {}
    original_init = moto_validators.UpdateExpressionValidator.__init__

    def init(validator: Any, expression: Any, *args: Any, **kwargs: Any) -> None:
        original_init(validator, expression, *args, **kwargs)
        validator.__dict__["_embedded_expression"] = expression

    def validate(validator: Any) -> Any:
        processors = validator.processors
        node = validator.node_to_validate
        expression = validator.__dict__.get("_embedded_expression")
        kept = id(expression) in kept_trees
        static = tuple(type(processor) for processor in processors[: len(_STATIC_VALIDATORS)]) == _STATIC_VALIDATORS
        if not (kept and static):
            for processor in processors:
                node = processor.traverse(node)
            return node
        names = validator.expression_attribute_names or {}
        combination = (tuple(sorted(names.items())), tuple(validator.table.table_key_attrs))
        with lock:
            passed = statically_valid.setdefault(id(expression), set())
            known = combination in passed
        if not known:
            for processor in processors[: len(_STATIC_VALIDATORS)]:
                node = processor.traverse(node)  # raises for a combination they refuse: nothing is recorded
            with lock:
                passed.add(combination)
        for processor in processors[len(_STATIC_VALIDATORS) :]:
            node = processor.traverse(node)
        return node

    stack.enter_context(mock.patch.object(UpdateExpressionParser, "make", classmethod(make)))
    stack.enter_context(mock.patch.object(moto_validators.UpdateExpressionValidator, "__init__", init))
    stack.enter_context(mock.patch.object(moto_validators.Validator, "validate", validate))
    stack.enter_context(mock.patch.object(DepthFirstTraverser, "nodes_to_be_processed", nodes_to_be_processed))
    stack.enter_context(mock.patch.object(DepthFirstTraverser, "process", process))
    stack.enter_context(mock.patch.object(moto_validators, "deepcopy", copy_tree))
