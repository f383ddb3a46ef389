"""What the console reads, always through a Viewer: a `unit` user's every query is limited to
its own unit (and never shows what a reviewer ruled out), so a route cannot forget the scope."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from checks import CHECKS
from govcheck.findings import reaches_units
from govcheck.history import reviews_of
from govcheck.reports import GRAVE, ReportData, gather
from govcheck.store.queries import load_snapshot
from govcheck.store.schema import (
    AttachmentRow,
    AuditRow,
    FeedbackRow,
    FindingRow,
    FixRow,
    PageRow,
    ScanRow,
    SightingRow,
    SnapshotRow,
    UnitRow,
)

FAMILY_ZH = {"availability": "可用性", "freshness": "信息更新", "links": "链接", "words": "错敏词", "footer": "网站标识",
             "privacy": "隐私保护", "accounts": "政务新媒体", "security": "安全"}
FEEDBACK_ZH = {"pending": "已整改（待复查）", "failed": "整改未通过", "passed": "整改通过"}


@dataclass(frozen=True)
class Viewer:
    name: str
    role: str            # staff | assessor | unit
    unit: str | None = None

    @property
    def can_review(self) -> bool:
        return self.role == "staff"

    @property
    def can_feedback(self) -> bool:
        return self.role == "unit"

    @property
    def sees_all(self) -> bool:
        return self.role in ("staff", "assessor")

    def may_see(self, session: Session, row: FindingRow) -> bool:
        return self.sees_all or (row.unit == self.unit and reaches_unit(session, row))


def reaches_unit(session: Session, row: FindingRow) -> bool:
    """What the 问题清单 give units (govcheck.findings.reaches_units): not ruled out, and a
    review-only finding only once a reviewer confirmed it (an ignore withdraws a confirmation)."""
    confirmed = False
    for r in reviews_of(session, [row.id]).get(row.id, []):
        confirmed = True if r.action == "confirm" else False if r.action == "ignore" else confirmed
    return reaches_units(row.status, row.severity, confirmed)


def done_scans(session: Session, limit: int | None = None) -> list[ScanRow]:
    q = select(ScanRow).where(ScanRow.status == "done").order_by(ScanRow.id.desc())
    return list(session.scalars(q.limit(limit) if limit else q))


def pick_scan(session: Session, scan_id: str | int | None) -> ScanRow | None:
    if scan_id not in (None, "", "latest"):
        try:
            row = session.get(ScanRow, int(scan_id))
        except (TypeError, ValueError):
            return None
        return row if row is not None and row.status == "done" else None
    scans = done_scans(session, 1)
    return scans[0] if scans else None


def previous_scan(session: Session, scan: ScanRow) -> ScanRow | None:
    return session.scalar(select(ScanRow).where(ScanRow.status == "done", ScanRow.id < scan.id)
                          .order_by(ScanRow.id.desc()).limit(1))


def scan_data(session: Session, viewer: Viewer, scan: ScanRow, deadline: int) -> ReportData:
    """The report model of one scan (the same records the 问题清单 are written from), in scope."""
    data = gather(session, scan, deadline, None if viewer.sees_all else viewer.unit)
    if not viewer.sees_all:
        data.records = [r for r in data.records if r["for_units"]]
    attach_feedback(session, data.records)
    return data


# --------------------------------------------------------------------------- 问题列表

@dataclass
class Filters:
    unit: str = ""
    site: str = ""
    check: str = ""
    severity: str = ""
    status: str = ""
    overdue: str = ""          # "1": only overdue
    first_from: str = ""       # YYYY-MM-DD
    first_to: str = ""
    feedback: str = ""

    @classmethod
    def from_query(cls, params) -> Filters:
        return cls(**{k: (params.get(k) or "").strip() for k in cls.__dataclass_fields__})

    def apply(self, records: list[dict]) -> list[dict]:
        out = records
        if self.unit:
            out = [r for r in out if r["unit"] == self.unit]
        if self.site:
            out = [r for r in out if r["target"] == self.site]
        if self.check:
            out = [r for r in out if r["check"] == self.check]
        if self.severity:
            out = [r for r in out if r["severity"] == self.severity]
        if self.status:
            out = [r for r in out if r["status"] == self.status]
        if self.overdue == "1":
            out = [r for r in out if r.get("overdue")]
        if self.feedback:
            out = [r for r in out if (r.get("feedback") or {}).get("state") == self.feedback]
        lo, hi = _date(self.first_from), _date(self.first_to)
        if lo:
            out = [r for r in out if r["first_seen"][:10] >= lo.isoformat()]
        if hi:
            out = [r for r in out if r["first_seen"][:10] <= hi.isoformat()]
        return out

    def query(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def sort_records(records: list[dict]) -> list[dict]:
    return sorted(records, key=lambda r: (r["status"] != "open", GRAVE.get(r["severity"], 2), r["unit"], r["target"],
                                          r["check"], r["id"]))


# --------------------------------------------------------------------------- 整改反馈

def feedback_states(session: Session, finding_ids: list[int]) -> dict[int, dict]:
    """finding id → its latest feedback with the outcome the scans after it give."""
    if not finding_ids:
        return {}
    latest: dict[int, FeedbackRow] = {}
    for fb in session.scalars(select(FeedbackRow).where(FeedbackRow.finding_id.in_(finding_ids)).order_by(FeedbackRow.id)):
        latest[fb.finding_id] = fb
    if not latest:
        return {}
    findings = {f.id: f for f in session.scalars(select(FindingRow).where(FindingRow.id.in_(list(latest))))}
    floor = min((fb.after_scan_id or 0) for fb in latest.values())
    later = [s for s in done_scans(session) if s.id > floor][::-1]   # oldest first
    seen = set(session.execute(select(SightingRow.finding_id, SightingRow.scan_id).where(
        SightingRow.finding_id.in_(list(latest)), SightingRow.scan_id > floor)).all())
    fixed = set(session.execute(select(FixRow.finding_id, FixRow.scan_id).where(
        FixRow.finding_id.in_(list(latest)), FixRow.scan_id > floor)).all())
    out = {}
    for fid, fb in latest.items():
        f = findings[fid]
        state, judged_by = "pending", None
        for s in later:
            if s.id <= (fb.after_scan_id or 0) or f.unit not in (s.units or []):
                continue
            if (fid, s.id) in seen:
                state, judged_by = "failed", s.id
            elif (fid, s.id) in fixed:
                state, judged_by = "passed", s.id
            else:
                continue
            break
        out[fid] = {"state": state, "label": FEEDBACK_ZH[state], "note": fb.note, "by": fb.by, "at": fb.at,
                    "scan": judged_by}
    return out


def attach_feedback(session: Session, records: list[dict]) -> None:
    states = feedback_states(session, [r["id"] for r in records])
    for r in records:
        r["feedback"] = states.get(r["id"])


def add_feedback(session: Session, viewer: Viewer, finding_ids: list[int], note: str, client: str | None) -> list[int]:
    """A unit marks its open findings 已整改; returns the ids recorded. Not the unit's, or not
    open: LookupError (the console answers 404, as for anything out of scope)."""
    from govcheck.web.users import audit, now

    rows = list(session.scalars(select(FindingRow).where(FindingRow.id.in_(finding_ids))))
    if len(rows) != len(set(finding_ids)) or any(not viewer.may_see(session, r) or r.status != "open" for r in rows):
        raise LookupError("finding not found")
    latest = done_scans(session, 1)
    after = latest[0].id if latest else None
    for r in rows:
        session.add(FeedbackRow(finding_id=r.id, at=now(), by=viewer.name, note=note or None, after_scan_id=after))
        audit(session, viewer.name, "feedback", finding_id=r.id, unit=r.unit, note=note or None, client=client)
    return [r.id for r in rows]


# --------------------------------------------------------------------------- finding page

def finding_for(session: Session, viewer: Viewer, finding_id: int) -> FindingRow | None:
    row = session.get(FindingRow, finding_id)
    return row if row is not None and viewer.may_see(session, row) else None


def sightings(session: Session, row: FindingRow) -> list[dict]:
    """Scan by scan since it was first seen: 发现 / 未发现 (fixed) / 未巡检 (the scan skipped the unit)."""
    seen = set(session.scalars(select(SightingRow.scan_id).where(SightingRow.finding_id == row.id)))
    out = []
    for s in session.scalars(select(ScanRow).where(ScanRow.status == "done", ScanRow.id >= row.first_scan_id)
                             .order_by(ScanRow.id)):
        if s.id in seen:
            state = "发现"
        elif row.unit not in (s.units or []):
            state = "未巡检该单位"
        else:
            state = "未再发现"
        out.append({"scan": s, "state": state})
    return out


def snapshot_for(session: Session, row: FindingRow) -> tuple[bytes, str | None, str | None] | None:
    """(body, content type, encoding) of the page snapshot kept as the finding's evidence."""
    if not row.snapshot_hash:
        return None
    body = load_snapshot(session, row.snapshot_hash)
    if body is None:
        return None
    page = session.scalar(select(PageRow).where(PageRow.content_hash == row.snapshot_hash).order_by(PageRow.id.desc()).limit(1))
    if page is None:   # an attachment's body (xlsx, docx, pdf…)
        att = session.scalar(select(AttachmentRow).where(AttachmentRow.content_hash == row.snapshot_hash).limit(1))
        return body, (att.content_type if att and att.content_type else "application/octet-stream"), None
    return body, page.content_type, page.encoding


