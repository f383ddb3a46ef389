"""Reviewing findings: `govcheck.review.record_review` is the one function that performs a review.

It is the only writer of `reviews` rows (the CLI's `govcheck review` and the web console both
call it). Every call adds one row per finding — who, when, action (ignore | confirm | reopen),
note — and never changes or deletes an earlier one, so the trail is the history of decisions;
the finding's current status on its row is updated in the same transaction.

- ignore: a false positive; the finding stays ignored (out of unit lists, counts and deductions)
  whatever later scans see, until a reviewer confirms or re-opens it.
- confirm: a real problem. Review-only findings (severity `review`) count from the confirmation
  date on; confirming an ignored finding withdraws the ignore, and never turns a fixed one open.
- reopen: withdraws an ignore; on a finding a scan called fixed, the reviewer says it is still
  there, so it is open again (复现) until the next scan of its target decides.
"""

from __future__ import annotations

import datetime as dt
import getpass
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from govcheck import clock
from govcheck.findings import REVIEW_ACTIONS
from govcheck.store.schema import FindingRow, ReviewRow


class ReviewError(ValueError):
    """Bad review input (unknown action or finding id): nothing was written."""


@dataclass
class ReviewOutcome:
    finding_id: int
    check: str
    subject: str | None
    unit: str
    action: str
    status: str      # the finding's current status after the review
    review_id: int


def default_reviewer() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (containers): still a trail, by an unnamed hand
        return "unknown"


def record_review(session: Session, finding_ids: list[int], action: str, note: str | None = None,
                  by: str | None = None, at: dt.datetime | None = None) -> list[ReviewOutcome]:
    """Record one review decision on each finding of `finding_ids`, in the caller's transaction.

    Raises ReviewError before writing anything when the action is unknown or an id does not exist."""
    if action not in REVIEW_ACTIONS:
        raise ReviewError(f"review action {action!r}: expected one of {', '.join(REVIEW_ACTIONS)}")
    ids = list(dict.fromkeys(int(i) for i in finding_ids))
    if not ids:
        raise ReviewError("review: give at least one finding id")
    rows = {r.id: r for r in session.scalars(select(FindingRow).where(FindingRow.id.in_(ids)))}
    missing = [i for i in ids if i not in rows]
    if missing:
        raise ReviewError(f"review: no finding with id {', '.join(map(str, missing))}")
    note = (note or "").strip() or None
    by = (by or "").strip() or default_reviewer()
    at = at or clock.now()
    outcomes = []
    for fid in ids:
        row = rows[fid]
        review = ReviewRow(finding_id=fid, action=action, by=by, at=at, note=note)
        session.add(review)
        if action == "ignore":
            row.status = "ignored"
        elif action == "reopen" and row.fixed_scan_id is not None and row.status != "ignored":
            row.status, row.fixed_scan_id = "open", None
        else:  # confirm, or reopen of an ignored / open finding: back to what the scans say
            row.status = "fixed" if row.fixed_scan_id is not None else "open"
        # The row keeps the latest decision for quick filtering; the trail keeps them all.
        row.review = {"ignore": "ignored", "confirm": "confirmed", "reopen": "reopened"}[action]
        row.reviewed_at = at
        if note:
            row.review_note = note
        session.flush()
        outcomes.append(ReviewOutcome(fid, row.check, row.subject, row.unit, action, row.status, review.id))
    return outcomes


def review_trail(session: Session, finding_id: int) -> list[ReviewRow]:
    """Every review of a finding, oldest first."""
    return list(session.scalars(select(ReviewRow).where(ReviewRow.finding_id == finding_id)
                                .order_by(ReviewRow.at, ReviewRow.id)))


__all__ = ["record_review", "review_trail", "ReviewError", "ReviewOutcome", "REVIEW_ACTIONS"]
