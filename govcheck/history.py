"""Finding status as of a scan, derived from what is stored and never rewritten (DESIGN §4).

`findings_at(session, scan)` answers "what was true at scan N" from four append-only records:
sightings (scan N saw the finding), fixes (scan N examined its target and no longer saw it),
finding versions (its evidence/detail/snapshot from a scan on) and reviews (the trail written by
`govcheck.review.record_review`). Later scans add rows and change none of these, so
`report --scan N` and `findings --scan N` print the same thing whenever they run.

Reviews count for scan N when they were made before the next completed scan of the finding's
unit started: staff review the morning after a night's scan and then publish that scan's
reports, and a decision taken after the next scan belongs to that one.

States: `open`, `fixed`, `ignored`; `reopened` (复现) marks an open finding that an earlier scan
had found fixed (the 书面整改 the seed notices warn about), or that a reviewer re-opened after a
scan called it fixed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govcheck.findings import REVIEW_ACTIONS, Finding, FindingState, Review
from govcheck.store.schema import FindingRow, FindingVersionRow, FixRow, ReviewRow, ScanRow, SightingRow
from govcheck.store.writer import chunks


def scan_seen_at(as_of: dt.date, started: dt.datetime) -> dt.datetime:
    """The time a scan's findings are dated: its as-of day at the scan's start time."""
    return dt.datetime.combine(as_of, started.timetz().replace(microsecond=0))


def derive_status(seen_now: bool, fixed_before: bool, fixing_scan_started: dt.datetime | None,
                  reviews: list[Review]) -> tuple[str, bool]:
    """(status, reopened) of a finding at a scan that saw it (`seen_now`) or found it fixed.

    `fixed_before`: an earlier scan had found it fixed. The latest review decides: ignore → ignored
    (whatever the scans say); reopen → withdraws an ignore (what the scans say), else open and
    re-opened when it comes after the scan that called it fixed; confirm → what the scans say (confirming never turns a fixed finding open)."""
    observed = "open" if seen_now else "fixed"
    reopened = seen_now and fixed_before
    decision = reviews[-1] if reviews else None
    if decision is None:
        return observed, reopened
    if decision.action == "ignore":
        return "ignored", False
    withdraws_ignore = len(reviews) > 1 and reviews[-2].action == "ignore"
    if (decision.action == "reopen" and not withdraws_ignore and observed == "fixed"
            and fixing_scan_started is not None and decision.at > fixing_scan_started):
        return "open", True
    return observed, reopened


def review_cutoffs(session: Session, scan: ScanRow) -> dict[str, dt.datetime]:
    """unit → start of the first completed scan after `scan` that covered it."""
    cutoffs: dict[str, dt.datetime] = {}
    later = session.scalars(select(ScanRow).where(ScanRow.status == "done", ScanRow.id > scan.id).order_by(ScanRow.id))
    for s in later:
        for unit in s.units or []:
            cutoffs.setdefault(unit, s.started_at)
    return cutoffs


def last_completed_as_of(session: Session, units: list[str]) -> tuple[dt.date, int, str] | None:
    """(as-of day, scan id, unit) of the latest-dated completed scan that covered one of `units`."""
    wanted = set(units)
    best = None
    for scan in session.scalars(select(ScanRow).where(ScanRow.status == "done")):
        for unit in wanted & set(scan.units or []):
            if best is None or scan.as_of > best[0]:
                best = (scan.as_of, scan.id, unit)
    return best


def reviews_of(session: Session, finding_ids: list[int]) -> dict[int, list[Review]]:
    out: dict[int, list[Review]] = defaultdict(list)
    for batch in chunks(finding_ids, 500):
        for r in session.scalars(select(ReviewRow).where(ReviewRow.finding_id.in_(batch))
                                 .order_by(ReviewRow.at, ReviewRow.id)):
            out[r.finding_id].append(Review(r.action, r.by, r.at, r.note))
    return out


def findings_at(session: Session, scan: ScanRow, finding_ids: list[int] | None = None) -> list[FindingState]:
    """The findings scan `scan` saw or found fixed, each as it stood at that scan.

    `finding_ids` limits the answer to those findings (the console's detail page)."""
    seen_q = select(SightingRow.finding_id).where(SightingRow.scan_id == scan.id)
    fixed_q = select(FixRow.finding_id).where(FixRow.scan_id == scan.id)
    seen = set(session.scalars(seen_q))
    fixed_now = set(session.scalars(fixed_q))
    ids = sorted(seen | fixed_now)
    if finding_ids is not None:
        ids = [i for i in ids if i in set(finding_ids)]
    if not ids:
        return []
    rows: dict[int, FindingRow] = {}
    fixed_before: set[int] = set()
    last_sighting: dict[int, int] = {}
    versions: dict[int, FindingVersionRow] = {}
    for batch in chunks(ids, 500):
        rows.update((r.id, r) for r in session.scalars(select(FindingRow).where(FindingRow.id.in_(batch))))
        fixed_before |= set(session.scalars(select(FixRow.finding_id).where(
            FixRow.finding_id.in_(batch), FixRow.scan_id < scan.id)))
        last_sighting.update(session.execute(
            select(SightingRow.finding_id, func.max(SightingRow.scan_id))
            .where(SightingRow.finding_id.in_(batch), SightingRow.scan_id <= scan.id)
            .group_by(SightingRow.finding_id)).all())
        for v in session.scalars(select(FindingVersionRow).where(
                FindingVersionRow.finding_id.in_(batch), FindingVersionRow.scan_id <= scan.id)
                .order_by(FindingVersionRow.scan_id, FindingVersionRow.id)):
            versions[v.finding_id] = v
    scans = {s.id: s for s in session.scalars(select(ScanRow).where(ScanRow.id.in_(set(last_sighting.values()))))}
    cutoffs = review_cutoffs(session, scan)
    trails = reviews_of(session, ids)
    states = []
    for fid in ids:
        row = rows[fid]
        cutoff = cutoffs.get(row.unit)
        trail = [r for r in trails.get(fid, []) if cutoff is None or r.at < cutoff]
        seen_now = fid in seen
        status, reopened = derive_status(seen_now, fid in fixed_before, None if seen_now else scan.started_at, trail)
        v = versions.get(fid)
        src = v if v is not None else row
        last_id = last_sighting.get(fid, row.first_scan_id)
        last_scan = scans.get(last_id)
        finding = Finding(row.check, src.url, src.subject, src.evidence, dict(src.detail or {}), src.severity,
                          row.unit, row.target_kind, row.target, src.snapshot_hash)
        states.append(FindingState(
            id=row.id, finding=finding, status=status, reopened=reopened, first_seen=row.first_seen,
            first_scan_id=row.first_scan_id,
            last_seen=scan_seen_at(last_scan.as_of, last_scan.started_at) if last_scan else row.last_seen,
            last_scan_id=last_id, reviews=trail))
    return states


__all__ = ["findings_at", "derive_status", "scan_seen_at", "reviews_of", "REVIEW_ACTIONS"]
