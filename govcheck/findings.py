"""The finding record, from a check's return value to merge, exports, reports and scoring.

One shape: `Finding`. A check returns it unplaced (no unit or target: checks are pure and
know only their input); the scan places it (`placed`) on the unit and target the input came
from before merging it. What the store says about a finding at some scan — its id, status,
review trail — is `FindingState`, which holds the `Finding` as it stood then rather than
repeating its fields. Labels for its fields (SEVERITY_ZH, STATUS_ZH …) live here, once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("veto", "deduct", "warn", "review")
SEVERITY_ZH = {"veto": "单项否决", "deduct": "扣分", "warn": "预警", "review": "待复核"}
# Most grave first: summaries, lists and the 问题清单 sort by it.
SEVERITY_ORDER = {s: i for i, s in enumerate(("veto", "warn", "deduct", "review"))}
GRAVE = ("veto", "warn")   # named one by one above any table (单项否决与临近单否)
STATUS_ZH = {"open": "未整改", "fixed": "已整改", "ignored": "已忽略"}
TARGET_KIND_ZH = {"site": "网站", "account": "政务新媒体"}
REVIEW_ZH = {"ignore": "忽略（误报）", "confirm": "确认", "reopen": "重新打开"}
REVIEW_ACTIONS = tuple(REVIEW_ZH)


@dataclass
class Finding:
    """One problem (DESIGN §4): what a check saw, and — once placed — whose it is."""

    check: str
    url: str
    subject: str | None
    evidence: str
    detail: dict[str, Any] = field(default_factory=dict)
    severity: str | None = None       # None: the check's registered severity
    unit: str | None = None           # set by `placed`
    target_kind: str | None = None    # site | account
    target: str | None = None         # site URL or account name
    snapshot_hash: str | None = None  # the stored page the evidence comes from

    def placed(self, unit: str, target_kind: str, target: str, snapshot_hash: str | None = None) -> Finding:
        return dataclasses.replace(self, unit=unit, target_kind=target_kind, target=target,
                                   snapshot_hash=snapshot_hash if snapshot_hash is not None else self.snapshot_hash)

    def key(self, key_on_url: bool) -> str:
        """DESIGN §4: the identity a finding keeps across scans (`key_on_url` from the catalogue).

        Link and footer findings hang on the target/item alone (their `url` is only the first
        page that carries them, which may change between scans); word and privacy findings hang
        on the page as well as the matched text; site-level findings on the target alone.
        """
        if self.target_kind is None or self.target is None:
            raise ValueError(f"{self.check} finding on {self.url}: not placed on a unit and target")
        parts = [self.target_kind, self.target, self.check, self.url if key_on_url else "", self.subject or ""]
        return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()[:40]


@dataclass
class Review:
    action: str                       # REVIEW_ACTIONS
    by: str
    at: dt.datetime
    note: str | None


@dataclass
class FindingState:
    """A stored finding as of one scan: the finding as it stood then, and its standing."""

    id: int
    finding: Finding                  # the version in force at that scan (severity resolved)
    status: str                       # open | fixed | ignored
    reopened: bool
    first_seen: dt.datetime
    first_scan_id: int
    last_seen: dt.datetime
    last_scan_id: int
    reviews: list[Review] = field(default_factory=list)   # the trail in force at this scan

    @property
    def confirmed_at(self) -> dt.datetime | None:
        """When a reviewer confirmed it (the latest confirmation not withdrawn by an ignore)."""
        at = None
        for r in self.reviews:
            if r.action == "confirm":
                at = r.at
            elif r.action == "ignore":
                at = None
        return at

    @property
    def reaches_units(self) -> bool:
        return reaches_units(self.status, self.finding.severity, self.confirmed_at is not None)

    @property
    def last_review(self) -> Review | None:
        return self.reviews[-1] if self.reviews else None


def reaches_units(status: str, severity: str | None, confirmed: bool) -> bool:
    """Whether units see (and scores count) a finding: not ruled out by a reviewer, and a
    review-only one (severity `review`: 401/403/429 links, external links, context typos…) only
    once a reviewer confirmed it."""
    return status != "ignored" and (severity != "review" or confirmed)
