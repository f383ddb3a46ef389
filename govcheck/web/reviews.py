"""The console's reviews go through the one function that performs a review (the CLI's
`govcheck review` uses it too), so both write the same trail."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from govcheck.store.schema import FindingRow

ACTIONS = {"ignore": "忽略（误报）", "confirm": "确认", "reopen": "重新打开"}


def review(session: Session, finding_ids: list[int], action: str, note: str | None, by: str) -> list[FindingRow]:
    # PLACEHOLDER until #12's review trail lands: same effect as today's CLI review.
    from govcheck import clock

    rows = list(session.scalars(select(FindingRow).where(FindingRow.id.in_(finding_ids))))
    for row in rows:
        decision = {"ignore": "ignored", "confirm": "confirmed", "reopen": "confirmed"}[action]
        row.review, row.review_note, row.reviewed_at = decision, note, clock.now()
        if decision == "ignored":
            row.status = "ignored"
        elif row.status == "ignored":
            row.status = "open"
    return rows


def review_events(session: Session, finding_id: int | None = None, limit: int = 500) -> list[dict]:
    q = select(FindingRow).where(FindingRow.reviewed_at.is_not(None)).order_by(FindingRow.reviewed_at.desc()).limit(limit)
    if finding_id is not None:
        q = q.where(FindingRow.id == finding_id)
    return [{"at": r.reviewed_at, "user": "", "action": "review", "review": r.review, "finding_id": r.id, "unit": r.unit,
             "note": r.review_note, "client": None} for r in session.scalars(q)]
