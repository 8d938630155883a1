"""Shopify's answers to a document it refuses: graphql-core's validation errors worded as graphql-ruby words them.

Shopify runs graphql-ruby: each error carries `extensions.code` (`undefinedField`, `argumentNotAccepted`,
`missingRequiredArguments`, `argumentLiteralsIncompatible`, `variableMismatch`, `selectionMismatch` ...) with the
code's own keys, and a `path` that starts with the operation ("query", "mutation Name"). Every rule of graphql-core
reports through a context that reshapes its error first.
"""

from __future__ import annotations

import re
from typing import Any, cast

from graphql import (
    ArgumentNode,
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSyntaxError,
    ObjectFieldNode,
    OperationDefinitionNode,
    ValidationContext,
    VariableNode,
    get_named_type,
    print_ast,
    specified_rules,
)
from graphql.language import Visitor, visit

# graphql-core's rule → graphql-ruby's `extensions.code` for the rules whose answer is not reshaped below.
# Guess: the codes of rules Crossdock never trips are graphql-ruby's names as far as we know them.
_RULE_CODES = {
    "ExecutableDefinitionsRule": "definitionNotExecutable",
    "UniqueOperationNamesRule": "operationNotUnique",
    "LoneAnonymousOperationRule": "anonymousOperationNotAlone",
    "KnownTypeNamesRule": "undefinedType",
    "FragmentsOnCompositeTypesRule": "fragmentOnNonCompositeType",
    "VariablesAreInputTypesRule": "variableRequiresValidType",
    "UniqueFragmentNamesRule": "fragmentNotUnique",
    "KnownFragmentNamesRule": "undefinedFragment",
    "NoUnusedFragmentsRule": "useAndDefineFragment",
    "PossibleFragmentSpreadsRule": "cannotSpreadFragment",
    "NoFragmentCyclesRule": "infiniteLoop",
    "UniqueVariableNamesRule": "variableNotUnique",
    "NoUndefinedVariablesRule": "undefinedVariable",
    "NoUnusedVariablesRule": "variableNotUsed",
    "KnownDirectivesRule": "undefinedDirective",
    "UniqueDirectivesPerLocationRule": "directiveCannotBeRepeated",
    "UniqueArgumentNamesRule": "argumentNotUnique",
    "OverlappingFieldsCanBeMergedRule": "fieldConflict",
    "UniqueInputFieldNamesRule": "inputFieldNotUnique",
}


def _field_name(context: ValidationContext) -> str:
    """The name of the field whose arguments are being validated (graphql-core's field definitions carry none)."""
    field_def, parent = context.get_field_def(), context.get_parent_type()
    fields = getattr(parent, "fields", {})
    return next((name for name, candidate in fields.items() if candidate is field_def), "?")


def _argument_name(context: ValidationContext) -> str | None:
    argument = context.get_argument()
    owner = context.get_directive() or context.get_field_def()
    if argument is None or owner is None:
        return None
    return next((name for name, candidate in owner.args.items() if candidate is argument), None)


def _reshape(rule: str, context: ValidationContext, error: GraphQLError) -> GraphQLError:
    """graphql-core's error of `rule` as graphql-ruby words it, with its `extensions`."""
    node = error.nodes[0] if error.nodes else None
    message, extensions = error.message, {"code": _RULE_CODES.get(rule, "validationError")}
    if rule == "FieldsOnCorrectTypeRule" and isinstance(node, FieldNode):
        parent = context.get_parent_type()
        type_name = parent.name if parent is not None else "?"
        message = f"Field '{node.name.value}' doesn't exist on type '{type_name}'"
        extensions = {"code": "undefinedField", "typeName": type_name, "fieldName": node.name.value}
    elif rule == "KnownArgumentNamesRule" and isinstance(node, ArgumentNode):
        directive = context.get_directive()
        owner_kind = "Directive" if directive is not None else "Field"
        owner = directive.name if directive is not None else _field_name(context)
        message = f"{owner_kind} '{owner}' doesn't accept argument '{node.name.value}'"
        extensions = {"code": "argumentNotAccepted", "name": owner, "typeName": owner_kind}
        extensions["argumentName"] = node.name.value
    elif rule == "ProvidedRequiredArgumentsRule" and isinstance(node, FieldNode):
        match = re.search(r"\((\w+):\)", error.message)
        missing = match.group(1) if match else "?"
        message = f"Field '{node.name.value}' is missing required arguments: {missing}"
        extensions = {"code": "missingRequiredArguments", "className": "Field", "name": node.name.value}
        extensions["arguments"] = missing
    elif rule == "ScalarLeafsRule" and isinstance(node, FieldNode):
        type_name = str(get_named_type(context.get_type())) if context.get_type() is not None else "?"
        name = node.name.value
        if node.selection_set is not None:
            message = f"Selections can't be made on scalars (field '{name}' returns {type_name} but has selections)"
        else:
            message = (
                f"Field must have selections (field '{name}' returns {type_name} but has no selections. "
                f"Did you mean '{name} {{ ... }}'?)"
            )
        extensions = {"code": "selectionMismatch", "nodeName": f"field '{name}'", "typeName": type_name}
    elif rule == "ValuesOfCorrectTypeRule":
        argument, field_def = _argument_name(context), context.get_field_def()
        if argument is not None and field_def is not None and node is not None:
            expected = field_def.args[argument].type
            message = (
                f"Argument '{argument}' on Field '{_field_name(context)}' has an invalid value "
                f"({print_ast(node)}). Expected type '{expected}'."
            )
            extensions = {"code": "argumentLiteralsIncompatible", "typeName": "Field", "argumentName": argument}
        else:
            extensions = {"code": "argumentLiteralsIncompatible"}
    elif rule == "VariablesInAllowedPositionRule":
        match = re.match(r"Variable '\$(\w+)' of type '([^']+)' used in position expecting type '([^']+)'", message)
        if match is not None:
            name, given, wanted = match.groups()
            message = f"Type mismatch on variable ${name} and argument {{argument}} ({given} / {wanted})"
            extensions = {"code": "variableMismatch", "variableName": name, "typeName": given}
            extensions["errorMessage"] = "Type mismatch"
    return GraphQLError(message, error.nodes, extensions=extensions)


