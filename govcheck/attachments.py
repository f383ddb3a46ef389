"""Text of linked attachments (.docx, .xlsx, .pdf), for the personal-data check.

Government sites publish name lists, subsidy rosters and 公示 tables as attachments far more
often than as page text, and that is where ID numbers leak. Old binary .doc/.xls are not
read (no maintained pure-Python reader); they are counted in the scan as unread.

Attachments are hostile input: a 298 KB .docx inflating to gigabytes of XML, a 421 KB .xlsx
declaring 3 million empty rows. The readers therefore stream (zip members read through a
cap on decompressed bytes, XML by iterparse with elements freed as they are read, external
entities and DTD expansion off) and stop at limits on rows, cells and characters *while*
reading, plus a CPU-time limit per attachment. What was read before a limit is still
checked; the limit is logged.
"""

from __future__ import annotations

import io
import logging
import signal
import threading
import time
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass

from lxml import etree

from govcheck.urls import extension_of

READABLE = (".docx", ".xlsx", ".pdf")
log = logging.getLogger("govcheck.attachments")

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


@dataclass(frozen=True)
class Limits:
    max_unzipped_bytes: int = 64 * 1024 * 1024   # per attachment, all members read
    max_rows: int = 200_000
    max_cells: int = 2_000_000
    max_chars: int = 2_000_000
    cpu_seconds: float = 10.0


class LimitReached(Exception):
    pass


class _Budget:
    def __init__(self, limits: Limits):
        self.limits = limits
        self.unzipped = self.rows = self.cells = self.chars = 0
        self.cpu_end = time.process_time() + limits.cpu_seconds

    def tick(self) -> None:
        if time.process_time() > self.cpu_end:
            raise LimitReached(f"CPU time limit {self.limits.cpu_seconds:g} s")

    def add_chars(self, n: int) -> None:
        self.chars += n
        if self.chars > self.limits.max_chars:
            raise LimitReached(f"{self.limits.max_chars} characters")

    def add_row(self, cells: int) -> None:
        self.rows += 1
        self.cells += cells
        if self.rows > self.limits.max_rows:
            raise LimitReached(f"{self.limits.max_rows} rows")
        if self.cells > self.limits.max_cells:
            raise LimitReached(f"{self.limits.max_cells} cells")
        if self.rows % 1000 == 0:
            self.tick()


class _CappedMember(io.RawIOBase):
    """A zip member that stops at the attachment's budget of decompressed bytes."""

    def __init__(self, raw, budget: _Budget):
        self.raw, self.budget = raw, budget

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        data = self.raw.read(min(len(buf), 256 * 1024))
        self.budget.unzipped += len(data)
        if self.budget.unzipped > self.budget.limits.max_unzipped_bytes:
            raise LimitReached(f"{self.budget.limits.max_unzipped_bytes} decompressed bytes")
        self.budget.tick()
        buf[:len(data)] = data
        return len(data)


def _iterparse(zf: zipfile.ZipFile, name: str, budget: _Budget, tags):
    member = io.BufferedReader(_CappedMember(zf.open(name), budget), 256 * 1024)
    # No DTD, no entity expansion (billion laughs), no network; entity references that stay
    # unexpanded become nodes the text readers step around.
    return etree.iterparse(member, events=("end",), tag=tags, resolve_entities=False, load_dtd=False,
                           no_network=True, huge_tree=True, remove_comments=True, remove_pis=True)


def _text_around_entities(el) -> str:
    # <w:t>…&ent;…</w:t>: el.text stops at the first unexpanded entity; the rest is in tails.
    return (el.text or "") + "".join(child.tail or "" for child in el)


def _free(el) -> None:
    el.clear(keep_tail=True)
    parent = el.getparent()
    while parent is not None and el.getprevious() is not None:
        del parent[0]


def attachment_text(url: str, body: bytes, limits: Limits | None = None) -> str | None:
    """Plain text of an attachment, or None when it cannot be read (corrupt, encrypted)."""
    ext = extension_of(url)
    reader = {".docx": _docx, ".xlsx": _xlsx, ".pdf": _pdf}.get(ext)
    if reader is None:
        return None
    budget = _Budget(limits or Limits())
    parts: list[str] = []
    try:
        with _cpu_alarm(budget.limits.cpu_seconds):
            reader(body, budget, parts)
    except LimitReached as exc:
        log.info("attachment %s: stopped at %s; the text read so far is checked", url, exc)
    except Exception as exc:  # noqa: BLE001 — the readers raise many kinds for damaged files
        log.info("cannot read attachment %s: %s", url, exc)
        return None
    return "\n".join(parts)[:budget.limits.max_chars]


@contextmanager
def _cpu_alarm(seconds: float):
    """A hard stop for pure-Python readers (pypdf) that spend long inside one call: SIGPROF
    after `seconds` of CPU. Signals only work in the main thread; elsewhere the cooperative
    checks of _Budget still hold."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _expired(_signum, _frame):
        raise LimitReached(f"CPU time limit {seconds:g} s")

    old = signal.signal(signal.SIGPROF, _expired)
    signal.setitimer(signal.ITIMER_PROF, seconds + 0.5)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, old)


def _docx(body: bytes, budget: _Budget, parts: list[str]) -> None:
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        line: list[str] = []
        for _event, el in _iterparse(zf, "word/document.xml", budget, (f"{W}t", f"{W}p", f"{W}tab", f"{W}tc")):
            if el.tag == f"{W}t":
                text = _text_around_entities(el)
                budget.add_chars(len(text))
                line.append(text)
            elif el.tag in (f"{W}tab", f"{W}tc"):
                line.append(" ")
            else:  # end of a paragraph
                parts.append("".join(line))
                line = []
                budget.add_row(1)
                _free(el)
        if line:
            parts.append("".join(line))


def _xlsx(body: bytes, budget: _Budget, parts: list[str]) -> None:
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        names = set(zf.namelist())
        shared: list[str] = []
        if "xl/sharedStrings.xml" in names:
            for _event, si in _iterparse(zf, "xl/sharedStrings.xml", budget, f"{S}si"):
                text = "".join(_text_around_entities(t) for t in si.iter(f"{S}t"))
                budget.add_chars(len(text))
                shared.append(text)
                _free(si)
        sheets = sorted(n for n in names if n.startswith("xl/worksheets/sheet") and n.endswith(".xml"))
        for name in sheets:
            for _event, row in _iterparse(zf, name, budget, f"{S}row"):
                values = []
                cells = 0
                for c in row.iter(f"{S}c"):
                    cells += 1
                    kind = c.get("t")
                    if kind == "inlineStr":
                        value = "".join(_text_around_entities(t) for t in c.iter(f"{S}t"))
                    else:
                        v = c.find(f"{S}v")
                        value = v.text if v is not None and v.text else ""
                        if kind == "s" and value.isdigit() and int(value) < len(shared):
                            value = shared[int(value)]
                    if value:
                        values.append(value)
                budget.add_row(cells)
                if values:
                    line = " ".join(values)
                    budget.add_chars(len(line))
                    parts.append(line)
                _free(row)


def _pdf(body: bytes, budget: _Budget, parts: list[str]) -> None:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(body))
    for page in reader.pages:
        budget.tick()
        text = page.extract_text() or ""
        budget.add_chars(len(text))
        parts.append(text)
        budget.add_row(1)
