"""Each function reads its environment once into a typed model; the library never reads os.environ itself."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

from crossdock.environment import FunctionEnvironment, MisconfiguredFunction

CORE = Path(__file__).resolve().parents[2] / "layers" / "core" / "crossdock"
# Powertools' own variables (POWERTOOLS_*, LAMBDA_TASK_ROOT), read where and as Powertools itself reads them.
POWERTOOLS_MIRROR = CORE / "aws" / "observability.py"


@dataclass(frozen=True, kw_only=True)
class PollLike(FunctionEnvironment):
    inbound_queue_url: str
    poll_dead_letter_arn: str | None = None


def test_variables_are_read_typed_by_their_names() -> None:
    # GIVEN a function's variables as Lambda sets them
    environ = {
        "TABLE_NAME": "crossdock-table",
        "INBOUND_QUEUE_URL": "https://sqs/inbound",
        "RACKBEAT_CALLS_PER_MINUTE": "120",
        "RACKBEAT_TIMEOUT_SECONDS": "2.5",
        "UNRELATED": "ignored",
    }
    # WHEN they are read
    env = PollLike.read(environ)
    # THEN each field holds its variable, numbers as numbers, and what is unset keeps its default
    assert (env.table_name, env.inbound_queue_url) == ("crossdock-table", "https://sqs/inbound")
    assert (env.rackbeat_calls_per_minute, env.rackbeat_timeout_seconds) == (120.0, 2.5)
    assert (env.key_id, env.poll_dead_letter_arn, env.rackbeat_account_calls_per_minute) == (None, None, None)


def test_a_missing_variable_fails_the_cold_start_naming_it() -> None:
    with pytest.raises(MisconfiguredFunction, match="INBOUND_QUEUE_URL is missing"):
        PollLike.read({"TABLE_NAME": "t"})


def test_a_number_that_is_not_one_is_refused_naming_the_variable() -> None:
    with pytest.raises(MisconfiguredFunction, match=r"RACKBEAT_CALLS_PER_MINUTE is not a number: 'fast'"):
        PollLike.read({"TABLE_NAME": "t", "INBOUND_QUEUE_URL": "q", "RACKBEAT_CALLS_PER_MINUTE": "fast"})


def test_the_library_reads_no_environment_variable_of_its_own() -> None:
    # GIVEN every module of the library
    readers = []
    for module in sorted(CORE.rglob("*.py")):
        if module == POWERTOOLS_MIRROR:
            continue
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            # WHEN a module touches os.environ or os.getenv
            touches = isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv"}
            if touches and isinstance(node.value, ast.Name) and node.value.id == "os":
                readers.append(f"{module.relative_to(CORE)}:{node.lineno}")
    # THEN none does: the functions hand their environment over (crossdock.environment, services.configure)
    assert readers == []


@dataclass(frozen=True, kw_only=True)
class DispatchLike(FunctionEnvironment):
    outbound_queues: dict[str, str]


def test_a_map_of_queues_is_read_from_its_json_object() -> None:
    env = DispatchLike.read({"TABLE_NAME": "t", "OUTBOUND_QUEUES": '{"shopify": "https://sqs/shopify.fifo"}'})
    assert env.outbound_queues == {"shopify": "https://sqs/shopify.fifo"}
    with pytest.raises(MisconfiguredFunction, match="OUTBOUND_QUEUES is not a JSON object of text"):
        DispatchLike.read({"TABLE_NAME": "t", "OUTBOUND_QUEUES": '["https://sqs/shopify.fifo"]'})
