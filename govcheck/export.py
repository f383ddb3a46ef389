"""Findings out: JSONL (one object a line), CSV and XLSX with Chinese headers (DESIGN §4)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlalchemy.orm import Session

from checks import CHECKS
from govcheck.findings import SEVERITY_ZH, STATUS_ZH
from govcheck.history import FindingState, findings_at
from govcheck.store.schema import ScanRow

# Field → 中文 header; the order is the column order of CSV and XLSX.
COLUMNS = {
    "id": "编号", "scan_id": "巡检批次", "unit": "单位", "target_kind": "对象类型", "target": "网站/账号",
    "check": "检查项代码", "check_name": "检查项", "severity": "级别", "url": "页面地址", "subject": "问题对象",
    "evidence": "证据", "detail": "详情", "first_seen": "首次发现", "last_seen": "最近发现", "status": "状态",
    "reopened": "复现", "review": "复核结论", "reviewed_by": "复核人", "reviewed_at": "复核时间", "review_note": "复核意见",
}
REVIEW_ZH = {"ignore": "忽略（误报）", "confirm": "确认", "reopen": "重新打开"}


def scan_findings(session: Session, scan: ScanRow) -> list[dict[str, Any]]:
    """Findings a scan saw, plus those it found fixed, as they stood at that scan
    (`govcheck.history.findings_at`); as plain records."""
    return [finding_record(st, scan.id) for st in sorted(findings_at(session, scan), key=record_order)]


def record_order(state: FindingState) -> tuple:
    return (state.row.unit, state.row.target, state.row.check, state.row.id)


def finding_record(state: FindingState, scan_id: int) -> dict[str, Any]:
    row = state.row
    spec = CHECKS.get(row.check)
    detail = dict(state.detail)
    if state.reopened:
        detail["reopened"] = True
    last = state.last_review
    notes = [r.note for r in state.reviews if r.note]
    return {
        "id": row.id, "scan_id": scan_id, "unit": row.unit, "target_kind": row.target_kind, "target": row.target,
        "check": row.check, "check_name": spec.name if spec else row.check, "severity": state.severity,
        "url": state.url, "subject": state.subject, "evidence": state.evidence, "detail": detail,
        "first_seen": row.first_seen.isoformat(sep=" "), "last_seen": state.last_seen.isoformat(sep=" "),
        "status": state.status, "reopened": state.reopened,
        "review": last.action if last else None, "reviewed_by": last.by if last else None,
        "reviewed_at": last.at.isoformat(sep=" ", timespec="seconds") if last else None,
        "review_note": "；".join(notes) if notes else None,
        "confirmed_at": state.confirmed_at.isoformat(sep=" ", timespec="seconds") if state.confirmed_at else None,
    }


def to_jsonl(records: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def _cells(record: dict) -> list[Any]:
    out = []
    for key in COLUMNS:
        value = record.get(key)
        if key == "detail":
            value = json.dumps(value, ensure_ascii=False)
        elif key == "severity":
            value = SEVERITY_ZH.get(value, value)
        elif key == "status":
            value = STATUS_ZH.get(value, value)
        elif key == "reopened":
            value = "复现" if value else ""
        elif key == "review":
            value = REVIEW_ZH.get(value, value) if value else ""
        out.append(value)
    return out


def to_csv(records: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(COLUMNS.values())
    for r in records:
        writer.writerow(_cells(r))
    return buf.getvalue()


def write_xlsx(records: list[dict], path: str, extra: dict[str, str] | None = None) -> None:
    """The findings sheet; `extra` adds report columns (field → 中文 header) after the standard ones."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "问题清单"
    extra = extra or {}
    ws.append(list(COLUMNS.values()) + list(extra.values()))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in records:
        ws.append([_xlsx_safe(v) for v in _cells(r)] + [_xlsx_safe("是" if r.get(k) is True else "" if r.get(k) is False
                                                                    else r.get(k)) for k in extra])
    widths = {"unit": 22, "target": 30, "check_name": 14, "url": 50, "subject": 50, "evidence": 60, "detail": 40}
    for i, key in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = widths.get(key, 12)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    wb.save(path)


def _xlsx_safe(value: Any) -> Any:
    # openpyxl rejects control characters that real pages do contain.
    if isinstance(value, str):
        value = "".join(ch for ch in value if ch in "\t\n\r" or ord(ch) >= 32)
        return value[:32000]
    return value
