"""Text of linked attachments (.docx, .xlsx, .pdf), for the personal-data check.

Government sites publish name lists, subsidy rosters and 公示 tables as attachments far more
often than as page text, and that is where ID numbers leak. Old binary .doc/.xls are not
read (no maintained pure-Python reader); they are counted in the scan as unread.
"""

from __future__ import annotations

import io
import logging

from govcheck.urls import extension_of

READABLE = (".docx", ".xlsx", ".pdf")
MAX_CHARS = 2_000_000
log = logging.getLogger("govcheck.attachments")


def attachment_text(url: str, body: bytes) -> str | None:
    """Plain text of an attachment, or None when it cannot be read (corrupt, encrypted)."""
    ext = extension_of(url)
    try:
        if ext == ".docx":
            return _docx(body)
        if ext == ".xlsx":
            return _xlsx(body)
        if ext == ".pdf":
            return _pdf(body)
    except Exception as exc:  # the readers raise many kinds for damaged files
        log.info("cannot read attachment %s: %s", url, exc)
    return None


def _docx(body: bytes) -> str:
    import docx

    document = docx.Document(io.BytesIO(body))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" ".join(cell.text for cell in row.cells))
    return "\n".join(parts)[:MAX_CHARS]


def _xlsx(body: bytes) -> str:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    parts, size = [], 0
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            line = " ".join(str(v) for v in row if v is not None)
            parts.append(line)
            size += len(line)
            if size > MAX_CHARS:
                return "\n".join(parts)
    return "\n".join(parts)


def _pdf(body: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(body))
    parts, size = [], 0
    for page in reader.pages:
        text = page.extract_text() or ""
        parts.append(text)
        size += len(text)
        if size > MAX_CHARS:
            break
    return "\n".join(parts)
