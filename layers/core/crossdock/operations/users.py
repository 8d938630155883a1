"""The people who sign in to the admin API and its console: operators (group `operators`) and merchant users, each
of one tenant (the user pool's immutable attribute `custom:tenant`, which the admin API reads from the id token).

Users are made, given a new password and deleted by an operator (`crossdock users create|set-password|delete`),
never by sign-up (template.yaml's UserPool allows admin
creation only). With a password, the user is made with it (permanent, no invitation mail); without one, Cognito
mails the user an invitation with a temporary password, to be changed at the first sign-in. Passwords are never
logged, returned or kept here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from crossdock.operations.errors import NotFound, OperatorError, Refused, Rejected

OPERATORS_GROUP = "operators"
TENANT_ATTRIBUTE = "custom:tenant"
# A tenant names a merchant in URLs, logs and the connections' index: plain, short, no spaces.
TENANT_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Cognito's answers to a wrong input, said for a person (the password policy is the pool's: template.yaml).
_REFUSALS = {
    "UsernameExistsException": ("email", "a user with this e-mail exists already"),
    "InvalidPasswordException": ("password", "does not meet the user pool's password policy"),
}


@dataclass(frozen=True)
class UserProblem:
    field: str
    message: str


@dataclass(frozen=True)
class UserDirectory:
    """A stack's user pool: a boto3 cognito-idp client and the pool's id (template.yaml's UserPool)."""

    cognito: Any
    user_pool_id: str
    description: str


@dataclass(frozen=True)
class User:
    user: str  # Cognito's `sub`: the id the admin API's audit names
    email: str
    tenant: str | None
    operator: bool
    status: str  # CONFIRMED, FORCE_CHANGE_PASSWORD (invited, not signed in yet), …
    enabled: bool
    created: datetime | None


def create_user(
    directory: UserDirectory,
    email: str,
    *,
    tenant: str | None = None,
    operator: bool = False,
    password: str | None = None,
) -> User:
    """A new user: an operator, or a merchant user of `tenant` (one of the two). Rejected, naming the field, when
    the e-mail, tenant or password is wrong or the e-mail is taken; nothing is made then."""
    problems = _input_problems(email, tenant, operator, password)
    if problems:
        raise Rejected("user not created", problems)
    attributes = [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}]
    if tenant is not None:
        attributes.append({"Name": TENANT_ATTRIBUTE, "Value": tenant})
    request: dict[str, Any] = {"UserPoolId": directory.user_pool_id, "Username": email, "UserAttributes": attributes}
    if password is not None:
        request["MessageAction"] = "SUPPRESS"  # the operator hands the password over; no invitation mail
    else:
        request["DesiredDeliveryMediums"] = ["EMAIL"]
    try:
        directory.cognito.admin_create_user(**request)
    except ClientError as refused:
        raise _refusal(refused) from None
    try:
        if password is not None:
            directory.cognito.admin_set_user_password(
                UserPoolId=directory.user_pool_id, Username=email, Password=password, Permanent=True
            )
        if operator:
            directory.cognito.admin_add_user_to_group(
                UserPoolId=directory.user_pool_id, Username=email, GroupName=OPERATORS_GROUP
            )
    except ClientError as refused:
        # Half a user (no password, or an operator outside the group) must not stay behind.
        directory.cognito.admin_delete_user(UserPoolId=directory.user_pool_id, Username=email)
        raise _refusal(refused) from None
    found = _user(directory.cognito.admin_get_user(UserPoolId=directory.user_pool_id, Username=email), operator)
    return found


def set_password(directory: UserDirectory, email: str, password: str) -> User:
    """A new permanent password for the user (a lost one, or an invitation never answered); NotFound for an
    e-mail the pool does not know, Rejected when the pool's policy refuses the password."""
    if not password:
        raise Rejected("password not set", [UserProblem("password", "is empty")])
    try:
        directory.cognito.admin_set_user_password(
            UserPoolId=directory.user_pool_id, Username=email, Password=password, Permanent=True
        )
    except ClientError as refused:
        raise _refusal(refused, "password not set", email) from None
    return _found(directory, email)


def delete_user(directory: UserDirectory, email: str) -> None:
    """The user can no longer sign in; tokens already issued pass until they expire (at most an hour)."""
    try:
        directory.cognito.admin_delete_user(UserPoolId=directory.user_pool_id, Username=email)
    except ClientError as refused:
        raise _refusal(refused, "user not deleted", email) from None


def list_users(directory: UserDirectory) -> list[User]:
    """Every user of the pool, operators first, then by e-mail."""
    operators = {user["Username"] for user in _pages(directory, "list_users_in_group", GroupName=OPERATORS_GROUP)}
    found = [_user(user, user["Username"] in operators) for user in _pages(directory, "list_users")]
    return sorted(found, key=lambda user: (not user.operator, user.email))


def _input_problems(email: str, tenant: str | None, operator: bool, password: str | None) -> list[UserProblem]:
    problems = []
    if not _EMAIL_PATTERN.fullmatch(email):
        problems.append(UserProblem("email", f"{email!r} is not an e-mail address"))
    if operator and tenant is not None:
        problems.append(UserProblem("tenant", "an operator sees every tenant: give --operator or --tenant, not both"))
    elif not operator and tenant is None:
        problems.append(UserProblem("tenant", "a merchant user needs a tenant (or make an operator)"))
    elif tenant is not None and not TENANT_PATTERN.fullmatch(tenant):
        problems.append(
            UserProblem("tenant", f"{tenant!r}: 1-64 letters, digits, '.', '_' or '-', starting with a letter/digit")
        )
    if password is not None and not password:
        problems.append(UserProblem("password", "is empty"))
    return problems


def _found(directory: UserDirectory, email: str) -> User:
    found = directory.cognito.admin_get_user(UserPoolId=directory.user_pool_id, Username=email)
    operators = {user["Username"] for user in _pages(directory, "list_users_in_group", GroupName=OPERATORS_GROUP)}
    return _user(found, found["Username"] in operators)


def _refusal(refused: ClientError, what: str = "user not created", email: str = "") -> OperatorError:
    error = refused.response.get("Error", {})
    code = error.get("Code", "")
    if code == "UserNotFoundException":
        return NotFound(f"{what}: no user {email} in the user pool")
    if code in _REFUSALS:
        field, message = _REFUSALS[code]
        return Rejected(what, [UserProblem(field, message)])
    # Cognito's own message (never the request: it may hold the password).
    return Refused(f"Cognito refused: {code}: {error.get('Message', '')}")


def _pages(directory: UserDirectory, operation: str, **params: Any) -> Iterator[dict[str, Any]]:
    for page in directory.cognito.get_paginator(operation).paginate(UserPoolId=directory.user_pool_id, **params):
        yield from page["Users"]


def _user(found: dict[str, Any], operator: bool) -> User:
    attributes = {item["Name"]: item["Value"] for item in found.get("Attributes", found.get("UserAttributes", []))}
    return User(
        user=attributes.get("sub", found["Username"]),
        email=attributes.get("email", found["Username"]),
        tenant=attributes.get(TENANT_ATTRIBUTE),
        operator=operator,
        status=found.get("UserStatus", ""),
        enabled=bool(found.get("Enabled", True)),
        created=found.get("UserCreateDate"),
    )
