"""The check registry: every check code exists here once, with its 中文 name, severity and rule.

Modelled on ruff's rule registry: a family module registers its checks at import time with a
doc that states the rule; `checks.CHECKS` is the complete catalogue that reports, exports and
scoring read names and severities from.
"""

from __future__ import annotations

from dataclasses import dataclass

from govcheck.findings import SEVERITIES


@dataclass(frozen=True)
class CheckSpec:
    code: str
    name: str          # 中文 name as used in 问题清单 and 通报
    severity: str      # veto | deduct | warn | review
    rule: str          # the rule, stated so a unit can check it by hand
    source: str        # where the rule comes from
    key_on_url: bool   # whether the page URL is part of the finding's identity (DESIGN §4)
    family: str


CHECKS: dict[str, CheckSpec] = {}


def register(code: str, name: str, severity: str, rule: str, source: str, *, key_on_url: bool, family: str) -> CheckSpec:
    if code in CHECKS:
        raise ValueError(f"check {code!r} registered twice")
    if severity not in SEVERITIES:
        raise ValueError(f"check {code!r}: unknown severity {severity!r}")
    spec = CheckSpec(code, name, severity, rule, source, key_on_url, family)
    CHECKS[code] = spec
    return spec