def has_snapshot(session: Session, row: FindingRow) -> bool:
    return bool(row.snapshot_hash) and session.get(SnapshotRow, row.snapshot_hash) is not None


def finding_audit(session: Session, finding_id: int) -> list[AuditRow]:
    return list(session.scalars(select(AuditRow).where(AuditRow.finding_id == finding_id).order_by(AuditRow.id)))


# --------------------------------------------------------------------------- 总览

@dataclass
class Overview:
    scan: ScanRow
    previous: ScanRow | None
    current: list[dict]
    grave: list[dict]
    new: list[dict]
    fixed: list[dict]
    reopened: list[dict]
    checks: list[str]
    table: list[tuple[str, list[int], int, int]]   # unit, counts per check, vetoes, total
    trend_units: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    trend_families: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    overdue: int = 0
    pending_feedback: int = 0


def overview(session: Session, viewer: Viewer, scan: ScanRow, deadline: int, trend_scans: int = 10) -> Overview:
    data = scan_data(session, viewer, scan, deadline)
    current = [r for r in data.records if r["status"] == "open"]
    previous = data.previous
    reopened = data.reopened
    new = [r for r in current if r["first_scan_id"] == scan.id]
    fixed = [r for r in data.records if r["status"] == "fixed"]
    grave = sorted((r for r in current if r["severity"] in GRAVE), key=lambda r: (GRAVE[r["severity"]], r["unit"], r["check"]))
    counts = Counter((r["unit"], r["check"]) for r in current)
    checks = sorted({r["check"] for r in current}, key=lambda c: (GRAVE.get(CHECKS[c].severity if c in CHECKS else "", 2), c))
    totals = Counter(r["unit"] for r in current)
    vetoes = Counter(r["unit"] for r in current if r["severity"] == "veto")
    table = [(u, [counts[(u, c)] for c in checks], vetoes[u], n)
             for u, n in sorted(totals.items(), key=lambda kv: (-vetoes[kv[0]], -kv[1], kv[0]))]
    ov = Overview(scan, previous, current, grave, new, fixed, reopened, checks, table,
                  overdue=sum(1 for r in current if r.get("overdue")),
                  pending_feedback=sum(1 for r in current if (r.get("feedback") or {}).get("state") == "pending"))
    ov.trend_units, ov.trend_families = trends(session, viewer, scan, trend_scans)
    return ov


