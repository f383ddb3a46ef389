"""Evidence handed to units: the snapshot behind a finding, made safe and readable.

The database keeps every page and attachment exactly as fetched (the raw copy, for staff).
What a unit receives is built from it here, one file per finding:

- it opens with a banner: page URL, when it was fetched, the finding (check, object, evidence)
  and the rule it breaks;
- the evidence is highlighted in place (the matched word, the broken link's anchor, the
  masked number);
- personal data is masked everywhere in it (checks.privacy.mask_personal_data), so a snapshot of
  a page that leaked ID numbers does not leak them again;
- an attachment (.xlsx/.docx/.pdf) is never its zip bytes saved as .html: units get its text,
  masked, with its own file name and type named in the banner;
- a Content-Security-Policy first, so it loads and runs nothing.
"""

from __future__ import annotations

import html
import re
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from checks import CHECKS
from checks.privacy import mask_personal_data
from govcheck.attachments import attachment_text
from govcheck.page import decode_html
from govcheck.store.schema import AttachmentRow, PageRow, SnapshotRow

CSP = ('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
       'style-src \'unsafe-inline\'; img-src data:">')
BANNER_STYLE = ("all:initial;display:block;font:14px/1.6 sans-serif;background:#fff8e1;color:#222;"
                "border-bottom:3px solid #c0392b;padding:10px 14px;margin:0 0 8px 0")
MARK_STYLE = "background:#ffeb3b;color:#000;outline:2px solid #c0392b"


@dataclass
class EvidenceFile:
    name: str            # file name inside snapshots/
    body: bytes
    content_type: str


def file_name_of(url: str) -> str:
    name = PurePosixPath(unquote(urlsplit(url).path)).name
    return name or "index.html"


def _banner(record: dict, fetched_at: str | None, kind: str) -> str:
    spec = CHECKS.get(record["check"])
    rows = [("页面地址", record["url"]), ("抓取时间", fetched_at or "—"),
            ("问题", f"#{record['id']} {record.get('check_name') or record['check']}"
                    + (f"：{record['subject']}" if record.get("subject") else "")),
            ("证据", mask_personal_data(record.get("evidence") or "")),
            ("规则", spec.rule if spec else "")]
    if kind:
        rows.insert(1, ("文件", kind))
    cells = "".join(f"<div><b>{html.escape(k)}：</b>{html.escape(str(v))}</div>" for k, v in rows)
    return (f'<div id="govcheck-evidence" style="{BANNER_STYLE}"><div><b>govcheck 巡检证据快照</b>'
            f"（原始页面的存档副本，个人信息已遮盖；不执行脚本、不加载外部资源）</div>{cells}</div>")


def _family(record: dict) -> str | None:
    spec = CHECKS.get(record["check"])
    return spec.family if spec else None


def _needle(record: dict) -> str | None:
    """What to mark in the page: the matched text for word checks, the masked number for
    privacy findings; links are marked through their href (below)."""
    family = _family(record)
    if family == "words":
        return record.get("subject")
    if family == "privacy":
        samples = (record.get("detail") or {}).get("samples") or []
        return samples[0] if samples else None
    return None


def _mark_text(doc: str, needle: str) -> str:
    """Wrap the first occurrence of `needle` outside tags in <mark>."""
    out, pos = [], 0
    for m in re.finditer(r"<[^>]*>", doc):
        text = doc[pos:m.start()]
        if needle in text:
            i = text.index(needle)
            out.append(doc[:pos] + text[:i] + f'<mark id="govcheck-hit" style="{MARK_STYLE}">{needle}</mark>'
                       + text[i + len(needle):])
            return "".join(out) + doc[m.start():]
        pos = m.end()
    return doc


def _link_style(record: dict) -> str:
    if _family(record) != "links" or not record.get("subject"):
        return ""
    try:
        target = urlsplit(record["subject"])
    except ValueError:   # an invalid-URL finding (http://[::1/): nothing on the page to mark by URL
        return ""
    tail = target.path + (f"?{target.query}" if target.query else "")
    if not tail or tail == "/":
        return ""
    sel = html.escape(tail.replace("\\", "\\\\").replace('"', '\\"'), quote=False)
    return (f'<style>a[href$="{sel}"],img[src$="{sel}"],link[href$="{sel}"]'
            f"{{{MARK_STYLE};display:inline-block!important;visibility:visible!important}}</style>")


def _insert_after_head(doc: str, snippet: str) -> str:
    m = re.search(r"<body[^>]*>", doc, re.I)
    if m:
        return doc[:m.end()] + snippet + doc[m.end():]
    return snippet + doc


def unit_snapshot(session: Session, record: dict, content_hash: str) -> EvidenceFile | None:
    """The unit-facing evidence file of one finding, or None when the snapshot is gone."""
    row = session.get(SnapshotRow, content_hash)
    if row is None:
        return None
    raw = zlib.decompress(row.data)
    attachment = session.scalar(select(AttachmentRow).where(AttachmentRow.content_hash == content_hash).limit(1))
    page = session.scalar(select(PageRow).where(PageRow.content_hash == content_hash)
                          .order_by(PageRow.fetched_at.desc()).limit(1))
    fetched = page.fetched_at.strftime("%Y-%m-%d %H:%M:%S") if page and page.fetched_at else None
    if attachment is not None and page is None:
        name = file_name_of(attachment.url)
        kind = f"{name}（{attachment.content_type or '附件'}，{attachment.size} 字节；原件保存在巡检数据库，供监测人员查阅）"
        text = attachment_text(attachment.url, raw)
        body = (html.escape(mask_personal_data(text)) if text is not None
                else "（该附件无法读取为文字，原件保存在巡检数据库中）")
        needle = _needle(record)
        if needle:
            body = body.replace(html.escape(needle), f'<mark id="govcheck-hit" style="{MARK_STYLE}">{html.escape(needle)}</mark>', 1)
        doc = (f'{CSP}\n<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(name)}</title>'
               f"</head><body>{_banner(record, fetched, kind)}<pre style=\"white-space:pre-wrap;font:14px/1.6 monospace\">"
               f"{body}</pre></body></html>")
        return EvidenceFile(f"f{record['id']}-{_safe(name)}.html", doc.encode("utf-8"), "text/html; charset=utf-8")
    text, _encoding = decode_html(raw, page.content_type if page else None)
    text = mask_personal_data(text)
    needle = _needle(record)
    if needle:
        text = _mark_text(text, needle)
    text = re.sub(r"<meta[^>]+charset[^>]*>", "", text, flags=re.I)
    text = re.sub(r"<meta[^>]+http-equiv[^>]*>", "", text, flags=re.I)
    text = _insert_after_head(text, _banner(record, fetched, "") + _link_style(record))
    doc = f'{CSP}\n<meta charset="utf-8">\n{text}'
    return EvidenceFile(f"f{record['id']}.html", doc.encode("utf-8"), "text/html; charset=utf-8")


def _safe(name: str) -> str:
    return re.sub(r'[\\/:*?"<>|\s]+', "_", name)[:80]


__all__ = ["unit_snapshot", "EvidenceFile", "CSP"]
