"""`govcheck score`: units from the registry, findings from a scan, manual scores from a file →
ranked totals per group and deduction records, as XLSX (one sheet per group in the
published layout) or CSV."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from govcheck.findings import FindingState
from govcheck.history import findings_at
from govcheck.registry import Registry
from govcheck.safe_output import neutralise_cell
from govcheck.store.engine import missing_sqlite_file, open_db, session_factory
from govcheck.store.queries import resolve_scan
from govcheck.store.schema import ScanRow
from scoring.model import (
    Deduction,
    Scheme,
    SchemeError,
    UnitScore,
    in_rank_order,
    load_manual,
    rank,
    score_unit,
)

KIND_ZH = {"per_occurrence": "按次扣分", "per_occurrence_over": "超次扣分", "percent": "按比例扣分", "veto": "单项否决",
           "bonus": "加减分", "manual": "人工评分"}


@dataclass
class Coverage:
    """What the scans say about each unit: its findings and the scans they come from."""

    findings: dict[str, list[FindingState]] = field(default_factory=dict)
    period: dict[str, str] = field(default_factory=dict)     # unit → the scans that covered it


def parse_period(text: str) -> tuple[dt.date, dt.date]:
    """`--period FROM..TO` (dates YYYY-MM-DD, both included)."""
    try:
        start, end = (dt.date.fromisoformat(x.strip()) for x in text.split(".."))
    except ValueError:
        raise SchemeError(f"--period {text!r}: expected FROM..TO with dates YYYY-MM-DD (2024-04-01..2024-06-30)") from None
    if end < start:
        raise SchemeError(f"--period {text!r}: ends before it starts")
    return start, end


def _label(scans: list[ScanRow]) -> str:
    if len(scans) == 1:
        return f"巡检批次{scans[0].id}（{scans[0].as_of.isoformat()}）"
    return (f"{scans[0].as_of.isoformat()}至{scans[-1].as_of.isoformat()}（巡检批次"
            + "、".join(str(s.id) for s in scans) + "）")


def covered_findings(db_url: str | None, units: list[str], scan_ref: str | None = None,
                     period: tuple[dt.date, dt.date] | None = None) -> Coverage:
    """Each unit's open findings (ignored and unconfirmed review-only ones left out) as they
    stood at the scans that covered it: by default the latest completed scan that covered the
    unit (a `scan --unit A` covers A only); `scan_ref` one scan; `period` every completed scan
    whose as-of day falls in it, a finding counted once by identity. A unit no chosen scan
    covered has no entry in `period` (未检查)."""
    explicit = scan_ref is not None or period is not None
    if missing_sqlite_file(db_url):
        if explicit:
            raise SchemeError(f"database {missing_sqlite_file(db_url)!r} does not exist (run `govcheck scan` first)")
        return Coverage()
    engine = open_db(db_url)
    cov = Coverage()
    with session_factory(engine)() as session:
        if period is not None:
            chosen = session.scalars(select(ScanRow).where(ScanRow.status == "done", ScanRow.as_of >= period[0],
                                                           ScanRow.as_of <= period[1]).order_by(ScanRow.id)).all()
            per_unit = {u: [s for s in chosen if u in (s.units or [])] for u in units}
        elif scan_ref is not None:
            scan = resolve_scan(session, scan_ref)
            if scan is None or scan.status != "done":
                raise SchemeError(f"--scan {scan_ref}: no such completed scan in {engine.url}")
            per_unit = {u: [scan] if u in (scan.units or []) else [] for u in units}
        else:
            done = session.scalars(select(ScanRow).where(ScanRow.status == "done").order_by(ScanRow.id.desc())).all()
            per_unit = {u: next(([s] for s in done if u in (s.units or [])), []) for u in units}
        states: dict[int, list] = {}
        for unit, scans in per_unit.items():
            if not scans:
                continue
            found: dict[int, FindingState] = {}
            for scan in scans:   # oldest first: a later state of the same finding replaces an earlier one
                if scan.id not in states:
                    states[scan.id] = findings_at(session, scan)
                for st in states[scan.id]:
                    if st.finding.unit == unit and st.status == "open" and st.reaches_units:
                        found[st.id] = st
            cov.findings[unit] = list(found.values())
            cov.period[unit] = _label(scans)
    return cov


def manual_warning(scheme: Scheme, manual_path: str | None) -> str | None:
    if scheme.needs_manual_input and not manual_path:
        return (f"警告：方案 {scheme.name} 需要人工评分（--manual FILE，模板见 --template），"
                "未提供，各单位总分显示为“未评”")
    return None


def score_registry(registry: Registry, scheme: Scheme, manual_path: str | None, db_url: str | None,
                   scan_ref: str | None, period: tuple[dt.date, dt.date] | None = None,
                   group_map: dict[str, str] | None = None) -> tuple[list[UnitScore], list[Deduction]]:
    mapping = dict(registry.group_map) | dict(group_map or {})
    return score_units([(u.name, u.group) for u in registry.units], registry.path, scheme, manual_path, db_url, scan_ref,
                       period, mapping)


def score_units(units: list[tuple[str, str | None]], source: str, scheme: Scheme, manual_path: str | None,
                db_url: str | None, scan_ref: str | None = None, period: tuple[dt.date, dt.date] | None = None,
                group_map: dict[str, str] | None = None) -> tuple[list[UnitScore], list[Deduction]]:
    """`units`: (name, group) pairs; `source` names where they came from, for errors;
    `group_map`: registry group → scheme group (镇街=部门)."""
    group_map = group_map or {}
    for target in group_map.values():
        if target not in scheme.groups:
            raise SchemeError(f"group map → {target!r}: not a group of scheme {scheme.name} ({', '.join(scheme.groups)})")
    units = [(name, group_map.get(group or "", group)) for name, group in units]
    for name, group in units:
        if (group or "") not in scheme.groups:
            raise SchemeError(f"{source}: unit {name!r}: group {group!r} is not a group of scheme "
                              f"{scheme.name} ({', '.join(scheme.groups)}); map it with --group-map {group}=GROUP "
                              "or group_map: in the registry")
    manual = load_manual(manual_path, scheme, dict(units)) if manual_path else {}
    cov = covered_findings(db_url, [n for n, _ in units], scan_ref, period) if scheme.automatic else Coverage()
    unrated = scheme.needs_manual_input and not manual_path
    scores, deductions = [], []
    for name, group in units:
        label = cov.period.get(name, "人工评分" if not scheme.automatic else "")
        s, d = score_unit(scheme, name, group, cov.findings.get(name, []), manual, label)
        s.period = label
        s.unchecked = scheme.automatic and name not in cov.period
        s.unrated = unrated and not s.unchecked
        scores.append(s)
        deductions.extend(d)
    rank(scores)
    return scores, deductions


def _header(scheme: Scheme, group: str) -> list[str]:
    cols = ["名称"]
    for c in scheme.categories:
        m = c.max_for(group)
        if group in c.not_applicable:
            continue
        cols.append(f"{c.name}（{m:g}）" if m is not None else c.name)
    return cols + ["总分", "排名", "备注"]


def _row(scheme: Scheme, s: UnitScore) -> list:
    row: list = [s.unit]
    for c in scheme.categories:
        if s.group in c.not_applicable:
            continue
        v = s.categories.get(c.name)
        row.append("——" if v is None else round(v, scheme.round))
    notes = [s.status] if s.status else []
    if s.unscored and not s.unrated:
        notes.append("待人工评分：" + "、".join(s.unscored[:5]) + ("…" if len(s.unscored) > 5 else ""))
    # A vetoed, unrated or unchecked unit never shows a plain number as its total.
    total = s.total if s.standing == 0 else s.total_text(scheme.round)
    return row + [total, s.rank_text if s.rank is None else s.rank, "；".join(notes)]


DEDUCTION_HEADER = ["单位", "方案", "类别", "指标", "方式", "扣分", "次数", "期间", "依据（问题编号）", "说明"]


def _deduction_row(d: Deduction) -> list:
    return [d.unit, d.scheme, d.category, d.indicator, KIND_ZH.get(d.kind, d.kind), d.points, d.occurrences, d.period,
            ",".join(str(i) for i in d.finding_ids) or "人工录入", d.note]


def write_scores(path: str, scheme: Scheme, scores: list[UnitScore], deductions: list[Deduction]) -> list[str]:
    """XLSX: one sheet per group + 扣分记录; CSV: the totals, and <stem>-扣分记录.csv beside it."""
    groups = [g for g in scheme.groups if any(s.group == g for s in scores)]
    if path.lower().endswith(".xlsx"):
        from openpyxl import Workbook
        from openpyxl.styles import Font

        wb = Workbook()
        wb.remove(wb.active)
        for g in groups:
            ws = wb.create_sheet(g[:31])
            ws.append(_cells(_header(scheme, g)))
            for s in in_rank_order(s for s in scores if s.group == g):
                ws.append(_cells(_row(scheme, s)))
            for cell in ws[1]:
                cell.font = Font(bold=True)
            ws.column_dimensions["A"].width = 30
        ws = wb.create_sheet("扣分记录")
        ws.append(_cells(DEDUCTION_HEADER))
        for d in deductions:
            ws.append(_cells(_deduction_row(d)))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        wb.save(path)
        return [path]
    written = [path, str(Path(path).with_name(Path(path).stem + "-扣分记录.csv"))]
    with open(written[0], "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        for g in groups:
            w.writerow(_cells(["分组", *_header(scheme, g)]))
            for s in in_rank_order(s for s in scores if s.group == g):
                w.writerow(_cells([g, *_row(scheme, s)]))
    with open(written[1], "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(_cells(DEDUCTION_HEADER))
        for d in deductions:
            w.writerow(_cells(_deduction_row(d)))
    return written


def write_template(path: str, scheme: Scheme, registry: Registry) -> int:
    """Every unit × manual indicator (and count-only indicator) of the scheme, ready to fill in."""
    rows = []
    for u in registry.units:
        for c in scheme.categories:
            if u.group in c.not_applicable:
                continue
            for ind in c.indicators:
                if u.group in ind.not_applicable:
                    continue
                if ind.kind == "manual":
                    rows.append([u.name, ind.name, "", "", "", f"{c.name}，满分{ind.points_for(u.group):g}"])
                elif not ind.checks and ind.kind != "veto":
                    rows.append([u.name, ind.name, "", "", "", f"{c.name}，{KIND_ZH[ind.kind]}：填写次数或分值"])
    header = ["单位", "项目", "得分", "次数", "满分", "说明"]
    if path.lower().endswith(".xlsx"):
        from openpyxl import Workbook

        wb = Workbook()
        wb.active.title = "人工评分"
        wb.active.append(_cells(header))
        for r in rows:
            wb.active.append(_cells(r))
        wb.save(path)
    else:
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh).writerows([_cells(r) for r in [header, *rows]])
    return len(rows)


def _cells(row: list) -> list:
    return [neutralise_cell(v) for v in row]
