"""What a check reports, and the key that gives a finding its identity across scans."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("veto", "deduct", "warn", "review")
SEVERITY_ZH = {"veto": "单项否决", "deduct": "扣分", "warn": "预警", "review": "待复核"}
STATUS_ZH = {"open": "未整改", "fixed": "已整改", "ignored": "已忽略"}


@dataclass
class Finding:
    """One problem, as a check function returns it (before unit/scan are attached)."""

    check: str
    url: str
    subject: str | None
    evidence: str
    detail: dict[str, Any] = field(default_factory=dict)
    severity: str | None = None  # None: the check's registered severity


def finding_key(target_kind: str, target: str, check: str, url: str, subject: str | None, key_on_url: bool) -> str:
    """DESIGN §4: the identity a finding keeps across scans.

    Link and footer findings hang on the target/item alone (their `url` is only the first
    page that carries them, which may change between scans); word and privacy findings hang
    on the page as well as the matched text; site-level findings on the target alone.
    """
    parts = [target_kind, target, check, url if key_on_url else "", subject or ""]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()[:40]
