"""The simulated Admin GraphQL API on graphql-core: the SDL schema, Shopify's validation answers, execution.

The schema (`schema.graphql`) is the subset of Shopify's Admin API 2026-04 that Crossdock uses, with
Shopify's names. graphql-core parses, validates and executes; this module gives its answers Shopify's shape:

- Validation errors carry graphql-ruby's `extensions.code` (Shopify runs graphql-ruby), worded in `validation.py`.
- Variables that do not fit their type: "Variable $id of type ID! was provided invalid value", with
  `extensions.value` and `extensions.problems` (`path`, `explanation`), as graphql-ruby answers.
- Parsed and validated documents are cached per query text (an LRU), because clients send the same few documents
  tens of thousands of times.

Resolvers: a root field is answered by the simulator's `resolvers[name](shop, field, version)`, where `field` is a
`GqlField` (name, alias, arguments, directives such as `@idempotent(key:)`). Below the root the values are the
GraphQL-shaped dicts the simulator builds; a value that is callable (a connection, a field with arguments) is
called with the field's arguments.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeGuard, cast

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLIncludeDirective,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSkipDirective,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    build_schema,
    execute,
    get_named_type,
    is_leaf_type,
    parse,
    validate,
)
from graphql.execution.executor import Executor
from graphql.execution.get_variable_signature import get_variable_signature
from graphql.execution.values import (
    VariableValues,
    VariableValueSource,
    get_argument_values,
    get_directive_values,
)
from graphql.utilities import coerce_input_literal, coerce_input_value
from graphql.utilities.validate_input_value import validate_input_value

from crossdock_local.sims.shopify.errors import ApiError
from crossdock_local.sims.shopify.scopes import check as check_scope
from crossdock_local.sims.shopify.validation import VALIDATION_RULES, syntax_error, validation_errors

SCHEMA_FILE = Path(__file__).with_name("schema.graphql")
SCHEMA = build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))
NO_VARIABLES = VariableValues({}, {})
DOCUMENT_CACHE_SIZE = 512  # distinct query texts kept parsed and validated; Crossdock sends about twenty


@dataclass
class GqlField:
    """One selected field with its arguments bound: what a root resolver and the bulk exporter work from."""

    name: str
    alias: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    selections: list[GqlField] = field(default_factory=list)
    directives: dict[str, dict[str, Any]] = field(default_factory=dict)  # name → arguments, e.g. idempotent → key
    app: str | None = None  # the custom app whose token asked (custom_apps.py); None: the shop's installed app
    scopes: frozenset[str] | None = None  # that token's effective scopes (scopes.py); None: not restricted

    @property
    def key(self) -> str:
        return self.alias or self.name


class Refused(Exception):
    """The request is refused before anything runs or is charged; `errors` are Shopify-shaped error objects."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0]["message"] if errors else "refused")
        self.errors = errors


RootResolver = Callable[[Any, GqlField, str], Any]
"""Answers one root field: (shop, the field with its arguments and directives, the request's API version)."""


@dataclass
class Request:
    """What the resolvers of one request see (graphql-core's `context_value`)."""

    shop: Any
    version: str
    resolvers: Mapping[str, RootResolver]
    on_mutation: Callable[[str], None]
    static_selections: bool = False  # the document's selections do not depend on variables (see `Document`)
    app: str | None = None  # the custom app whose token asked; None: the shop's installed app or its own token
    scopes: frozenset[str] | None = None  # the token's effective scopes (scopes.py); None: not restricted


@dataclass(frozen=True)
class Document:
    """A parsed document that passed validation, cached per query text."""

    ast: DocumentNode
    operations: tuple[OperationDefinitionNode, ...]
    fragments: Mapping[str, FragmentDefinitionNode]
    static_selections: bool  # no @skip/@include: the same fields are selected whatever the variables

    def operation(self, name: str | None) -> OperationDefinitionNode:
        if name is not None:
            for operation in self.operations:
                if operation.name is not None and operation.name.value == name:
                    return operation
            raise Refused([{"message": f'No operation named "{name}"'}])
        if len(self.operations) > 1:
            raise Refused([{"message": "An operation name is required"}])
        return self.operations[0]


