"""`crossdock.operations.users` on moto's Cognito, with the user pool template.yaml declares: who may be made, what
a refusal says, and that a refused user leaves nothing behind."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import moto
import pytest
from moto.core.models import DEFAULT_ACCOUNT_ID

from crossdock.operations import users
from crossdock.operations.errors import NotFound, Rejected
from crossdock_local.aws import cognito
from crossdock_local.aws.template import load_template
from crossdock_local.stack import PROJECT_ROOT

REGION = "eu-west-1"
PASSWORD = "Strong-Enough-2026"


@pytest.fixture
def directory() -> Iterator[users.UserDirectory]:
    """The template's UserPool (its own properties but the name) and operators group, on moto."""
    resources = load_template(PROJECT_ROOT / "template.yaml")["Resources"]
    props: dict[str, Any] = {k: v for k, v in resources["UserPool"]["Properties"].items() if k != "UserPoolName"}
    group = resources["OperatorsGroup"]["Properties"]
    with moto.mock_aws():
        pool = cognito.provision_user_pool(DEFAULT_ACCOUNT_ID, REGION, "crossdock-users", props).ref
        cognito.provision_group(DEFAULT_ACCOUNT_ID, REGION, "-", {**group, "UserPoolId": pool})
        yield users.UserDirectory(boto3.client("cognito-idp", region_name=REGION), pool, "the test pool")


def test_a_merchant_user_and_an_operator_are_made_and_listed(directory: users.UserDirectory) -> None:
    # GIVEN the pool WHEN an operator makes a merchant user of acme and another operator
    anna = users.create_user(directory, "anna@acme.dk", tenant="acme", password=PASSWORD)
    ops = users.create_user(directory, "ops@crossdock.example", operator=True, password=PASSWORD)
    # THEN both can sign in with their password (confirmed), the merchant of acme, the operator in the group
    assert (anna.tenant, anna.operator, anna.status) == ("acme", False, "CONFIRMED")
    assert (ops.tenant, ops.operator, ops.status) == (None, True, "CONFIRMED")
    # AND the list shows operators first
    assert [(u.email, u.operator, u.tenant) for u in users.list_users(directory)] == [
        ("ops@crossdock.example", True, None),
        ("anna@acme.dk", False, "acme"),
    ]


def test_without_a_password_the_user_is_invited_to_choose_one(directory: users.UserDirectory) -> None:
    # GIVEN no password WHEN a user is made THEN Cognito's invitation: a temporary password to change at sign-in
    invited = users.create_user(directory, "bo@acme.dk", tenant="acme")
    assert invited.status == "FORCE_CHANGE_PASSWORD"


@pytest.mark.parametrize(
    ("email", "tenant", "operator", "field", "says"),
    [
        ("not-an-address", "acme", False, "email", "is not an e-mail address"),
        ("anna@acme.dk", None, False, "tenant", "needs a tenant"),
        ("anna@acme.dk", "acme", True, "tenant", "not both"),
        ("anna@acme.dk", "acme corp", False, "tenant", "1-64 letters"),
        ("anna@acme.dk", "-acme", False, "tenant", "1-64 letters"),
    ],
)
def test_wrong_input_is_refused_by_field_before_cognito_is_asked(
    directory: users.UserDirectory, email: str, tenant: str | None, operator: bool, field: str, says: str
) -> None:
    # GIVEN input wrong in one way WHEN a user is made THEN refused naming the field, and nobody made
    with pytest.raises(Rejected) as refused:
        users.create_user(directory, email, tenant=tenant, operator=operator, password=PASSWORD)
    assert [problem.field for problem in refused.value.problems] == [field]
    assert says in refused.value.problems[0].message
    assert users.list_users(directory) == []


def test_a_weak_password_or_a_taken_email_is_refused_and_leaves_nothing_behind(directory: users.UserDirectory) -> None:
    # GIVEN a password the template's policy refuses (no digit, too short)
    # WHEN a user is made with it
    with pytest.raises(Rejected, match="password: does not meet the user pool's password policy"):
        users.create_user(directory, "cai@acme.dk", tenant="acme", password="short")
    # THEN no half-made user (made, without a password) stays in the pool
    assert users.list_users(directory) == []
    # AND an e-mail already taken is refused on its field
    users.create_user(directory, "cai@acme.dk", tenant="acme", password=PASSWORD)
    with pytest.raises(Rejected, match="email: a user with this e-mail exists already"):
        users.create_user(directory, "cai@acme.dk", operator=True, password=PASSWORD)
    assert [u.operator for u in users.list_users(directory)] == [False]


def test_a_lost_password_is_replaced_and_a_deleted_user_is_gone(directory: users.UserDirectory) -> None:
    # GIVEN an invited user who never chose a password
    users.create_user(directory, "dan@acme.dk", tenant="acme")
    # WHEN an operator sets one (`crossdock users set-password`)
    changed = users.set_password(directory, "dan@acme.dk", "Another-Strong-2026")
    # THEN the user is confirmed with it; a weak one is refused on its field
    assert changed.status == "CONFIRMED" and changed.tenant == "acme"
    with pytest.raises(Rejected, match="password: does not meet"):
        users.set_password(directory, "dan@acme.dk", "weak")
    # AND once deleted the user is gone; an unknown e-mail is not found, for either command
    users.delete_user(directory, "dan@acme.dk")
    assert users.list_users(directory) == []
    with pytest.raises(NotFound, match=r"no user dan@acme\.dk"):
        users.delete_user(directory, "dan@acme.dk")
    with pytest.raises(NotFound, match=r"password not set: no user dan@acme\.dk"):
        users.set_password(directory, "dan@acme.dk", "Another-Strong-2026")
