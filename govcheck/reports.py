"""`govcheck report -o DIR`: per-unit 问题清单 (XLSX + one self-contained HTML page), the scan
summary page for staff (counts, new/fixed, vetoes, inline SVG charts), and a 通报 draft
(Markdown + DOCX) in the style of the seed notices, with score tables when a scheme is given.

Every finding links to the stored snapshot of its page, written under snapshots/ with a
Content-Security-Policy that keeps it from loading anything: evidence opens offline.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from checks import CHECKS
from checks.registry import notice_sections
from govcheck.evidence import unit_snapshot
from govcheck.export import finding_record, record_order, write_xlsx
from govcheck.findings import GRAVE as GRAVE_SEVERITIES
from govcheck.findings import SEVERITY_ORDER, SEVERITY_ZH, STATUS_ZH, TARGET_KIND_ZH, reaches_units
from govcheck.history import findings_at
from govcheck.notice import Notice
from govcheck.safe_output import CSP_META, safe_href
from govcheck.store.queries import load_snapshot, screenshots_of
from govcheck.store.schema import ScanRow, UnitRow
from scoring.model import in_rank_order

TEMPLATES = Path(__file__).parent / "templates"
GRAVE = {s: SEVERITY_ORDER[s] for s in GRAVE_SEVERITIES}   # severity → order; the rest sort after
DEFAULT_DEADLINE = 15


@dataclass
class ReportData:
    scan: ScanRow
    previous: ScanRow | None
    records: list[dict]
    deadline: int
    units: dict[str, str | None] = field(default_factory=dict)   # unit → group
    trend: list[tuple[int, dt.date, int]] = field(default_factory=list)  # (scan id, as_of, problems seen)

    @property
    def current(self) -> list[dict]:
        return [r for r in self.records if r["status"] == "open"]

    @property
    def new(self) -> list[dict]:
        return [r for r in self.current if r["first_scan_id"] == self.scan.id]

    @property
    def fixed(self) -> list[dict]:
        return [r for r in self.records if r["status"] == "fixed"]

    @property
    def reopened(self) -> list[dict]:
        """Open again after a scan had found them fixed (复现)."""
        return [r for r in self.current if r["reopened"]]

    @property
    def published(self) -> list[dict]:
        """Open problems units are told about (no ignored, no unconfirmed review-only ones)."""
        return [r for r in self.current if r["for_units"]]


def overdue(first_seen: dt.datetime, as_of: dt.date, deadline: int) -> bool:
    """Open longer than the rectification deadline after first notice (seed rubrics deduct
    每检测到1次未按时整改)."""
    return (as_of - first_seen.date()).days > deadline


def counts_for_units(r: dict) -> bool:
    return reaches_units(r["status"], r["severity"], bool(r.get("confirmed_at")))


def gather(session: Session, scan: ScanRow, deadline: int = DEFAULT_DEADLINE, unit: str | None = None,
           trend_scans: int = 10) -> ReportData:
    states = sorted(findings_at(session, scan), key=record_order)
    records = [finding_record(st, scan.id) for st in states]
    shots = screenshots_of(session, [st.id for st in states], scan.id)
    for st, r in zip(states, records):
        r["first_scan_id"], r["snapshot_hash"] = st.first_scan_id, st.finding.snapshot_hash
        r["for_units"] = counts_for_units(r)
        # A review-only finding is notified when a reviewer confirms it: its deadline runs from then.
        notified = st.confirmed_at if r["severity"] == "review" else st.first_seen
        r["overdue"] = r["status"] == "open" and r["for_units"] and overdue(notified, scan.as_of, deadline)
        shot = shots.get(st.id)
        r["screenshot"] = ({"image_hash": shot.image_hash, "outlined": shot.outlined, "located": shot.located,
                            "taken_at": shot.taken_at.strftime("%Y-%m-%d %H:%M"), "file": f"snapshots/{shot.image_hash}.png"}
                           if shot is not None else None)
        spec = CHECKS.get(r["check"])
        r["rule"] = spec.rule if spec else ""
        r["correction"] = (r["detail"] or {}).get("correction")
    if unit:
        records = [r for r in records if r["unit"] == unit]
    previous = session.scalar(select(ScanRow).where(ScanRow.status == "done", ScanRow.id < scan.id)
                              .order_by(ScanRow.id.desc()).limit(1))
    units = {u.name: u.group for u in session.scalars(select(UnitRow).where(UnitRow.name.in_(scan.units or [])))}
    recent = session.scalars(select(ScanRow).where(ScanRow.status == "done", ScanRow.id <= scan.id)
                             .order_by(ScanRow.id.desc()).limit(trend_scans)).all()[::-1]
    trend = []
    for s in recent:
        past = records if s.id == scan.id else [finding_record(st, s.id) for st in findings_at(session, s)]
        trend.append((s.id, s.as_of, sum(1 for r in past if r["status"] == "open" and counts_for_units(r)
                                         and (not unit or r["unit"] == unit))))
    return ReportData(scan, previous, records, deadline, units, trend)


# --------------------------------------------------------------------------- rendering helpers

def highlight(evidence: str) -> Markup:
    """Evidence with the offending text (【…】 in the evidence) marked."""
    escaped = html.escape(evidence or "")
    return Markup(re.sub(r"【(.+?)】", r"<mark>\1</mark>", escaped))


def bar_chart(values: list[tuple[str, int]], width: int = 640) -> Markup:
    """Horizontal bars as inline SVG (no script, no network)."""
    if not values:
        return Markup("")
    top = max(v for _, v in values) or 1
    row, label_w = 24, 220
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{row * len(values) + 10}" role="img">']
    for i, (label, v) in enumerate(values):
        y = 5 + i * row
        w = (width - label_w - 60) * v / top
        parts.append(f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end" font-size="13">{html.escape(label)}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" fill="#c0392b"/>'
                     f'<text x="{label_w + w + 6:.1f}" y="{y + 16}" font-size="13">{v}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(points: list[tuple[str, int]], width: int = 640, height: int = 200) -> Markup:
    if not points:
        return Markup("")
    top = max(v for _, v in points) or 1
    pad, n = 40, len(points)
    step = (width - 2 * pad) / max(1, n - 1)
    xy = [(pad + i * step, height - pad - (height - 2 * pad) * v / top) for i, (_, v) in enumerate(points)]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">',
             f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#999"/>']
    if n > 1:
        parts.append('<polyline fill="none" stroke="#2c3e50" stroke-width="2" points="'
                     + " ".join(f"{x:.1f},{y:.1f}" for x, y in xy) + '"/>')
    for (x, y), (label, v) in zip(xy, points):
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#2c3e50"/>'
                     f'<text x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle" font-size="12">{v}</text>'
                     f'<text x="{x:.1f}" y="{height - pad + 16}" text-anchor="middle" font-size="11">{html.escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.filters["highlight"] = highlight
    env.filters["safe_href"] = safe_href
    env.globals["CSP_META"] = Markup(CSP_META)
    env.globals.update(CHECKS=CHECKS, STATUS_ZH=STATUS_ZH, SEVERITY_ZH=SEVERITY_ZH)
    return env


def _sort_key(r: dict) -> tuple:
    return (GRAVE.get(r["severity"], 2), r["target"], r["check"], r["url"] or "")


def _safe(name: str) -> str:
    return re.sub(r'[\\/:*?"<>|\s]+', "_", name)


def write_snapshots(session: Session, records: list[dict], out: Path) -> None:
    """One evidence file per finding under snapshots/ (govcheck.evidence): banner, evidence
    highlighted, personal data masked, attachments as their masked text; record["snapshot"] is
    its path relative to `out`."""
    folder = out / "snapshots"
    folder.mkdir(parents=True, exist_ok=True)
    for r in records:
        if not r.get("snapshot_hash") or not r.get("for_units"):
            continue
        evidence = unit_snapshot(session, r, r["snapshot_hash"])
        if evidence is None:
            continue
        (folder / evidence.name).write_bytes(evidence.body)
        r["snapshot"] = f"snapshots/{evidence.name}"
    thumbs: dict[str, str] = {}
    for r in records:
        shot = r.get("screenshot")
        if not shot or not r.get("for_units"):
            continue
        target = folder / f"{shot['image_hash']}.png"
        if not target.exists():
            png = load_snapshot(session, shot["image_hash"])
            if png is None:
                continue
            target.write_bytes(png)
        if shot["image_hash"] not in thumbs:
            thumbs[shot["image_hash"]] = _thumbnail_uri(target)
        # The page's CSP allows images only as data: URIs; the full picture is a link.
        shot["thumb"] = thumbs[shot["image_hash"]]


def _thumbnail_uri(path: Path, width: int = 240) -> str:
    import base64
    import io

    from PIL import Image

    with Image.open(path) as picture:
        thumb = picture.convert("RGB")
        thumb.thumbnail((width, width))
        buf = io.BytesIO()
        thumb.save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


# --------------------------------------------------------------------------- outputs

def write_unit_lists(data: ReportData, out: Path) -> list[Path]:
    env = _env()
    written = []
    by_unit: dict[str, list[dict]] = defaultdict(list)
    ignored: Counter = Counter()
    for r in data.records:
        if r["for_units"]:
            by_unit[r["unit"]].append(r)
        elif r["status"] == "ignored":   # a reviewer ruled it out: units never see it, only its count
            ignored[r["unit"]] += 1
    for unit in sorted(set(by_unit) | set(ignored)):
        records = by_unit.get(unit, [])
        records = sorted(records, key=_sort_key)
        sites: dict[str, list[dict]] = defaultdict(list)
        for r in records:
            sites[r["target"]].append(r)
        stem = out / f"问题清单-{_safe(unit)}"
        page = env.get_template("unit.html").render(unit=unit, group=data.units.get(unit), scan=data.scan, sites=sites,
                                                   grave=[r for r in records if r["severity"] in GRAVE and r["status"] == "open"],
                                                   counts=Counter(r["status"] for r in records) + Counter(ignored=ignored[unit]),
                                                   reopened=sum(1 for r in records if r["reopened"]),
                                                   deadline=data.deadline)
        stem.with_suffix(".html").write_text(page, encoding="utf-8")
        write_xlsx(records, str(stem.with_suffix(".xlsx")), extra={"overdue": "逾期未整改", "rule": "规则"},
                   screenshots=out)
        written += [stem.with_suffix(".html"), stem.with_suffix(".xlsx")]
    return written


def write_summary(data: ReportData, out: Path) -> Path:
    env = _env()
    current = data.current
    per_unit = Counter(r["unit"] for r in current)
    checks = sorted({r["check"] for r in current}, key=lambda c: (GRAVE.get(CHECKS[c].severity, 2), c))
    table = [(u, [sum(1 for r in current if r["unit"] == u and r["check"] == c) for c in checks], n)
             for u, n in per_unit.most_common()]
    page = env.get_template("summary.html").render(
        data=data, checks=checks, table=table, grave=sorted((r for r in current if r["severity"] in GRAVE), key=_sort_key),
        per_unit_chart=bar_chart(per_unit.most_common()),
        trend_chart=line_chart([(f"#{sid} {as_of:%m-%d}", n) for sid, as_of, n in data.trend]),
        overdue=sum(1 for r in current if r["overdue"]))
    path = out / "巡检概况.html"
    path.write_text(page, encoding="utf-8")
    return path


def build_notice(data: ReportData, scores: list | None = None, scheme=None, office: str = "政务公开领导小组办公室",
                 date: dt.date | None = None) -> Notice:
    """The 通报 draft as one document model (govcheck.notice), rendered to Markdown and DOCX.
    Dated by its scan's as-of day unless `date` is given (a notice about April is not dated on
    the day someone regenerates it). Counts only what units are told (govcheck.history)."""
    scan = data.scan
    current = data.published
    reopened = [r for r in current if r["reopened"]]
    sites = {r["target"] for r in data.records if r["target_kind"] == "site"}
    accounts = {r["target"] for r in data.records if r["target_kind"] == "account"}
    vetoes = [r for r in current if r["severity"] == "veto"]
    near = [r for r in current if r["severity"] == "warn"]
    notice = Notice()
    notice.add("title", f"关于{scan.as_of.year}年{scan.as_of.month}月政府网站和政务新媒体监测情况的通报（初稿）")
    notice.add("heading", "一、总体情况")
    notice.add("para", f"{scan.as_of.year}年{scan.as_of.month}月{scan.as_of.day}日，对{len(scan.units or [])}家单位的政府网站和"
                       f"政务新媒体进行了监测（巡检批次{scan.id}），"
                       f"共发现问题 {len(current)} 条，其中单项否决问题 {len(vetoes)} 条、临近单否预警 {len(near)} 条；"
                       f"较上次监测新增 {len(data.new)} 条，已整改 {len(data.fixed)} 条，"
                       f"整改后再次出现（复现）{len(reopened)} 条；"
                       f"超过{data.deadline}天仍未整改的问题 {sum(1 for r in current if r['overdue'])} 条。"
                       f"涉及网站 {len(sites)} 个、政务新媒体 {len(accounts)} 个。")
    notice.add("heading", "二、存在问题")
    numerals = "一二三四五六七八九十"
    n = 0
    for title, codes, kind in notice_sections():
        hits = [r for r in current if r["check"] in codes and r["target_kind"] == kind]
        if not hits:
            continue
        per_unit = Counter(r["unit"] for r in hits)
        listing = "、".join(f"{u}（{c} 条）" for u, c in per_unit.most_common())
        text = f"（{numerals[n]}）{title}。本次监测发现相关问题 {len(hits)} 条，涉及的单位有：{listing}。"
        veto_units = sorted({r["unit"] for r in hits if r["severity"] == "veto"})
        if veto_units:
            text += f"其中，{'、'.join(veto_units)}存在单项否决问题，请立即整改。"
        warn_units = sorted({r["unit"] for r in hits if r["severity"] == "warn"})
        if warn_units:   # near-vetoes: accounts nearly two weeks silent, homepages failing probes
            text += (f"{'、'.join(warn_units)}的{TARGET_KIND_ZH[kind]}临近单否，存在单项否决的风险，"
                     + ("请及时更新。" if kind == "account" else "请及时处理。"))
        notice.add("para", text)
        n += 1
    if reopened:
        per_unit = Counter(r["unit"] for r in reopened)
        listing = "、".join(f"{u}（{c} 条）" for u, c in per_unit.most_common())
        notice.add("para", f"（{numerals[n]}）问题整改后再次出现（复现）。本次监测发现复现问题 {len(reopened)} 条，"
                           f"涉及的单位有：{listing}。请相关单位说明情况，杜绝“书面整改”。")
        n += 1
    if n == 0:
        notice.add("para", "本次监测未发现问题。")
    notice.add("heading", "三、工作要求")
    notice.add("para", "一要压实主体责任。各单位要严格落实信息发布“编审发”制度，明确专职工作人员，做好政府网站和政务新媒体内容保障。")
    notice.add("para", f"二要抓好问题整改。各单位要对照问题清单逐条整改，于{data.deadline}日内完成并举一反三做好自查，"
                       "坚决避免“书面整改”，做到真查真改见真效。")
    notice.add("para", "三要加强日常监测。对临近单否的政务新媒体要及时更新，杜绝单项否决问题发生。")
    if scores and scheme is not None:
        notice.add("heading", "附件：评分情况")
        for group in scheme.groups:
            members = in_rank_order(s for s in scores if s.group == group)
            if not members:
                continue
            cats = [c for c in scheme.categories if group not in c.not_applicable]
            head = ["排名", "名称"] + [f"{c.name}（{c.max_for(group):g}）" if c.max_for(group) is not None else c.name
                                    for c in cats] + ["总分"]
            rows = [head]
            for s in members:
                cells = ["——" if s.categories.get(c.name) is None else f"{s.categories[c.name]:g}" for c in cats]
                rows.append([s.rank_text, s.unit, *cells, s.total_text(scheme.round)])
            notice.add("subheading", group)
            notice.add("table", rows=rows)
    when = date or scan.as_of
    notice.add("closing", office)
    notice.add("closing", f"{when.year}年{when.month}月{when.day}日")
    return notice


def notice_markdown(data: ReportData, scores: list | None = None, scheme=None, office: str = "政务公开领导小组办公室",
                    date: dt.date | None = None) -> str:
    return build_notice(data, scores, scheme, office, date).markdown()


def write_notice(notice: Notice, out: Path) -> list[Path]:
    md = out / "通报初稿.md"
    md.write_text(notice.markdown(), encoding="utf-8")
    docx_path = out / "通报初稿.docx"
    notice.docx(docx_path)
    return [md, docx_path]


def write_reports(session: Session, scan: ScanRow, out: Path, unit: str | None = None, deadline: int = DEFAULT_DEADLINE,
                  scores: list | None = None, scheme=None, notice_date: dt.date | None = None) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    data = gather(session, scan, deadline, unit)
    write_snapshots(session, data.records, out)
    written = write_unit_lists(data, out)
    written.append(write_summary(data, out))
    written += write_notice(build_notice(data, scores, scheme, date=notice_date), out)
    return written


__all__ = ["write_reports", "gather", "overdue"]