# --------------------------------------------------------------------------------------------------------------------
# Validation, answered as Shopify answers it
# --------------------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=DOCUMENT_CACHE_SIZE)
def _prepared(query: str) -> Document | tuple[dict[str, Any], ...]:
    try:
        ast = parse(query)
    except GraphQLSyntaxError as exc:
        return (syntax_error(exc, query),)
    errors = validate(SCHEMA, ast, VALIDATION_RULES)
    if errors:
        return tuple(validation_errors(ast, errors))
    operations = tuple(d for d in ast.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {d.name.value: d for d in ast.definitions if isinstance(d, FragmentDefinitionNode)}
    conditional = re.search(r"@\s*(skip|include)\b", query) is not None
    return Document(ast, operations, fragments, static_selections=not conditional)


def prepare(query: str) -> Document:
    """The parsed, validated document (cached per query text); `Refused` with Shopify's errors otherwise."""
    prepared = _prepared(query)
    if isinstance(prepared, Document):
        return prepared
    raise Refused([dict(error) for error in prepared])


# --------------------------------------------------------------------------------------------------------------------
# Variables
# --------------------------------------------------------------------------------------------------------------------


def _explanation(error: GraphQLError, path: list[str | int]) -> tuple[list[str | int], str]:
    """graphql-core's coercion error → graphql-ruby's problem (`path`, `explanation`)."""
    missing = re.search(r"to include required field '(\w+)'", error.message)
    if missing is not None:
        return [*path, missing.group(1)], "Expected value to not be null"
    if re.search(r"not to be None|found None|found null", error.message):
        return path, "Expected value to not be null"
    return path, error.message


def coerce_variables(operation: OperationDefinitionNode, inputs: Mapping[str, Any]) -> VariableValues:
    """The operation's variables coerced to their types; `Refused` naming every value that does not fit."""
    sources: dict[str, VariableValueSource] = {}
    coerced: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for definition in operation.variable_definitions or ():
        signature = get_variable_signature(SCHEMA, definition)
        if isinstance(signature, GraphQLError):  # an unknown type: validation has refused it already
            continue
        name, type_ = signature.name, signature.type
        if name not in inputs and definition.default_value is not None:
            sources[name] = VariableValueSource(signature)
            coerced[name] = coerce_input_literal(definition.default_value, type_)
            continue
        value = inputs.get(name)
        sources[name] = VariableValueSource(signature, value)
        if name not in inputs and not isinstance(type_, GraphQLNonNull):
            continue
        result = coerce_input_value(value, type_)
        if result is not Undefined:
            coerced[name] = result
            continue
        problems: list[dict[str, Any]] = []

        def collect(error: GraphQLError, path: list[str | int], found: list[dict[str, Any]] = problems) -> None:
            problem_path, explanation = _explanation(error, path)
            found.append({"path": problem_path, "explanation": explanation})

        validate_input_value(value, type_, collect)
        errors.append(_variable_error(name, str(type_), value, problems, definition))
    if errors:
        raise Refused(errors)
    return VariableValues(sources, coerced)


def _variable_error(
    name: str, type_name: str, value: Any, problems: list[dict[str, Any]], definition: Any
) -> dict[str, Any]:
    message = f"Variable ${name} of type {type_name} was provided invalid value"
    if len(problems) == 1 and problems[0]["path"]:
        dotted = ".".join(str(part) for part in problems[0]["path"])
        message += f" for {dotted} ({problems[0]['explanation']})"
    error: dict[str, Any] = {"message": message}
    if definition.loc is not None:
        location = definition.loc.source.get_location(definition.loc.start)
        error["locations"] = [{"line": location.line, "column": location.column}]
    # Guess: graphql-ruby answers `value` and `problems`; the `INVALID_VARIABLE` code beside them is Shopify's.
    error["extensions"] = {"code": "INVALID_VARIABLE", "value": value, "problems": problems}
    return error


# --------------------------------------------------------------------------------------------------------------------
# Selections: what cost and bulk exports walk
# --------------------------------------------------------------------------------------------------------------------


def included(node: FieldNode | InlineFragmentNode | FragmentSpreadNode, variables: VariableValues) -> bool:
    """Whether `@skip`/`@include` on `node` let it through."""
    if not node.directives:
        return True
    skip = get_directive_values(GraphQLSkipDirective, node, variables)
    if skip is not None and skip.get("if") is True:
        return False
    include = get_directive_values(GraphQLIncludeDirective, node, variables)
    return not (include is not None and include.get("if") is False)


def selected_fields(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: VariableValues,
) -> Iterator[FieldNode]:
    """The fields of a selection set, fragments spread and `@skip`/`@include` applied."""
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if not included(cast(Any, selection), variables):
            continue
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from selected_fields(selection.selection_set, fragments, variables)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            yield from selected_fields(fragments[selection.name.value].selection_set, fragments, variables)


def object_type(type_name: str) -> Any:
    """The schema's object or interface type of that name."""
    return SCHEMA.get_type(type_name)


def field_type_name(type_name: str, field_name: str) -> str | None:
    """The named type of `type_name.field_name` when it is an object (None for scalars, enums and `__typename`)."""
    if field_name == "__typename":
        return None
    named: GraphQLNamedType = get_named_type(object_type(type_name).fields[field_name].type)
    return None if is_leaf_type(named) else named.name


def root_type(operation: OperationDefinitionNode) -> GraphQLObjectType:
    root = SCHEMA.mutation_type if operation.operation.value == "mutation" else SCHEMA.query_type
    assert root is not None
    return root


def parse_bulk_query(query: str) -> list[GqlField]:
    """The inner query of `bulkOperationRunQuery`, validated like any query; `ApiError` with the first refusal."""
    try:
        document = prepare(query)
        operation = document.operation(None)
    except Refused as exc:
        raise ApiError(exc.errors[0]["message"]) from None
    if operation.operation.value != "query":
        raise ApiError("Bulk queries must be queries, not mutations or subscriptions")
    return _bound(root_type(operation), operation.selection_set, document.fragments)


def _bound(parent: Any, selection_set: SelectionSetNode | None, fragments: Mapping[str, Any]) -> list[GqlField]:
    fields = []
    for node in selected_fields(selection_set, fragments, NO_VARIABLES):
        name, alias = node.name.value, node.alias.value if node.alias else None
        if name == "__typename":
            fields.append(GqlField(name, alias))
            continue
        definition = parent.fields[name]
        args = get_argument_values(definition, node, NO_VARIABLES)
        named = get_named_type(definition.type)
        subs = [] if is_leaf_type(named) else _bound(named, node.selection_set, fragments)
        fields.append(GqlField(name, alias, args, subs))
    return fields


# --------------------------------------------------------------------------------------------------------------------
# Execution
# --------------------------------------------------------------------------------------------------------------------


def _resolve_root(_root: Any, info: GraphQLResolveInfo[Any], **args: Any) -> Any:
    request = cast(Request, info.context)
    node = info.field_nodes[0]
    directives: dict[str, dict[str, Any]] = {}
    for directive in node.directives or ():
        definition = SCHEMA.get_directive(directive.name.value)
        if definition is not None:
            directives[directive.name.value] = get_directive_values(definition, node, info.variable_values) or {}
    check_scope(info.field_name, request.scopes)  # refused before anything runs or is counted
    if info.parent_type is SCHEMA.mutation_type:
        request.on_mutation(info.field_name)
    alias = node.alias.value if node.alias else None
    return request.resolvers[info.field_name](
        request.shop,
        GqlField(info.field_name, alias, args, [], directives, request.app, request.scopes),
        request.version,
    )


def _resolve_field(source: Any, info: GraphQLResolveInfo[Any], **args: Any) -> Any:
    value = source.get(info.field_name) if isinstance(source, dict) else getattr(source, info.field_name, None)
    return value(args) if callable(value) else value


def _discount_application_type(value: Any, *_: Any) -> str:
    return str(value.get("__typename") or "DiscountCodeApplication")


for _root in (SCHEMA.query_type, SCHEMA.mutation_type):
    assert _root is not None
    for _field in _root.fields.values():
        _field.resolve = _resolve_root
cast(Any, SCHEMA.get_type("DiscountApplication")).resolve_type = _discount_application_type
# Products are the only publishables the simulator has.
cast(Any, SCHEMA.get_type("Publishable")).resolve_type = lambda value, *_: str(value.get("__typename") or "Product")


class _Executor(Executor[Any]):
    """graphql-core's executor with a short path for the common field: a scalar, enum or object read off a dict.

    Most of what Crossdock selects are such fields (an order answer has about a hundred); graphql-core builds a
    resolve info and completes each one generically. The short path serializes a scalar or executes an object's
    selections directly and leaves everything else (arguments, callables, nulls on non-null fields, lists,
    interfaces, errors) to graphql-core.
    """

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        node = field_details_list[0].node
        if isinstance(source, dict) and not node.arguments:
            name = node.name.value
            leaf = _LEAVES.get((parent_type.name, name))
            if leaf is not None:
                value = source.get(name)
                if value is None and not leaf[1]:
                    return None
                if value is not None and not callable(value):
                    coerced = leaf[0].coerce_output_value(value)
                    if coerced is not None and coerced is not Undefined:
                        return coerced
            child = _OBJECTS.get((parent_type.name, name))
            if child is not None:
                value = source.get(name)
                if value is None and not child[1]:
                    return None
                if isinstance(value, dict):
                    try:
                        return self.collect_and_execute_subfields(
                            child[0], field_details_list, path, value, position_context
                        )
                    except Exception:  # noqa: BLE001 - graphql-core runs it again and places the error as it should
                        pass
        return super().execute_field(parent_type, source, field_details_list, path, position_context)

    def collect_subfields(self, return_type: GraphQLObjectType, field_details_list: Any) -> Any:
        # graphql-core memoizes the sub-selections per execution; a document whose selections no variable changes
        # (no @skip/@include) has the same ones in every request, so they are kept across requests too.
        if not cast(Request, self.context_value).static_selections:
            return super().collect_subfields(return_type, field_details_list)
        key = (return_type.name, *(id(details.node) for details in field_details_list))
        cached = _SUBFIELDS.get(key)
        if cached is not None:
            return cached[1]
        collected = super().collect_subfields(return_type, field_details_list)
        _SUBFIELDS[key] = (field_details_list, collected)  # the nodes stay alive, so their ids are not reused
        if len(_SUBFIELDS) > _SUBFIELD_CACHE_SIZE:
            _SUBFIELDS.pop(next(iter(_SUBFIELDS)))
        return collected


_SUBFIELDS: dict[tuple[Any, ...], tuple[Any, Any]] = {}
_SUBFIELD_CACHE_SIZE = 50_000  # selection sets of the cached documents; Crossdock's documents have a few hundred


def _plain_fields(kind: Callable[[Any], bool]) -> dict[tuple[str, str], tuple[Any, bool]]:
    """(type, field) → (its type, whether it is non-null) for fields of `kind` without arguments or resolver."""
    found: dict[tuple[str, str], tuple[Any, bool]] = {}
    for type_ in SCHEMA.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, definition in type_.fields.items():
            inner = definition.type.of_type if isinstance(definition.type, GraphQLNonNull) else definition.type
            if definition.args or definition.resolve is not None or not kind(inner):
                continue
            found[(type_.name, name)] = (inner, isinstance(definition.type, GraphQLNonNull))
    return found


def _plain_object(type_: Any) -> bool:
    return isinstance(type_, GraphQLObjectType) and type_.is_type_of is None


def _never_awaitable(_value: Any) -> TypeGuard[Awaitable[Any]]:
    return False  # every resolver answers synchronously; graphql-core need not test each value


def run(
    document: Document, operation: OperationDefinitionNode, variables: Mapping[str, Any], request: Request
) -> dict[str, Any]:
    """Execute `operation`: `{"data": ...}`, or `{"errors": [...], "data": None}` when a resolver refused."""
    operation_name = operation.name.value if operation.name else None
    result = execute(
        SCHEMA,
        document.ast,
        context_value=request,
        variable_values=dict(variables),
        operation_name=operation_name,
        field_resolver=_resolve_field,
        executor_class=_Executor,
        is_awaitable=_never_awaitable,
    )
    outcome = cast(Any, result)
    if not outcome.errors:
        return {"data": outcome.data}
    return {"errors": [_execution_error(error) for error in outcome.errors], "data": None}


def _execution_error(error: GraphQLError) -> dict[str, Any]:
    original = error.original_error
    if isinstance(original, ApiError):
        payload = original.payload()
    else:
        # Shopify's answer to a failure on its side; the simulator's own bug shows in the message.
        payload = {"message": error.message, "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
    shaped: dict[str, Any] = {"message": payload.pop("message")}
    if error.locations:
        shaped["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        shaped["path"] = list(error.path)
    shaped.update(payload)
    return shaped


_LEAVES = _plain_fields(is_leaf_type)
_OBJECTS = _plain_fields(_plain_object)


def cache_info() -> Any:
    """The document cache's hits and misses (for benchmarks and tests)."""
    return _prepared.cache_info()


def by_args(resolve: Callable[[Any, dict[str, Any]], Any]) -> RootResolver:
    """A root resolver that needs only the shop and the field's arguments."""
    return lambda shop, called, _version: resolve(shop, called.args)
