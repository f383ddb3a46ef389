"""The console's reviews go through `govcheck.review.record_review`, the one function that
performs a review (the CLI's `govcheck review` calls it too), so both write the same trail."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from govcheck.findings import REVIEW_ZH
from govcheck.review import record_review
from govcheck.store.schema import FindingRow, ReviewRow

ACTIONS = REVIEW_ZH   # the labels the 问题清单 use


def review(session: Session, finding_ids: list[int], action: str, note: str | None, by: str):
    return record_review(session, finding_ids, action, note=note, by=by)


def review_events(session: Session, finding_id: int | None = None, limit: int = 500) -> list[dict]:
    """Review trail rows as audit events, newest first."""
    q = (select(ReviewRow, FindingRow.unit).join(FindingRow, FindingRow.id == ReviewRow.finding_id)
         .order_by(ReviewRow.at.desc(), ReviewRow.id.desc()).limit(limit))
    if finding_id is not None:
        q = q.where(ReviewRow.finding_id == finding_id)
    return [{"at": r.at, "user": r.by, "action": "review", "review": r.action, "finding_id": r.finding_id, "unit": unit,
             "note": r.note, "client": None} for r, unit in session.execute(q)]
