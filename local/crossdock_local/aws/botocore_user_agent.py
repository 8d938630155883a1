"""botocore's User-Agent header, built once per client and feature set instead of twice per request.

botocore 1.43 builds every request's User-Agent from scratch, twice (`UserAgentString.to_string`: once when the
request is made, once more before it is sent, to add the features the call used): a dozen components, each
sanitised character by character — about a twentieth of a chaos run's time, in every AWS call the functions
make. The string depends only on the builder's fields (platform, versions, session and client configuration,
execution environment) and on the feature ids: those of the client and those the call registered in botocore's
context. `to_string` is therefore kept per builder for each combination of these, and the builder's own method
makes the string the first time; a builder copied or changed afterwards (`with_client_config`,
`set_client_features`) has other fields, so another key. The header is the same byte for byte
(`tests/component/test_botocore_user_agent.py` compares it with botocore's own for the clients the stack makes);
it is not part of what SigV4 signs.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from contextlib import ExitStack
from typing import Any
from unittest import mock

from botocore.context import get_context
from botocore.useragent import UserAgentString

_STRINGS = "_crossdock_user_agent_strings"  # the builder's cache, in its own __dict__


def _key(builder: Any) -> Hashable:
    fields = tuple((name, value) for name, value in vars(builder).items() if name not in (_STRINGS, "_client_features"))
    context = get_context()
    features = frozenset(builder._client_features or ()) | frozenset(context.features if context else ())
    return fields, features


def remembered_to_string(original: Callable[[Any], str]) -> Callable[[Any], str]:
    def to_string(builder: Any) -> str:
        strings: dict[Hashable, str] = builder.__dict__.setdefault(_STRINGS, {})
        key = _key(builder)
        found = strings.get(key)
        if found is None:
            found = strings[key] = original(builder)
        return found

    return to_string


def build_user_agents_once(stack: ExitStack) -> None:
    original = UserAgentString.to_string
    stack.enter_context(mock.patch.object(UserAgentString, "to_string", remembered_to_string(original)))
