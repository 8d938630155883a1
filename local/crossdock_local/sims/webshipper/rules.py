"""The parts of Webshipper the fact sheet leaves open, as switches: each default is the sheet's guess.

A test or the chaos run changes them in Python (`sim.rules.token_ttl_seconds = 60`) or over HTTP
(`PUT /_control/rules`, validated by `RulesUpdate`: an unknown rule or a value out of range is refused with 400
naming it, and nothing changes). The client is written to tolerate every alternative a switch offers.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from pydantic import BaseModel, ConfigDict, Field, StrictBool

HOUR = 3600.0
PAGE_SIZE = 30  # doc W1: fixed, no page-size parameter; not a rule


@dataclass
class WebshipperRules:
    # Guess: a password-grant token lives 2 h of the simulator's clock; stored API tokens never expire.
    token_ttl_seconds: float = 2 * HOUR
    # Guess: 2 requests a second sustained, a burst of 40, per account; 429 with `Retry-After`.
    requests_per_second: float = 2.0
    burst: int = 40
    # Guess: list answers carry `links.next` while more pages exist (the spec shows no paging links); False leaves
    # the client to stop on a short or empty page.
    paging_links: bool = True
    # Seen W3: relationships hold only `links{self,related}`; True adds the `data` linkage as well (the other
    # reading of JSON:API a client may meet).
    relationship_data: bool = False
    # Doc W1: `ext_ref` is unique per order channel; False lets duplicates in (an account set up otherwise).
    unique_ext_ref: bool = True


class RulesUpdate(BaseModel):
    """What `PUT /_control/rules` may set; every field optional, unknown ones refused."""

    model_config = ConfigDict(extra="forbid")

    token_ttl_seconds: float | None = Field(default=None, gt=0)
    requests_per_second: float | None = Field(default=None, gt=0, le=10_000)
    burst: int | None = Field(default=None, ge=1, le=100_000)
    paging_links: StrictBool | None = None
    relationship_data: StrictBool | None = None
    unique_ext_ref: StrictBool | None = None


RULE_NAMES = tuple(f.name for f in fields(WebshipperRules))
