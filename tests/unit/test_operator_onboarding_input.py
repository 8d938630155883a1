"""What the onboarding commands read before they act: settings as JSON and `key=value` pairs, the progress bar, and
the ARNs a deployed stack's schedules need, built from CloudFormation's physical names."""

from __future__ import annotations

import json
import re

import pytest

from crossdock.operations.errors import OperatorError
from crossdock.operations.initial_sync import InitialSyncProgress
from crossdock.operations.settings_input import apply_assignments, changes, read_document
from crossdock.operations.target import onboarding_from_resources
from crossdock_local.operator_onboarding import progress_bar, progress_line

# What ListStackResources answers for a deployed stack (physical ids: names, URLs, ARNs as CloudFormation gives them).
RESOURCES = {
    "SecretsKey": "0b9f6f3e-1111-2222-3333-444455556666",
    "InitialSyncStateMachine": "arn:aws:states:eu-north-1:210987654321:stateMachine:InitialSyncStateMachine-Ab12",
    "PollScheduleGroup": "crossdock-prod-poll",
    "PollFunction": "crossdock-prod-poll",
    "PollScheduleRole": "crossdock-prod-PollScheduleRole-1XYZ",
    "PollDeadLetterQueue": "https://sqs.eu-north-1.amazonaws.com/210987654321/crossdock-prod-PollDeadLetterQueue-9QW",
}
CLIENTS = {"kms": object(), "stepfunctions": object(), "scheduler": object()}


def test_key_value_pairs_set_dotted_keys_as_json_or_text() -> None:
    # GIVEN settings in force WHEN pairs are applied THEN JSON values keep their type, others are text
    before = {"stock_sync": {"enabled": False}, "employees": {"web": 1}}
    after = apply_assignments(
        before,
        ["stock_sync.enabled=true", "employees.web=2", "shipping_product_number=FRAGT", 'pos.customer_number="0042"'],
    )
    assert after == {
        "stock_sync": {"enabled": True},
        "employees": {"web": 2},
        "shipping_product_number": "FRAGT",
        "pos": {"customer_number": "0042"},
    }
    assert before == {"stock_sync": {"enabled": False}, "employees": {"web": 1}}  # a copy was changed
    assert changes(before, after)[:2] == ["employees.web: 1 → 2", 'pos: null → {"customer_number": "0042"}']


def test_bad_pairs_and_documents_are_refused_naming_them() -> None:
    with pytest.raises(ValueError, match="give a setting as key=value"):
        apply_assignments({}, ["stock_sync.enabled"])
    with pytest.raises(ValueError, match=re.escape("stock_sync.enabled is a setting, not a group")):
        apply_assignments({"stock_sync": {"enabled": True}}, ["stock_sync.enabled.x=1"])
    with pytest.raises(ValueError, match=re.escape("settings.yml: not YAML")):
        read_document("a: [1", "settings.yml")
    with pytest.raises(ValueError, match="must be a YAML mapping, not list"):
        read_document("- 1", "settings.yml")
    with pytest.raises(ValueError, match="'web' is given twice"):
        read_document("employees:\n  web: 1\n  web: 2\n", "settings.yaml")
    with pytest.raises(ValueError, match="'web' is given twice"):
        read_document('{"employees": {"web": 1, "web": 2}}', "s.json")
    with pytest.raises(ValueError, match=re.escape("s.json: not JSON")):
        read_document("{", "s.json")
    with pytest.raises(ValueError, match="must be a JSON object, not list"):
        read_document(json.dumps([1]), "s.json")


def test_the_progress_bar_fills_with_the_share_done() -> None:
    importing = InitialSyncProgress("c", "importing", 300, 1000, 280, 15, 5, None, None, None)
    assert progress_bar(importing, width=10) == "[###.......]  30%  300/1000 importing"
    exporting = InitialSyncProgress("c", "exporting", 0, None, 0, 0, 0, None, None, None)
    assert progress_bar(exporting, width=10) == "[..........]    -  exporting"
    assert progress_line(importing) == (
        "initial sync importing: 300 of 1000 variants (280 created, 15 already in Rackbeat, 5 skipped)"
    )


def test_the_schedules_arns_come_from_the_stacks_physical_names() -> None:
    onboarding = onboarding_from_resources(RESOURCES, CLIENTS, "https://hub.example.com/", "stack crossdock-prod")
    target = onboarding.poll_target
    assert target.function_arn == "arn:aws:lambda:eu-north-1:210987654321:function:crossdock-prod-poll"
    assert target.role_arn == "arn:aws:iam::210987654321:role/crossdock-prod-PollScheduleRole-1XYZ"
    assert target.dead_letter_arn == "arn:aws:sqs:eu-north-1:210987654321:crossdock-prod-PollDeadLetterQueue-9QW"
    assert onboarding.key_id == RESOURCES["SecretsKey"] and onboarding.webhook_base_url == "https://hub.example.com"
    assert onboarding.api_bases == {}


def test_a_stack_without_the_onboarding_resources_is_refused_naming_them() -> None:
    partial = {k: v for k, v in RESOURCES.items() if k != "SecretsKey"}
    with pytest.raises(OperatorError, match=re.escape("has no SecretsKey: deploy the current template.yaml")):
        onboarding_from_resources(partial, CLIENTS, "https://hub.example.com", "stack old")


def test_a_yaml_document_reads_as_yaml_1_2_so_norway_stays_norway() -> None:
    """GIVEN a YAML settings file with country codes, yes/no-like words and a date WHEN read THEN `NO` is Norway's
    key (PyYAML's default YAML 1.1 would make it `false`), only true/false are booleans and the date stays text."""
    document = read_document(
        "advanced:\n  country_locations:\n    NO: L2\n    SE: L3\nstock_sync:\n  enabled: true\n"
        "note: off\nsince: 2026-01-01\n",
        "settings.yaml",
    )
    assert document == {
        "advanced": {"country_locations": {"NO": "L2", "SE": "L3"}},
        "stock_sync": {"enabled": True},
        "note": "off",
        "since": "2026-01-01",
    }
