"""`govcheck score`: units from the registry, findings from a scan, manual scores from a file →
ranked totals per group and deduction records, as XLSX (one sheet per group in the
published layout) or CSV."""

from __future__ import annotations

import csv
from pathlib import Path

from govcheck.history import findings_at
from govcheck.registry import Registry
from govcheck.store.engine import missing_sqlite_file, open_db, session_factory
from govcheck.store.queries import resolve_scan
from govcheck.store.schema import ScanRow
from scoring.model import (
    Deduction,
    FindingRef,
    Scheme,
    SchemeError,
    UnitScore,
    load_manual,
    rank,
    score_unit,
)

KIND_ZH = {"per_occurrence": "按次扣分", "per_occurrence_over": "超次扣分", "percent": "按比例扣分", "veto": "单项否决",
           "bonus": "加减分", "manual": "人工评分"}


def scan_findings(db_url: str | None, scan_ref: str | None) -> tuple[dict[str, list[FindingRef]], str]:
    """unit → open findings of the scan as they stood then (ignored and unconfirmed review-only
    ones left out); and the period they cover."""
    if missing_sqlite_file(db_url):
        if scan_ref not in (None, "latest"):
            raise SchemeError(f"--scan {scan_ref}: database {missing_sqlite_file(db_url)!r} does not exist")
        return {}, "人工评分"
    engine = open_db(db_url)
    with session_factory(engine)() as session:
        scan: ScanRow | None = resolve_scan(session, scan_ref)
        if scan is None:
            if scan_ref not in (None, "latest"):
                raise SchemeError(f"--scan {scan_ref}: no such scan in {engine.url}")
            return {}, "人工评分"
        by_unit: dict[str, list[FindingRef]] = {}
        for st in findings_at(session, scan):
            if st.status == "open" and st.reaches_units:
                by_unit.setdefault(st.row.unit, []).append(
                    FindingRef(st.row.id, st.row.check, st.severity, st.row.target_kind, st.detail))
        return by_unit, f"巡检批次{scan.id}（{scan.as_of.isoformat()}）"


def score_registry(registry: Registry, scheme: Scheme, manual_path: str | None, db_url: str | None,
                   scan_ref: str | None) -> tuple[list[UnitScore], list[Deduction]]:
    return score_units([(u.name, u.group) for u in registry.units], registry.path, scheme, manual_path, db_url, scan_ref)


def score_units(units: list[tuple[str, str | None]], source: str, scheme: Scheme, manual_path: str | None,
                db_url: str | None, scan_ref: str | None) -> tuple[list[UnitScore], list[Deduction]]:
    """`units`: (name, group) pairs; `source` names where they came from, for errors."""
    for name, group in units:
        if (group or "") not in scheme.groups:
            raise SchemeError(f"{source}: unit {name!r}: group {group!r} is not a group of scheme "
                              f"{scheme.name} ({', '.join(scheme.groups)})")
    manual = load_manual(manual_path, scheme, {n for n, _ in units}) if manual_path else {}
    findings, period = scan_findings(db_url, scan_ref)
    scores, deductions = [], []
    for name, group in units:
        s, d = score_unit(scheme, name, group, findings.get(name, []), manual, period)
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
    if s.unscored:
        notes.append("待人工评分：" + "、".join(s.unscored[:5]) + ("…" if len(s.unscored) > 5 else ""))
    return row + [s.total, s.rank, "；".join(notes)]


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
            ws.append(_header(scheme, g))
            for s in sorted((s for s in scores if s.group == g), key=lambda s: s.rank):
                ws.append(_row(scheme, s))
            for cell in ws[1]:
                cell.font = Font(bold=True)
            ws.column_dimensions["A"].width = 30
        ws = wb.create_sheet("扣分记录")
        ws.append(DEDUCTION_HEADER)
        for d in deductions:
            ws.append(_deduction_row(d))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        wb.save(path)
        return [path]
    written = [path, str(Path(path).with_name(Path(path).stem + "-扣分记录.csv"))]
    with open(written[0], "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        for g in groups:
            w.writerow(["分组", *_header(scheme, g)])
            for s in sorted((s for s in scores if s.group == g), key=lambda s: s.rank):
                w.writerow([g, *_row(scheme, s)])
    with open(written[1], "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(DEDUCTION_HEADER)
        for d in deductions:
            w.writerow(_deduction_row(d))
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
        wb.active.append(header)
        for r in rows:
            wb.active.append(r)
        wb.save(path)
    else:
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh).writerows([header, *rows])
    return len(rows)
