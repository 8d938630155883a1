"""The embedded stack builds botocore's User-Agent once per builder and feature set (`aws/botocore_user_agent.py`);
every request must still carry the header botocore itself would have built for it, features included."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest import mock

import boto3
from botocore.config import Config
from botocore.useragent import UserAgentString

from crossdock_local.aws.botocore_user_agent import remembered_to_string
from crossdock_local.aws.embedded import EmbeddedAws

APP = Path(__file__).parent / "embedded_app" / "template.yaml"
BOTOCORES_OWN = UserAgentString.to_string  # read at import, before any stack patches it


def _compared(sent: list[tuple[str, str]]) -> Any:
    """The patched builder, noting each string it gives beside the one botocore builds at that moment."""
    patched = UserAgentString.to_string

    def to_string(builder: Any) -> str:
        given = patched(builder)
        sent.append((given, BOTOCORES_OWN(builder)))
        return given

    return mock.patch.object(UserAgentString, "to_string", to_string)


def test_every_request_carries_botocores_own_user_agent() -> None:
    """GIVEN the embedded stack, WHEN clients of several services make calls that register different features
    (plain calls, a paginator, a resource, a client with its own app id), THEN each request's User-Agent is the
    one botocore builds for it, and they are not all the same (the features do reach the header)."""
    sent: list[tuple[str, str]] = []
    with EmbeddedAws(template=APP) as aws:
        assert UserAgentString.to_string is not BOTOCORES_OWN  # the patch is in place
        sqs = boto3.client("sqs", region_name=aws.region)
        dynamodb = boto3.client("dynamodb", region_name=aws.region)
        app_id = Config(user_agent_appid="crossdock-test")  # type: ignore[call-arg]  # newer than the stubs
        tagged = boto3.client("sqs", region_name=aws.region, config=app_id)
        table = boto3.resource("dynamodb", region_name=aws.region).Table(aws.table_name("Table"))
        with _compared(sent):
            for _ in range(2):  # the second round is answered from what the first one kept
                sqs.list_queues()
                tagged.list_queues()
                dynamodb.list_tables()
                list(dynamodb.get_paginator("list_tables").paginate())
                table.put_item(Item={"pk": "UA", "sk": "-"})
                table.get_item(Key={"pk": "UA", "sk": "-"})
    assert len(sent) == 24  # twice per request: when it is made, and again before it is sent
    assert all(header == own for header, own in sent)
    assert len({header for header, _ in sent}) >= 3
    assert any("app/crossdock-test" in header for header, _ in sent)


def test_a_changed_builder_gets_its_own_string() -> None:
    """GIVEN a builder whose string was kept, WHEN its client features change or it is copied with another
    configuration, THEN the new string is botocore's for the changed builder, not the kept one."""
    builder = UserAgentString.from_environment()
    to_string = remembered_to_string(BOTOCORES_OWN)
    first = to_string(builder)
    builder.set_client_features({"Z"})
    with_feature = to_string(builder)
    copied = builder.with_client_config(Config(user_agent_appid="other-app"))  # type: ignore[call-arg]
    assert first == BOTOCORES_OWN(UserAgentString.from_environment())
    assert with_feature == BOTOCORES_OWN(builder) != first
    assert to_string(copied) == BOTOCORES_OWN(copied) != with_feature
    assert to_string(builder) == with_feature
