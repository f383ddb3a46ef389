"""Findings out: JSONL (one object a line), CSV and XLSX with Chinese headers (DESIGN §4)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from checks import CHECKS
from checks.registry import DETAILS
from govcheck.findings import REVIEW_ZH, SEVERITY_ZH, STATUS_ZH, TARGET_KIND_ZH, FindingState
from govcheck.history import findings_at
from govcheck.safe_output import neutralise_cell, safe_href
from govcheck.store.schema import ScanRow

# Field → 中文 header; the order is the column order of CSV and XLSX.
COLUMNS = {
    "id": "编号", "scan_id": "巡检批次", "unit": "单位", "target_kind": "对象类型", "target": "网站/账号",
    "check": "检查项代码", "check_name": "检查项", "severity": "级别", "url": "页面地址", "subject": "问题对象",
    "evidence": "证据", "detail": "详情", "first_seen": "首次发现", "last_seen": "最近发现", "status": "状态",
    "reopened": "复现", "review": "复核结论", "reviewed_by": "复核人", "reviewed_at": "复核时间", "review_note": "复核意见",
}
def detail_text(detail: dict | None, limit: int = 2000) -> str:
    """A finding's detail as 中文 "字段：值" lines for people (JSON stays in JSONL/CSV)."""
    if not detail:
        return ""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "是" if v else "否"
        if isinstance(v, list):
            shown = "、".join(value(x) for x in v[:10])
            return shown + (f" 等 {len(v)} 项" if len(v) > 10 else "")
        if isinstance(v, dict):
            return "，".join(f"{DETAILS.get(k, k)} {value(x)}" for k, x in v.items())
        if isinstance(v, float):
            return f"{v:.1%}" if 0 < v < 1 else f"{v:g}"
        return "" if v is None else str(v)

    lines = [f"{DETAILS.get(k, k)}：{value(v)}" for k, v in detail.items() if v not in (None, "", [], {})]
    return "\n".join(lines)[:limit]


def scan_findings(session: Session, scan: ScanRow) -> list[dict[str, Any]]:
    """Findings a scan saw, plus those it found fixed, as they stood at that scan
    (`govcheck.history.findings_at`); as plain records."""
    return [finding_record(st, scan.id) for st in sorted(findings_at(session, scan), key=record_order)]


def record_order(state: FindingState) -> tuple:
    f = state.finding
    return (f.unit, f.target, f.check, state.id)


def finding_record(state: FindingState, scan_id: int) -> dict[str, Any]:
    """The finding as one exported object (DESIGN §4: JSONL, and CSV/XLSX by COLUMNS)."""
    f = state.finding
    spec = CHECKS.get(f.check)
    detail = dict(f.detail)
    if state.reopened:
        detail["reopened"] = True
    last = state.last_review
    notes = [r.note for r in state.reviews if r.note]
    return {
        "id": state.id, "scan_id": scan_id, "unit": f.unit, "target_kind": f.target_kind, "target": f.target,
        "check": f.check, "check_name": spec.name if spec else f.check, "severity": f.severity,
        "url": f.url, "subject": f.subject, "evidence": f.evidence, "detail": detail,
        "first_seen": state.first_seen.isoformat(sep=" "), "last_seen": state.last_seen.isoformat(sep=" "),
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
        elif key == "target_kind":
            value = TARGET_KIND_ZH.get(value, value)
        out.append(neutralise_cell(value))
    return out


def to_csv(records: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(COLUMNS.values())
    for r in records:
        writer.writerow(_cells(r))
    return buf.getvalue()


LINKED = ("url", "subject", "target")     # columns whose http(s) values become hyperlinks


def write_xlsx(records: list[dict], path: str, extra: dict[str, str] | None = None, screenshots: Path | None = None) -> None:
    """The findings sheet; `extra` adds report columns (field → 中文 header) after the standard ones.

    For people: 详情 as readable 中文 lines, values in Chinese, page and target URLs as
    hyperlinks, and a 快照 column linking the evidence file when records carry `snapshot`;
    `screenshots` (the report folder holding each record's `screenshot.file`) adds a 截图 column:
    a thumbnail in the cell, linked to the full picture beside the workbook."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "问题清单"
    extra = dict(extra or {})
    if any(r.get("snapshot") for r in records):
        extra.setdefault("snapshot", "快照")
    keys = list(COLUMNS) + list(extra)
    ws.append(list(COLUMNS.values()) + list(extra.values()) + (["截图"] if screenshots is not None else []))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    link_font = Font(color="0563C1", underline="single")
    for r in records:
        cells = _cells(r)
        cells[keys.index("detail")] = detail_text(r.get("detail"))
        row = [_xlsx_safe(v) for v in cells] + [
            _xlsx_safe("是" if r.get(k) is True else "" if r.get(k) is False else
                       ("查看快照" if k == "snapshot" and r.get(k) else r.get(k))) for k in extra]
        ws.append(row)
        for key in (*LINKED, "snapshot"):
            if key not in keys:
                continue
            target = r.get(key)
            if not isinstance(target, str) or not (safe_href(target) or key == "snapshot"):
                continue
            cell = ws.cell(row=ws.max_row, column=keys.index(key) + 1)
            cell.hyperlink, cell.font = target, link_font
        ws.cell(row=ws.max_row, column=keys.index("detail") + 1).alignment = Alignment(wrap_text=True, vertical="top")
    if screenshots is not None:
        _screenshot_column(ws, records, screenshots, len(keys) + 1)
    widths = {"unit": 22, "target": 30, "check_name": 14, "url": 50, "subject": 50, "evidence": 60, "detail": 50,
              "review_note": 30, "snapshot": 12}
    for i, key in enumerate(keys, start=1):
        ws.column_dimensions[get_column_letter(i)].width = widths.get(key, 12)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    wb.save(path)


THUMB_WIDTH = 240   # pixels


def _screenshot_column(ws, records: list[dict], folder: Path, column: int) -> None:
    from openpyxl.drawing.image import Image as SheetImage
    from openpyxl.utils import get_column_letter
    from PIL import Image

    letter = get_column_letter(column)
    ws.column_dimensions[letter].width = THUMB_WIDTH / 7
    for i, r in enumerate(records, start=2):
        shot = r.get("screenshot")
        if not shot or not (folder / shot["file"]).exists():
            continue
        cell = ws.cell(row=i, column=column, value="查看截图" + ("" if shot["outlined"] else "（未定位）"))
        cell.hyperlink = shot["file"]   # relative to the workbook: the reports folder
        with Image.open(folder / shot["file"]) as picture:
            thumb = picture.convert("RGB")
            thumb.thumbnail((THUMB_WIDTH, THUMB_WIDTH))
            buf = io.BytesIO()
            thumb.save(buf, format="PNG")
        image = SheetImage(buf)
        image.width, image.height = thumb.size
        ws.add_image(image, f"{letter}{i}")
        ws.row_dimensions[i].height = thumb.size[1] * 0.75 + 4   # points


def _xlsx_safe(value: Any) -> Any:
    return neutralise_cell(value)
