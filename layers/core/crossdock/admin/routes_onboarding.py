"""Creating a connection through the admin API, and testing one first (`POST /admin/connections/test`): the CLI's
`connections create` of each kind (`operations.onboarding`, `webshipper_onboarding`, `peakwms_onboarding`): its
accounts tested against the platforms, every problem at once (422 by field) and nothing stored when one fails; else
stored, with its secrets encrypted, for the caller's tenant — a merchant's own, or the one an operator names — in
the same write. The test is the same create stopped before its first write (`operations.connection_check`).

The body names its `kind`; each kind asks for its own accounts. Secrets travel in `secrets` and are never echoed:
a validation error names the field, never its value.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from crossdock.admin import audit, context
from crossdock.admin.caller import Caller
from crossdock.admin.errors import FieldError, Invalid, answers
from crossdock.integrations.peakwms_shopify.install import PeakwmsShopifyCredentials
from crossdock.integrations.rackbeat_shopbox.install import ShopboxCredentials
from crossdock.integrations.rackbeat_webshipper.install import WebshipperCredentials
from crossdock.operations import connection_check, onboarding, peakwms_onboarding, webshipper_onboarding
from crossdock.operations.target import OperatorTarget

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves its __init__ unannotated


# What goes into a platform's URL or an HTTP header (a key, a token, an account, a domain): printable ASCII only, so
# such input is refused by field here rather than failing the request that would carry it.
_WIRE = r"^[!-~]+$"
_WIRE_MESSAGE = "use printable ASCII without spaces: it is sent in a URL or an HTTP header"


class _Secrets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _on_the_wire(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(_WIRE, value.get_secret_value()):
            raise ValueError(_WIRE_MESSAGE)
        return value


class _New(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str | None = Field(default=None, min_length=1, max_length=64, description="operators only: whose it is")
    settings: dict[str, Any] = Field(default_factory=dict, description="the kind's settings; defaults where left out")


class ShopifySecrets(_Secrets):
    rackbeat_api_key: SecretStr
    shopify_client_secret: SecretStr


class NewRackbeatShopify(_New):
    kind: Literal["rackbeat_shopify"]
    shop_domain: str = Field(min_length=1, max_length=255, pattern=_WIRE, description="the *.myshopify.com domain")
    shopify_client_id: str = Field(min_length=1, max_length=255, pattern=_WIRE)
    secrets: ShopifySecrets


class ShopboxSecrets(_Secrets):
    rackbeat_api_key: SecretStr
    shopbox_password: SecretStr | None = None
    shopbox_api_token: SecretStr | None = None


class NewRackbeatShopbox(_New):
    kind: Literal["rackbeat_shopbox"]
    shopbox_username: str | None = Field(default=None, max_length=255, description="the Shopbox login's e-mail")
    shopbox_client_uid: str | None = Field(default=None, max_length=255, pattern=_WIRE, description="of several")
    secrets: ShopboxSecrets


class WebshipperSecrets(_Secrets):
    rackbeat_api_key: SecretStr
    webshipper_password: SecretStr | None = None
    webshipper_api_token: SecretStr | None = None


class NewRackbeatWebshipper(_New):
    kind: Literal["rackbeat_webshipper"]
    webshipper_account: str = Field(min_length=1, max_length=255, pattern=_WIRE)
    webshipper_username: str | None = Field(default=None, max_length=255)
    secrets: WebshipperSecrets


class PeakwmsSecrets(_Secrets):
    shopify_access_token: SecretStr
    shopify_api_secret: SecretStr
    peakwms_api_key: SecretStr


class NewPeakwmsShopify(_New):
    kind: Literal["peakwms_shopify"]
    web_url: str = Field(min_length=1, max_length=255, pattern=_WIRE, description="the shop's *.myshopify.com")
    peakwms_account: str = Field(min_length=1, max_length=255, pattern=_WIRE)
    secrets: PeakwmsSecrets


NewConnection = Annotated[
    NewRackbeatShopify | NewRackbeatShopbox | NewRackbeatWebshipper | NewPeakwmsShopify, Field(discriminator="kind")
]
Created = (
    onboarding.CreatedConnection
    | onboarding.CreatedShopboxConnection
    | webshipper_onboarding.CreatedWebshipperConnection
    | peakwms_onboarding.CreatedPeakwmsConnection
)


@router.post("/admin/connections", responses=answers(201, "created; an installing connection says how to finish"))
def create_connection(new: Annotated[NewConnection, Body()]) -> Response[Created]:
    caller = context.caller(router)
    target = context.target()
    tenant = _tenant(caller, new.tenant)
    created = _create(target, new, tenant)
    audit.record(target, caller, created.connection_id, "connection/created", f"created the {new.kind} connection")
    return Response(status_code=HTTPStatus.CREATED.value, content_type=content_types.APPLICATION_JSON, body=created)


@router.post("/admin/connections/test", responses=answers(200, "every account answered yes; nothing was stored"))
def test_connection(new: Annotated[NewConnection, Body()]) -> connection_check.ConnectionChecked:
    """The create's tests and checks, and nothing stored: a refusal is the create's own 422, by field."""
    caller = context.caller(router)
    target = context.target()
    return connection_check.check_new_connection(_create, target=target, new=new, tenant=_tenant(caller, new.tenant))


def _tenant(caller: Caller, asked: str | None) -> str | None:
    """An operator's connection is the tenant it names (or no one's); a merchant's is always its own tenant's."""
    if caller.operator:
        return asked
    if asked is not None and asked != caller.tenant:
        raise Invalid("the connection was not created", [FieldError(field="tenant", message="not your tenant")])
    return caller.tenant


def _create(target: OperatorTarget, new: NewConnection, tenant: str | None, *, check_only: bool = False) -> Created:
    if isinstance(new, NewRackbeatShopify):
        return onboarding.create_connection(
            target,
            new.kind,
            shop_domain=new.shop_domain,
            shopify_client_id=new.shopify_client_id,
            shopify_client_secret=new.secrets.shopify_client_secret.get_secret_value(),
            rackbeat_api_key=new.secrets.rackbeat_api_key.get_secret_value(),
            settings=new.settings,
            tenant=tenant,
            check_only=check_only,
        )
    if isinstance(new, NewRackbeatShopbox):
        return onboarding.create_shopbox_connection(
            target,
            rackbeat_api_key=new.secrets.rackbeat_api_key.get_secret_value(),
            shopbox=ShopboxCredentials(
                username=new.shopbox_username,
                password=_plain(new.secrets.shopbox_password),
                api_token=_plain(new.secrets.shopbox_api_token),
                client_uid=new.shopbox_client_uid,
            ),
            settings=new.settings,
            tenant=tenant,
            check_only=check_only,
        )
    if isinstance(new, NewRackbeatWebshipper):
        return webshipper_onboarding.create_webshipper_connection(
            target,
            rackbeat_api_key=new.secrets.rackbeat_api_key.get_secret_value(),
            webshipper=WebshipperCredentials(
                account=new.webshipper_account,
                username=new.webshipper_username,
                password=_plain(new.secrets.webshipper_password),
                api_token=_plain(new.secrets.webshipper_api_token),
            ),
            settings=new.settings,
            tenant=tenant,
            check_only=check_only,
        )
    return peakwms_onboarding.create_peakwms_connection(
        target,
        credentials=PeakwmsShopifyCredentials(
            web_url=new.web_url,
            access_token=new.secrets.shopify_access_token.get_secret_value(),
            api_secret=new.secrets.shopify_api_secret.get_secret_value(),
            peakwms_account=new.peakwms_account,
            peakwms_api_key=new.secrets.peakwms_api_key.get_secret_value(),
        ),
        settings=new.settings,
        tenant=tenant,
        check_only=check_only,
    )


def _plain(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret is not None else None