class _ShopifyContext:
    """The validation context a rule reports through: every error it reports is reshaped as Shopify's first."""

    def __init__(self, context: ValidationContext, rule: str) -> None:
        self._context = context
        self._rule = rule

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    def report_error(self, error: GraphQLError) -> None:
        self._context.report_error(_reshape(self._rule, self._context, error))


def _shopify_flavoured(rule: type[ASTValidationRule]) -> type[ASTValidationRule]:
    class Rule(rule):  # type: ignore[misc, valid-type]
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(cast(ValidationContext, _ShopifyContext(context, rule.__name__)))

    Rule.__name__ = rule.__name__
    return Rule


VALIDATION_RULES = tuple(_shopify_flavoured(rule) for rule in specified_rules)


class _Paths(Visitor):
    """graphql-ruby's error paths: the operation ("query", "mutation Name"), the fields, then the argument.

    Also remembers, per variable usage, the argument it is passed to (for `variableMismatch`)."""

    def __init__(self) -> None:
        super().__init__()
        self.of: dict[int, list[str]] = {}
        self.argument_of: dict[int, str] = {}
        self._stack: list[str] = []
        self._argument: str | None = None
        self._argument_path: list[str] = []

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        label = node.operation.value
        self._stack = [f"{label} {node.name.value}" if node.name else label]

    def enter_fragment_definition(self, node: FragmentDefinitionNode, *_: Any) -> None:
        self._stack = [f"fragment {node.name.value}"]

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        self._stack.append((node.alias or node.name).value)
        self.of[id(node)] = list(self._stack)

    def leave_field(self, *_: Any) -> None:
        self._stack.pop()

    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        self._argument = node.name.value
        self._argument_path = [*self._stack, node.name.value]
        self.of[id(node)] = self._argument_path

    def enter(self, node: Any, *_: Any) -> None:
        if self._argument is not None:  # a value inside an argument: errors about it carry the argument's path
            self.of[id(node)] = self._argument_path

    def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
        self._argument = node.name.value

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        if self._argument is not None:
            self.argument_of[id(node)] = self._argument
            self.of[id(node)] = self._argument_path

    def leave_argument(self, *_: Any) -> None:
        self._argument = None


def validation_errors(document: DocumentNode, errors: list[GraphQLError]) -> list[dict[str, Any]]:
    paths = _Paths()
    visit(document, paths)
    payloads: list[dict[str, Any]] = []
    missing_by_field: dict[int, dict[str, Any]] = {}
    for error in errors:
        extensions = dict(error.extensions or {})
        message = error.message
        node = error.nodes[0] if error.nodes else None
        if "{argument}" in message and error.nodes:
            argument = paths.argument_of.get(id(error.nodes[-1]), "?")
            message = message.replace("{argument}", argument)
            extensions["argumentName"] = argument
        if extensions.get("code") == "missingRequiredArguments" and node is not None:
            earlier = missing_by_field.get(id(node))
            if earlier is not None:  # graphql-ruby names every missing argument in one error
                earlier["extensions"]["arguments"] += f", {extensions['arguments']}"
                earlier["message"] += f", {extensions['arguments']}"
                continue
        payload: dict[str, Any] = {"message": message}
        if error.locations:
            payload["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
        if node is not None and id(node) in paths.of:
            payload["path"] = paths.of[id(node)]
        payload["extensions"] = extensions
        if extensions.get("code") == "missingRequiredArguments" and node is not None:
            missing_by_field[id(node)] = payload
        payloads.append(payload)
    return payloads


def syntax_error(error: GraphQLSyntaxError, query: str) -> dict[str, Any]:
    # graphql-ruby names the token it stopped at: 'Parse error on "}" (RCURLY) at [1, 7]'.
    position = next(iter(error.positions)) if error.positions else len(query)
    location = error.locations[0] if error.locations else None
    line, column = (location.line, location.column) if location is not None else (1, 1)
    token = "end of input" if position >= len(query.rstrip()) else f'"{query[position]}"'
    return {"message": f"Parse error on {token} at [{line}, {column}]", "locations": [{"line": line, "column": column}]}
