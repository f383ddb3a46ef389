"""Merging a scan's findings into the findings table (DESIGN §4 identity and lifecycle).

A problem seen again stays open and its last_seen moves; one no longer seen on a target the
scan really covered becomes fixed; one a reviewer ignored stays ignored. Everything happens
in the caller's transaction, so an interrupted scan changes nothing.

A reviewer may act while a scan merges (`govcheck review`, the console): the merge locks the
finding rows it reads (SELECT … FOR UPDATE on PostgreSQL; SQLite has one writer at a time),
so it decides on the reviewer's committed status, never on a stale copy, and marks fixed only
rows still open when it writes. Merging one scan twice changes nothing the second time: its
sightings and fixes are inserted ON CONFLICT DO NOTHING.

The finding row holds the current state; what each scan saw is kept beside it, append-only
(a sighting per scan, a fix row when a scan found it fixed, a new version when its evidence
changed), so `govcheck.history` can tell the state as of any scan.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from checks import CHECKS
from govcheck.findings import Finding
from govcheck.store.schema import FindingRow, FindingVersionRow, FixRow, ScanRow, SightingRow
from govcheck.store.writer import chunks, insert_ignore


@dataclass
class MergeResult:
    new: int = 0
    seen_again: int = 0
    reopened: int = 0
    fixed: int = 0


def merge_findings(session: Session, scan: ScanRow, observed: list[Finding], covered: set[tuple[str, str, str]],
                   seen_at: dt.datetime) -> MergeResult:
    """`observed`: the scan's findings, placed on their unit and target (`Finding.placed`).
    `covered`: (target_kind, target, check) this scan actually examined; only those open
    findings can become fixed (a site whose homepage failed fixes none of its link findings)."""
    result = MergeResult()
    by_key: dict[str, Finding] = {}
    for f in observed:
        by_key.setdefault(f.key(CHECKS[f.check].key_on_url), f)
    existing: dict[str, FindingRow] = {}
    for batch in chunks(list(by_key), 500):
        # In id order, like every writer of findings, so two lockers cannot deadlock.
        for row in session.scalars(select(FindingRow).where(FindingRow.key.in_(batch))
                                   .order_by(FindingRow.id).with_for_update()):
            existing[row.key] = row
    latest_version: dict[int, str] = {}
    known_ids = [r.id for r in existing.values()]
    for batch in chunks(known_ids, 500):
        for fid, digest in session.execute(select(FindingVersionRow.finding_id, FindingVersionRow.digest)
                                           .where(FindingVersionRow.finding_id.in_(batch))
                                           .order_by(FindingVersionRow.scan_id, FindingVersionRow.id)):
            latest_version[fid] = digest
    rows: list[FindingRow] = []
    for key, f in by_key.items():
        spec = CHECKS[f.check]
        row = existing.get(key)
        if row is None:
            row = FindingRow(key=key, check=f.check, unit=f.unit, target_kind=f.target_kind, target=f.target,
                             first_seen=seen_at, first_scan_id=scan.id, status="open")
            session.add(row)
            result.new += 1
        elif row.fixed_scan_id is not None:
            # Seen again after a scan found it fixed: open once more (复现) — unless a reviewer
            # ruled it out (ignored stays ignored).
            row.status = "ignored" if row.status == "ignored" else "open"
            row.fixed_scan_id = None
            result.reopened += 1
        else:
            result.seen_again += 1
        row.severity = f.severity or spec.severity
        row.unit, row.url, row.subject, row.evidence = f.unit, f.url, f.subject, f.evidence
        row.detail, row.snapshot_hash = f.detail, f.snapshot_hash
        row.last_seen, row.last_scan_id = seen_at, scan.id
        rows.append(row)
    session.flush()
    if rows:
        insert_ignore(session, SightingRow, [{"scan_id": scan.id, "finding_id": r.id} for r in rows], ["scan_id", "finding_id"])
        versions = []
        for r in rows:
            content = {"severity": r.severity, "url": r.url, "subject": r.subject, "evidence": r.evidence,
                       "detail": r.detail or {}, "snapshot_hash": r.snapshot_hash}
            digest = hashlib.sha256(json.dumps(content, ensure_ascii=False, sort_keys=True, default=str)
                                    .encode()).hexdigest()
            if latest_version.get(r.id) != digest:
                versions.append(dict(content, finding_id=r.id, scan_id=scan.id, digest=digest))
        if versions:
            session.execute(FindingVersionRow.__table__.insert(), versions)
    # Findings of covered targets that this scan did not see again are fixed (an ignored one
    # too: the scans' view is kept apart from the reviewer's, who may withdraw the ignore).
    seen_keys = set(by_key)
    checks = {c for _k, _t, c in covered}
    candidates = session.scalars(select(FindingRow).where(FindingRow.fixed_scan_id.is_(None),
                                                          FindingRow.check.in_(checks)))
    fixed = [(row.id, row.status) for row in candidates
             if (row.target_kind, row.target, row.check) in covered and row.key not in seen_keys]
    fixed_ids = sorted(fid for fid, _ in fixed)
    open_ids = sorted(fid for fid, status in fixed if status == "open")
    # Conditional updates: a reviewer's decision committed since the read above wins (an
    # ignored finding is not turned fixed, a re-opened one keeps the reviewer's fixed_scan_id).
    for batch in chunks(fixed_ids, 500):
        session.execute(update(FindingRow).where(FindingRow.id.in_(batch), FindingRow.fixed_scan_id.is_(None))
                        .values(fixed_scan_id=scan.id))
    for batch in chunks(open_ids, 500):
        done = session.execute(update(FindingRow).where(FindingRow.id.in_(batch), FindingRow.status == "open")
                               .values(status="fixed"))
        result.fixed += done.rowcount
    insert_ignore(session, FixRow, [{"scan_id": scan.id, "finding_id": fid} for fid in fixed_ids], ["scan_id", "finding_id"])
    return result