def trends(session: Session, viewer: Viewer, scan: ScanRow, n: int) -> tuple[dict, dict]:
    """Problems seen per scan (ignored ones left out), per unit and per check family."""
    recent = list(session.scalars(select(ScanRow).where(ScanRow.status == "done", ScanRow.id <= scan.id)
                                  .order_by(ScanRow.id.desc()).limit(n)))[::-1]
    q = (select(SightingRow.scan_id, FindingRow.unit, FindingRow.check, func.count())
         .join(FindingRow, FindingRow.id == SightingRow.finding_id)
         .where(SightingRow.scan_id.in_([s.id for s in recent]), FindingRow.status != "ignored")
         .group_by(SightingRow.scan_id, FindingRow.unit, FindingRow.check))
    if not viewer.sees_all:
        q = q.where(FindingRow.unit == viewer.unit)
    per_unit: dict[str, Counter] = defaultdict(Counter)
    per_family: dict[str, Counter] = defaultdict(Counter)
    for scan_id, unit, check, count in session.execute(q):
        per_unit[unit][scan_id] += count
        spec = CHECKS.get(check)
        per_family[FAMILY_ZH.get(spec.family, spec.family) if spec else check][scan_id] += count
    label = {s.id: f"#{s.id} {s.as_of:%m-%d}" for s in recent}

    def series(groups):
        return {k: [(label[s.id], c[s.id]) for s in recent] for k, c in sorted(groups.items())}

    return series(per_unit), series(per_family)


# --------------------------------------------------------------------------- units, audit

def unit_names(session: Session, viewer: Viewer) -> list[str]:
    if not viewer.sees_all:
        return [viewer.unit] if viewer.unit else []
    return list(session.scalars(select(UnitRow.name).order_by(UnitRow.id)))


def unit_groups(session: Session, names: list[str]) -> list[tuple[str, str | None]]:
    rows = {u.name: u.group for u in session.scalars(select(UnitRow).where(UnitRow.name.in_(names)))}
    return [(n, rows.get(n)) for n in names if n in rows]


def audit_trail(session: Session, user: str = "", action: str = "", limit: int = 500) -> list[dict]:
    """Logins, feedback and user administration (console_audit) with every review (the
    `reviews` trail the CLI writes too), newest first."""
    from govcheck.web.reviews import review_events

    q = select(AuditRow).order_by(AuditRow.at.desc(), AuditRow.id.desc()).limit(limit)
    if user:
        q = q.where(AuditRow.user == user)
    if action and action != "review":
        q = q.where(AuditRow.action == action)
    events = [] if action == "review" else [
        {"at": a.at, "user": a.user, "action": a.action, "finding_id": a.finding_id, "unit": a.unit, "note": a.note,
         "client": a.client} for a in session.scalars(q)]
    if not action or action == "review":
        events += [e for e in review_events(session, limit=limit) if not user or e["user"] == user]
    events.sort(key=lambda e: e["at"], reverse=True)
    return events[:limit]
