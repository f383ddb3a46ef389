"""A loopback server for hostile sites: Host-header virtual hosts (as govcheck.demo.loopback)
plus behaviours no honest server has — endless bodies, slow-loris trickles, answers that
change from one request to the next — and generators of hostile pages, feeds and attachments.
"""

from __future__ import annotations

import io
import itertools
import threading
import time
import zipfile
from dataclasses import dataclass, field

from govcheck.demo.loopback import LoopbackSites, Route


@dataclass
class Hostile(Route):
    """A Route with a behaviour: `endless` (chunked body forever), `slowloris` (a byte a second),
    `cycle` (statuses taken in turn from `statuses`, e.g. every third answer a 429)."""

    behaviour: str = ""
    statuses: tuple[int, ...] = ()
    counter: itertools.count = field(default_factory=itertools.count)


class HostileSites(LoopbackSites):
    def __init__(self, hosts, **kw):
        super().__init__(hosts, **kw)
        self.stopping = threading.Event()

    def stop(self) -> None:
        self.stopping.set()
        super().stop()

    def _respond(self, h, route, head: bool) -> None:
        if not isinstance(route, Hostile) or not route.behaviour:
            return super()._respond(h, route, head)
        if route.behaviour == "cycle":
            status = route.statuses[next(route.counter) % len(route.statuses)]
            return super()._respond(h, Route(status, route.body, route.content_type, dict(route.headers)), head)
        h.send_response(200)
        h.send_header("Content-Type", route.content_type)
        if route.behaviour == "endless":
            h.send_header("Transfer-Encoding", "chunked")
            h.end_headers()
            chunk = ("<p>" + "无尽的页面" * 400 + "</p>").encode()
            frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
            while not self.stopping.is_set():
                h.wfile.write(frame)
        elif route.behaviour == "slowloris":
            body = route.payload()
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            for i in range(len(body)):
                if self.stopping.is_set():
                    return
                h.wfile.write(body[i:i + 1])
                h.wfile.flush()
                time.sleep(1.0)


def page(title: str, body: str = "") -> str:
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>{body}</body></html>"


def docx_bomb(mb: int = 120) -> bytes:
    """A small .docx whose document.xml inflates to `mb` megabytes."""
    para = "<w:p><w:r><w:t>填充内容填充内容</w:t></w:r></w:p>"
    xml = ('<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
           'wordprocessingml/2006/main"><w:body>' + para * (mb * 1024 * 1024 // len(para.encode())) +
           "</w:body></w:document>")
    return _zip({"[Content_Types].xml": "<Types/>", "word/document.xml": xml})


def xlsx_empty_rows(rows: int = 3_000_000) -> bytes:
    """A small .xlsx declaring millions of empty rows."""
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             'spreadsheetml/2006/main"><sheetData>' + "".join(f'<row r="{i}"/>' for i in range(1, rows + 1)) +
             "</sheetData></worksheet>")
    return _zip({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>", "xl/worksheets/sheet1.xml": sheet})


def _zip(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return buf.getvalue()
