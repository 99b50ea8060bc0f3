"""Anomaly rules: which scan patterns raise an alert, with their thresholds.

Defaults apply until an association sets a brand's own rules. Thresholds count *shoppers*
(distinct client hashes), so one shopper scanning the same pack ten times is one shopper.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


class RuleKind(enum.StrEnum):
    REPEAT_SCANS = "repeat_scans"
    MANY_CLIENTS = "many_clients"
    AFTER_CONSUMED = "after_consumed"
    BLACKLISTED_HIT = "blacklisted_hit"
    INACTIVE_HIT = "inactive_hit"
    UNKNOWN_CODE = "unknown_code"
    #: not an alert: mark a pack consumed at its first genuine scan (reused packaging)
    CONSUME_ON_FIRST_SCAN = "consume_on_first_scan"


@dataclass(frozen=True)
class Rule:
    """One rule's settings. ``threshold`` and ``window_minutes`` mean, per kind:

    - repeat_scans: alert when more than ``threshold`` distinct shoppers scanned one pack;
    - many_clients: alert when ``threshold`` or more distinct shoppers scanned one pack within
      ``window_minutes``;
    - the others take no numbers.
    """

    kind: RuleKind
    is_enabled: bool
    threshold: int | None = None
    window_minutes: int | None = None


DEFAULT_RULES: Mapping[RuleKind, Rule] = MappingProxyType(
    {
        RuleKind.REPEAT_SCANS: Rule(RuleKind.REPEAT_SCANS, True, threshold=20),
        RuleKind.MANY_CLIENTS: Rule(RuleKind.MANY_CLIENTS, True, threshold=10, window_minutes=60),
        RuleKind.AFTER_CONSUMED: Rule(RuleKind.AFTER_CONSUMED, True),
        RuleKind.BLACKLISTED_HIT: Rule(RuleKind.BLACKLISTED_HIT, True),
        RuleKind.INACTIVE_HIT: Rule(RuleKind.INACTIVE_HIT, True),
        RuleKind.UNKNOWN_CODE: Rule(RuleKind.UNKNOWN_CODE, True),
        RuleKind.CONSUME_ON_FIRST_SCAN: Rule(RuleKind.CONSUME_ON_FIRST_SCAN, False),
    }
)
#: kinds that take a threshold (and, for many_clients, a window)
NUMERIC_KINDS = frozenset({RuleKind.REPEAT_SCANS, RuleKind.MANY_CLIENTS})


@dataclass(frozen=True)
class RuleSet:
    """The rules in force for one brand (defaults overlaid with the brand's own settings)."""

    rules: Mapping[RuleKind, Rule]

    def __getitem__(self, kind: RuleKind) -> Rule:
        return self.rules[kind]

    def enabled(self, kind: RuleKind) -> bool:
        return self.rules[kind].is_enabled

    @classmethod
    def with_overrides(cls, overrides: Mapping[RuleKind, Rule] | None = None) -> RuleSet:
        return cls(MappingProxyType({**DEFAULT_RULES, **(overrides or {})}))


DEFAULT_RULE_SET = RuleSet.with_overrides()
