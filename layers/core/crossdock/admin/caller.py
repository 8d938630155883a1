"""Who is calling the admin API: the claims API Gateway's Cognito authorizer put in the event.

For a REST API, API Gateway hands the id token's claims over as a flat dict of strings at
`requestContext.authorizer.claims`; `cognito:groups` is the groups joined by "," (a JSON list is read too, as a
few tools and the HTTP API send it). A caller is an operator (group `operators`: every connection) or a merchant
user of one tenant (`custom:tenant`); one that is neither may do nothing (`Forbidden` on every route).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

OPERATORS_GROUP = "operators"
TENANT_CLAIM = "custom:tenant"
GROUPS_CLAIM = "cognito:groups"


class Forbidden(Exception):
    """The caller may not use this route at all (a merchant on an operator's route, or a user of no tenant)."""


@dataclass(frozen=True)
class Caller:
    user: str  # the user pool's `sub`
    email: str | None
    operator: bool
    tenant: str | None

    @classmethod
    def of(cls, claims: Mapping[str, Any] | None) -> Caller:
        claims = claims or {}
        tenant = str(claims.get(TENANT_CLAIM) or "").strip() or None
        return cls(
            user=str(claims.get("sub") or ""),
            email=str(claims["email"]) if claims.get("email") else None,
            operator=OPERATORS_GROUP in groups_of(claims.get(GROUPS_CLAIM)),
            tenant=tenant,
        )

    @property
    def who(self) -> str:
        """How the audit names the caller: the e-mail, else the user's id."""
        return self.email or self.user or "an unknown user"

    def allowed(self) -> Caller:
        """Itself, when it may use the API at all."""
        if not self.user or not (self.operator or self.tenant):
            raise Forbidden("this user is neither an operator nor a user of a tenant")
        return self

    def as_operator(self) -> Caller:
        """Itself, when it is an operator; operator-only routes (dead letters) refuse everyone else."""
        if not self.allowed().operator:
            raise Forbidden("only operators may do this")
        return self


def groups_of(value: Any) -> frozenset[str]:
    """`cognito:groups` as API Gateway's REST API sends it ("a,b"), or as a JSON list (a list or its text)."""
    if value is None:
        return frozenset()
    if isinstance(value, list | tuple):
        return frozenset(str(group).strip() for group in value)
    text = str(value).strip()
    if text.startswith("["):
        try:
            listed = json.loads(text)
        except ValueError:
            listed = None
        if isinstance(listed, list):
            return frozenset(str(group).strip() for group in listed)
        # API Gateway renders a list as "[a b]" when it flattens the claims of a token it verified.
        text = text.strip("[]").replace(" ", ",")
    return frozenset(group.strip() for group in text.split(",") if group.strip())
