"""The embedded IAM's evaluation against IAM's documented rules (IAM User Guide, "Policy evaluation logic",
"IAM JSON policy elements": Action, NotAction, Resource, NotResource, Condition, the condition operators)."""

from __future__ import annotations

from typing import Any

import pytest

from crossdock_local.aws.iam_evaluation import Policies, UnsupportedPolicy, compile_document

TABLE = "arn:aws:dynamodb:eu-west-1:123456789012:table/crossdock-Table"
ROLE = "arn:aws:iam::123456789012:role/crossdock-PollScheduleRole"


def policies(*statements: dict[str, Any]) -> Policies:
    return Policies(tuple(compile_document("test", {"Version": "2012-10-17", "Statement": list(statements)})))


def allow(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def test_nothing_is_allowed_without_a_statement_that_allows_it() -> None:
    # GIVEN a role allowed to read items only
    role = policies(allow("dynamodb:GetItem", TABLE))
    # WHEN it writes one / THEN the implicit deny holds, while the read is allowed
    assert not role.decide("dynamodb:PutItem", TABLE).allowed
    assert role.decide("dynamodb:GetItem", TABLE).allowed


def test_an_explicit_deny_wins_over_every_allow() -> None:
    # GIVEN one statement allowing every DynamoDB action and one denying deletes
    role = policies(allow("dynamodb:*", "*"), {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": TABLE})
    # WHEN the role deletes an item
    decision = role.decide("dynamodb:DeleteItem", TABLE)
    # THEN it is denied explicitly, and other actions stay allowed
    assert not decision.allowed and decision.explicit_deny
    assert role.decide("dynamodb:GetItem", TABLE).allowed


def test_actions_match_regardless_of_case_resources_do_not() -> None:
    # GIVEN a statement written with other capitals than the request's
    role = policies(allow("DynamoDB:getitem", TABLE))
    # THEN the action matches, the resource with other capitals does not
    assert role.decide("dynamodb:GetItem", TABLE).allowed
    assert not role.decide("dynamodb:GetItem", TABLE.replace("crossdock-Table", "crossdock-table")).allowed


def test_star_spans_any_characters_and_question_mark_exactly_one() -> None:
    # GIVEN wildcards in actions and resources
    role = policies(
        allow("sqs:SendMessage*", "arn:aws:sqs:eu-west-1:123456789012:crossdock-*"),
        allow("states:DescribeExecution", "arn:aws:states:eu-west-1:123456789012:execution:crossdock-Order?:*"),
    )
    # THEN `*` matches across `-`, `:` and `/`, and `?` one character only
    assert role.decide("sqs:SendMessageBatch", "arn:aws:sqs:eu-west-1:123456789012:crossdock-Inbound").allowed
    assert role.decide("sqs:SendMessage", "arn:aws:sqs:eu-west-1:123456789012:crossdock-a/b:c").allowed
    assert not role.decide("sqs:ReceiveMessage", "arn:aws:sqs:eu-west-1:123456789012:crossdock-Inbound").allowed
    execution = "arn:aws:states:eu-west-1:123456789012:execution:crossdock-OrderX:order-1"
    assert role.decide("states:DescribeExecution", execution).allowed
    assert not role.decide("states:DescribeExecution", execution.replace("OrderX", "OrderXY")).allowed
    # AND brackets are literal characters, not fnmatch's character classes
    bracketed = policies(allow("s3:GetObject", "arn:aws:s3:::bucket/[ab]*"))
    assert bracketed.decide("s3:GetObject", "arn:aws:s3:::bucket/[ab]x").allowed
    assert not bracketed.decide("s3:GetObject", "arn:aws:s3:::bucket/ax").allowed


def test_not_action_and_not_resource_allow_everything_but_what_they_name() -> None:
    # GIVEN a NotAction statement and a NotResource one
    role = policies(
        {"Effect": "Allow", "NotAction": "dynamodb:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "dynamodb:GetItem", "NotResource": TABLE},
    )
    # THEN anything but DynamoDB is allowed, and GetItem anywhere but on the named table
    assert role.decide("sqs:SendMessage", "arn:aws:sqs:eu-west-1:123456789012:q").allowed
    assert not role.decide("dynamodb:GetItem", TABLE).allowed
    assert role.decide("dynamodb:GetItem", TABLE + "-other").allowed


def test_string_equals_on_a_key_the_request_carries_or_lacks() -> None:
    # GIVEN the template's PassRole statement: only to the scheduler
    role = policies(
        allow("iam:PassRole", ROLE, Condition={"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}})
    )
    # THEN passing it to the scheduler is allowed, to another service or without the key not
    assert role.decide("iam:PassRole", ROLE, {"iam:passedtoservice": ("scheduler.amazonaws.com",)}).allowed
    assert not role.decide("iam:PassRole", ROLE, {"iam:passedtoservice": ("lambda.amazonaws.com",)}).allowed
    assert not role.decide("iam:PassRole", ROLE).allowed


def test_if_exists_and_negated_operators_hold_when_the_key_is_absent() -> None:
    # GIVEN a condition that only applies when the key is present, and a negated one
    if_exists = policies(allow("iam:PassRole", "*", Condition={"StringEqualsIfExists": {"iam:PassedToService": "x"}}))
    negated = policies(allow("iam:PassRole", "*", Condition={"StringNotEquals": {"iam:PassedToService": "x"}}))
    # THEN both hold without the key; with it, each tests its value
    assert if_exists.decide("iam:PassRole", ROLE).allowed
    assert negated.decide("iam:PassRole", ROLE).allowed
    assert not if_exists.decide("iam:PassRole", ROLE, {"iam:passedtoservice": ("y",)}).allowed
    assert not negated.decide("iam:PassRole", ROLE, {"iam:passedtoservice": ("x",)}).allowed


def test_every_operator_of_a_statement_must_hold_any_value_may_match() -> None:
    # GIVEN two operators (AND), one with two values (OR)
    role = policies(
        allow(
            "iam:PassRole",
            "*",
            Condition={
                "StringLike": {"iam:PassedToService": ["scheduler.*", "states.*"]},
                "ArnLike": {"iam:AssociatedResourceArn": "arn:aws:scheduler:*:*:schedule/crossdock-poll/*"},
            },
        )
    )
    schedule = ("arn:aws:scheduler:eu-west-1:123456789012:schedule/crossdock-poll/c-1-orders",)
    # THEN both must hold, either value of the first will do
    assert role.decide(
        "iam:PassRole", ROLE, {"iam:passedtoservice": ("states.amazonaws.com",), "iam:associatedresourcearn": schedule}
    ).allowed
    assert not role.decide("iam:PassRole", ROLE, {"iam:passedtoservice": ("states.amazonaws.com",)}).allowed


@pytest.mark.parametrize(
    ("condition", "names"),
    [
        ({"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}, "NumericLessThan"),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": "team"}}, "ForAnyValue:StringEquals"),
        ({"DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}}, "DateGreaterThan"),
    ],
)
def test_an_operator_not_modelled_fails_loudly_before_anything_runs(condition: dict[str, Any], names: str) -> None:
    # GIVEN a statement with an operator the evaluator does not know
    # WHEN it is compiled / THEN it is refused, naming the operator (never guessed as allow or deny)
    with pytest.raises(UnsupportedPolicy, match=names):
        policies(allow("dynamodb:GetItem", TABLE, Condition=condition))


def test_elements_an_identity_policy_cannot_have_are_refused() -> None:
    # GIVEN a statement with a Principal (resource policies only) / one with both Action and NotAction
    # THEN each is refused, not read as something else
    with pytest.raises(UnsupportedPolicy, match="Principal"):
        policies(allow("dynamodb:GetItem", TABLE, Principal="*"))
    with pytest.raises(UnsupportedPolicy, match="Action and NotAction"):
        policies(allow("dynamodb:GetItem", TABLE, NotAction="sqs:*"))


def test_the_statements_that_allowed_a_request_are_told() -> None:
    # GIVEN two statements that both allow the request and one that does not
    role = policies(allow("kms:Decrypt", "*"), allow("kms:*", "*"), allow("kms:Encrypt", "*"))
    # WHEN it is decided
    decision = role.decide("kms:Decrypt", "arn:aws:kms:eu-west-1:123456789012:key/k")
    # THEN both allowing statements are named (one of them alone would do: removing either changes nothing)
    assert [statement.actions for statement in decision.allowed_by] == [("kms:decrypt",), ("kms:*",)]
    assert role.without(decision.allowed_by[0]).decide("kms:Decrypt", "*").allowed
