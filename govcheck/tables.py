"""The one table importer: a sheet with a header row, as CSV or XLSX, whose headers may be
the English field names or the Chinese ones of assessment sheets (registries, manual scores).

Real sheets come from Excel on Chinese Windows: CSV in GBK/GB18030 as often as UTF-8 (with or
without a BOM), sometimes UTF-16; numbers typed into XLSX cells arrive as floats (a 网站标识码
1506020001 must not become "1506020001.0").
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class TableError(ValueError):
    """A sheet that cannot be read: names the file, the line and the column or field."""

    def __init__(self, path: str, line: int | None, where: str, message: str):
        self.path, self.line, self.where, self.message = path, line, where, message
        loc = f"{path}:{line}" if line else path
        super().__init__(f"{loc}: {where}: {message}" if where else f"{loc}: {message}")


@dataclass
class Table:
    path: str
    columns: dict[str, int]                          # field → column index
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)   # (line, field → text)


def decode_text(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")   # a superset of GBK/GB2312: Excel's "CSV" on Chinese Windows


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _raw_rows(path: str) -> list[list[str]]:
    if not os.path.isfile(path):
        raise TableError(path, None, "", "file not found")
    if Path(path).suffix.lower() in (".xlsx", ".xlsm"):
        import openpyxl

        try:
            ws = openpyxl.load_workbook(path, read_only=True, data_only=True).worksheets[0]
        except Exception as exc:  # openpyxl raises many kinds for a non-workbook
            raise TableError(path, None, "", f"not a readable XLSX workbook ({exc})") from None
        return [[cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
    try:
        text = decode_text(Path(path).read_bytes())
    except UnicodeDecodeError:
        raise TableError(path, None, "", "not UTF-8, UTF-16 or GBK text") from None
    return [[cell_text(v) for v in row] for row in csv.reader(text.splitlines())]


def read_table(path: str | os.PathLike, headers: dict[str, tuple[str, ...]], *, required: tuple[str, ...] = (),
               unknown: str = "error") -> Table:
    """Rows of a sheet as {field: text}. `headers`: field → accepted header texts; a header
    nobody declared is an error (`unknown="error"`) or left out (`"ignore"`)."""
    path = str(path)
    rows = _raw_rows(path)
    if not rows:
        raise TableError(path, None, "", "empty file")
    aliases = {a.strip().lower(): key for key, names in headers.items() for a in names}
    columns: dict[str, int] = {}
    for i, h in enumerate(rows[0]):
        key = aliases.get(h.strip().lower())
        if key is not None:
            columns.setdefault(key, i)
        elif h.strip() and unknown == "error":
            raise TableError(path, 1, f"column {h.strip()!r}", f"unknown column (allowed: {', '.join(headers)})")
    for need in required:
        if need not in columns:
            raise TableError(path, 1, "header", f"missing the {need} column ({' / '.join(headers[need])})")
    table = Table(path, columns)
    for lineno, row in enumerate(rows[1:], start=2):
        record = {key: (row[i] if i < len(row) else "") for key, i in columns.items()}
        if any(record.values()):
            table.rows.append((lineno, record))
    return table
