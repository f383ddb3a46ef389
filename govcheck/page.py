"""Decoding and parsing of fetched HTML: the text and links every check reads.

Real government pages come in GB2312/GBK/GB18030 as often as UTF-8, declared in headers, in
``<meta charset>`` or not at all, and sometimes declared wrongly. Text must decode correctly
before any check reads it, so decoding happens once, here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import unquote

import lxml.html
from lxml import etree
from selectolax.lexbor import LexborHTMLParser
from w3lib.encoding import html_to_unicode

from govcheck.urls import LinkResolver, extension_of, is_attachment, netloc_of, normalize_url

# --------------------------------------------------------------------------- decoding


def _guess_undeclared(body: bytes) -> str | None:
    # No declaration anywhere: UTF-8 if it decodes cleanly, else the GB family (GB18030 is a
    # superset of GB2312 and GBK, so one codec reads all three).
    for enc in ("utf-8", "gb18030"):
        try:
            body.decode(enc)
            return enc
        except UnicodeDecodeError:
            continue
    return None


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Bytes → (text, encoding used). Never raises; undecodable bytes become U+FFFD."""
    encoding, text = html_to_unicode(content_type, body, auto_detect_fun=_guess_undeclared)
    if "\ufffd" in text:
        # Declared wrongly (a common CMS-template quirk: meta says utf-8, bytes are GBK).
        for alt in ("utf-8", "gb18030"):
            try:
                return body.decode(alt), alt
            except UnicodeDecodeError:
                continue
    return text, encoding


# --------------------------------------------------------------------------- visibility

_HIDING_DECLS = [
    (re.compile(r"display\s*:\s*none", re.I), "display:none"),
    (re.compile(r"visibility\s*:\s*hidden", re.I), "visibility:hidden"),
    (re.compile(r"(?<![-\w])(width|height)\s*:\s*0(px|em|%)?\s*(;|$|!)", re.I), "zero size"),
    (re.compile(r"font-size\s*:\s*0(px|em|pt|%)?\s*(;|$|!)", re.I), "font-size:0"),
    (re.compile(r"opacity\s*:\s*0(\.0+)?\s*(;|$|!)", re.I), "opacity:0"),
    (re.compile(r"(left|top|right|text-indent|margin-left|margin-top)\s*:\s*-\d{3,}(px|em)?", re.I), "off-screen"),
    (re.compile(r"clip\s*:\s*rect\(\s*0[^)]*\)", re.I), "clipped"),
]


def style_hides(style: str | None) -> str | None:
    if not style:
        return None
    for pattern, reason in _HIDING_DECLS:
        if pattern.search(style):
            return reason
    return None


def _stylesheet_hidden_selectors(tree) -> dict[str, str]:
    """Simple `.class` / `#id` selectors that <style> blocks hide — the usual 暗链 trick
    (`<div class="xq"> …links… </div>` with `.xq{display:none}` in the head)."""
    hidden: dict[str, str] = {}
    for style in tree.iter("style"):
        css = re.sub(r"/\*.*?\*/", "", style.text or "", flags=re.S)
        for selectors, decls in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
            reason = style_hides(decls)
            if not reason:
                continue
            for sel in selectors.split(","):
                sel = sel.strip()
                m = re.fullmatch(r"(?:[a-z0-9]+)?([.#][-\w]+)", sel, re.I)
                if m:
                    hidden[m.group(1)] = f"{reason} ({sel})"
    return hidden


# --------------------------------------------------------------------------- links

@dataclass(frozen=True)
class LinkRef:
    url: str                 # normalised absolute target
    tag: str                 # a | img | script | css | iframe | frame | attachment | media
    text: str                # anchor text, alt or title
    hidden: str | None       # why the link is invisible, if it is
    pagination: bool = False
    invalid: str | None = None   # why the http(s) link is not a valid URL (a link_broken finding)

    @property
    def is_page_link(self) -> bool:
        """A link a visitor follows to another page (vs. an asset the page loads)."""
        return self.tag in ("a", "iframe", "frame")


_LINK_ATTRS = (
    ("a", "href", "a"), ("area", "href", "a"), ("img", "src", "img"), ("script", "src", "script"),
    ("link", "href", "css"), ("iframe", "src", "iframe"), ("frame", "src", "frame"),
    ("embed", "src", "media"), ("source", "src", "media"), ("video", "src", "media"),
    ("audio", "src", "media"), ("object", "data", "media"),
)
_LINK_XPATH = " | ".join(f"//{tag}[@{attr}]" for tag, attr, _ in _LINK_ATTRS)
_KIND = {tag: (attr, kind) for tag, attr, kind in _LINK_ATTRS}
# <link rel=…> values that name a host or a document relation, not a resource to load.
_SKIP_REL = {"dns-prefetch", "preconnect", "canonical", "alternate", "shortlink", "search", "pingback"}
_PAGER_TEXT = re.compile(r"^\s*(下一页|下页|尾页|末页|上一页|上页|>|>>|»)\s*$")
_PAGER_NUMBER = re.compile(r"^\s*\[?\d{1,4}\]?\s*$")
# A numbered pager link names its page in the URL (index_2.html, list_3.shtml, ?page=4).
_PAGER_URL = re.compile(r"_\d+\.s?html?$|[?&](page|pageno|pagenum|pageindex|curpage|p)=\d+", re.I)
# TRS WCM list pages write their pager with createPageHTML(pages, current, "index", "html").
_JS_REDIRECT = re.compile(r"location(\.href)?\s*=|location\.(replace|assign)\s*\(", re.I)
_TRS_PAGER = re.compile(r"createPageHTML\(\s*['\"]?(\d+)['\"]?\s*,\s*['\"]?(\d+)['\"]?\s*,\s*['\"]([\w-]+)['\"]\s*,\s*['\"](\w+)['\"]")


_FOOTER_FILE = re.compile(r"(^|[_.-])(foot|footer|bottom|btm|copyright|banquan|dibu|bq|tail|ft)[\w-]*\.(s?html?|js|jsp|php|aspx?|inc)$", re.I)
_FOOTER_MARK = re.compile(r"(^|[\s_-])(footer|foot|bottom|copyright|banquan|dibu|bq|ft)([\s_-]|\d|$)", re.I)
_SSI_INCLUDE = re.compile(r"\s*#include\s+(?:virtual|file)\s*=\s*[\"']([^\"']+)[\"']", re.I)
_SCRIPT_INCLUDE = re.compile(r"\.load\(\s*([\"'])([^\"']+\.(?:s?html?|jsp|php|aspx?))\1", re.I)
_JS_STRING = re.compile(r"'((?:[^'\\\n]|\\.)*)'|\"((?:[^\"\\\n]|\\.)*)\"")
_JS_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)")


def _in_footer(el) -> bool:
    el = el.getparent()
    while el is not None and isinstance(el.tag, str):
        if el.tag == "footer" or _FOOTER_MARK.search(f" {el.get('id') or ''} {el.get('class') or ''} "):
            return True
        el = el.getparent()
    return False


def _js_unescape(m: re.Match) -> str:
    code = m.group(1)
    if code[0] in "ux" and len(code) > 1:
        return chr(int(code[1:], 16))
    return {"n": "\n", "t": "\t", "r": ""}.get(code, code)


def script_written_html(js: str) -> str:
    """The markup a script writes: its string literals joined, JS escapes and unescape("%3C…")
    undone. Footer scripts build their HTML from literals (document.write('<div>…') or
    str += '…'), so the literals in order are what ends up on the page."""
    parts = [_JS_ESCAPE.sub(_js_unescape, a or b) for a, b in _JS_STRING.findall(js or "")]
    html = "".join(parts)
    return unquote(html) if "%3C" in html.upper() else html


def included_page(url: str, body: bytes, content_type: str | None = None) -> ParsedPage:
    """A fetched footer include as a page: HTML as it is, a script as the markup it writes."""
    text, _ = decode_html(body, content_type)
    is_script = extension_of(url) == ".js" or "javascript" in (content_type or "").lower()
    if is_script or (not re.search(r"<\w", text[:2000]) and "document.write" in text):
        text = script_written_html(text)
    return ParsedPage(url, text)


class ParsedPage:
    def __init__(self, url: str, html: str):
        self.url = url
        self.html = html
        self.tree = parse_html(html)

    @cached_property
    def base_url(self) -> str:
        base = self.tree.find(".//base[@href]")
        if base is not None:
            return normalize_url(base.get("href"), self.url) or self.url
        return self.url

    @cached_property
    def title(self) -> str:
        el = self.tree.find(".//title")
        return _squash(el.text_content()) if el is not None else ""

    def meta(self, name: str) -> str | None:
        for el in self.tree.iter("meta"):
            if (el.get("name") or el.get("property") or "").lower() == name.lower():
                value = (el.get("content") or "").strip()
                if value:
                    return value
        return None

    @cached_property
    def _hidden_selectors(self) -> dict[str, str]:
        return _stylesheet_hidden_selectors(self.tree)

    def hidden_reason(self, el, memo: dict | None = None) -> str | None:
        """Why an element is invisible: its own or an ancestor's inline style/attributes, or a
        hiding rule in the page's <style> for its class or id. `memo` (element → reason) keeps
        the answers for ancestors, which a page's links share."""
        sel = self._hidden_selectors
        walked = []
        reason = None
        while el is not None and isinstance(el.tag, str):
            if memo is not None and el in memo:
                reason = memo[el]
                break
            walked.append(el)
            reason = self._own_hidden(el, sel)
            if reason:
                break
            el = el.getparent()
        if memo is not None:
            for seen in walked:
                memo[seen] = reason
        return reason

    @staticmethod
    def _own_hidden(el, sel: dict[str, str]) -> str | None:
        reason = style_hides(el.get("style"))
        if reason:
            return reason
        if el.get("hidden") is not None:
            return "hidden attribute"
        if el.tag in ("a", "div", "span", "p", "li", "ul", "td", "section"):
            w, h = el.get("width"), el.get("height")
            if w in ("0", "0px") or h in ("0", "0px"):
                return "zero size"
        if sel:
            for cls in (el.get("class") or "").split():
                if "." + cls in sel:
                    return sel["." + cls]
            if el.get("id") and "#" + el.get("id") in sel:
                return sel["#" + el.get("id")]
        return None

    @cached_property
    def links(self) -> list[LinkRef]:
        return self.link_refs()

    def link_refs(self, max_targets: int | None = None) -> list[LinkRef]:
        """Every link of the page, or (max_targets) only those to its first N distinct
        targets: a hostile page carries 100,000 links, and normalising each costs CPU the
        crawl of every other site is waiting for. `link_elements` counts what the page had."""
        out: list[LinkRef] = []
        resolve = LinkResolver(self.base_url)
        hidden: dict = {}
        targets: set[str] = set()
        elements = self.tree.xpath(_LINK_XPATH)
        self.link_elements = len(elements)
        for el in elements:
            attr, kind = _KIND[el.tag]
            if el.tag == "link" and (el.get("rel") or "").lower().strip() in _SKIP_REL:
                continue
            url, invalid = resolve(el.get(attr))
            if url is None:
                continue
            if max_targets is not None and url not in targets:
                if len(targets) >= max_targets:
                    self.links_truncated = True
                    break
                targets.add(url)
            if invalid:
                out.append(LinkRef(url, kind, _squash(el.text_content() if kind == "a" else "")[:200],
                                   self.hidden_reason(el, hidden), invalid=invalid))
                continue
            text = _squash(el.text_content() if kind == "a" else (el.get("alt") or el.get("title") or ""))
            if kind == "a" and is_attachment(url):
                kind = "attachment"
            pagination = kind == "a" and _same_dir(url, self.url) and (
                bool(_PAGER_TEXT.match(text)) or bool(_PAGER_NUMBER.match(text) and _PAGER_URL.search(url)))
            out.append(LinkRef(url, kind, text[:200], self.hidden_reason(el, hidden), pagination))
        out.extend(self._trs_pager_links())
        return out

    links_truncated = False
    link_elements = 0

    def _trs_pager_links(self) -> list[LinkRef]:
        found = []
        for script in self.tree.iter("script"):
            m = _TRS_PAGER.search(script.text or "")
            if m:
                pages, _current, stem, ext = int(m.group(1)), m.group(2), m.group(3), m.group(4)
                for i in range(1, min(pages, 200)):
                    url = normalize_url(f"{stem}_{i}.{ext}", self.url)
                    if url:
                        found.append(LinkRef(url, "a", str(i + 1), None, True))
        return found

    @cached_property
    def footer_includes(self) -> list[str]:
        """Same-site documents this page pulls its footer from: an <iframe>/<frame> or a
        <script src> (document.write) named or placed as a footer, an SSI directive the server
        left unexpanded, a `$("#footer").load("/foot.html")` in an inline script. The crawler
        fetches each once per site; checks.footer reads them with the page."""
        found: list[str] = []
        site = netloc_of(self.url)

        def add(href: str | None) -> None:
            url = normalize_url(href, self.base_url)
            if url and netloc_of(url) == site and url != self.url and url not in found:
                found.append(url)

        for el in self.tree.iter("iframe", "frame", "script"):
            src = el.get("src")
            if not src:
                if el.tag == "script" and el.text:
                    for m in _SCRIPT_INCLUDE.finditer(el.text):
                        add(m.group(2))
                continue
            marks = f"{el.get('id') or ''} {el.get('name') or ''} {el.get('class') or ''}"
            if _FOOTER_FILE.search(src.split("?")[0].rsplit("/", 1)[-1]) or (
                    el.tag != "script" and (_FOOTER_MARK.search(f" {marks} ") or _in_footer(el))):
                add(src)
        for comment in self.tree.iter(etree.Comment):
            m = _SSI_INCLUDE.match(comment.text or "")
            if m and _FOOTER_FILE.search(m.group(1).rsplit("/", 1)[-1]):
                add(m.group(1))
        return found[:5]

    @cached_property
    def script_written(self) -> ParsedPage | None:
        """What this page's inline scripts write with document.write (a footer written by
        script is on screen for a visitor, not in the markup)."""
        html = " ".join(script_written_html(s.text) for s in self.tree.iter("script")
                        if not s.get("src") and s.text and "document.write" in s.text)
        return ParsedPage(self.url, html) if html.strip() else None

    @cached_property
    def visible_text(self) -> str:
        """Text a visitor sees: no scripts, styles, comments or hidden elements."""
        parts: list[str] = []
        self._collect_text(self.tree, parts)
        return _squash(" ".join(parts))

    @cached_property
    def snippet(self) -> str:
        """Start of the visible text; a page with none that redirects by script says so, since
        CMS column stubs (`<script>location.href=…</script>`) are tiny but not error pages."""
        text = self.visible_text[:1000]
        if not text and any(_JS_REDIRECT.search(s.text or "") for s in self.tree.iter("script")):
            return "（脚本跳转页）"
        return text

    def _collect_text(self, el, parts: list[str]) -> None:
        if not isinstance(el.tag, str) or el.tag in ("script", "style", "noscript", "template", "head", "title"):
            return
        if style_hides(el.get("style")) or el.get("hidden") is not None:
            return
        if el.text:
            parts.append(el.text)
        for child in el:
            self._collect_text(child, parts)
            if child.tail:
                parts.append(child.tail)


# lxml's own HTML parser (libxml2) is not the WHATWG algorithm: a stray `</html>` in a header
# include (seen on a national portal's 公报 template) makes it start a second top-level
# <html>, leaving the body and the whole footer out of the visible text, and it stops at 256
# levels of nesting. lexbor (through selectolax) builds the tree a browser builds; its
# serialisation of that tree is well-formed, so libxml2 re-reads it into the same elements
# (checked on the real-page corpora, tests/test_parse.py) and every check keeps the lxml API.
# bench/parse.py measures this path against lxml alone and BeautifulSoup+html5lib.
_LXML_PARSER = lxml.html.HTMLParser(huge_tree=True)


def parse_html(html: str):
    """The one HTML parsing entry point: text → lxml document tree as a browser sees it."""
    if not html.strip():
        html = "<html></html>"
    serialised = LexborHTMLParser(html).html or "<html></html>"
    try:
        tree = lxml.html.document_fromstring(serialised, parser=_LXML_PARSER)
    except (etree.ParserError, ValueError):
        return lxml.html.document_fromstring("<html></html>", parser=_LXML_PARSER)
    _render_datastores(tree)
    return tree


# Hanweb (大汉) column pages ship the first page of their list inside
# <script type="text/xml"><datastore><recordset><record><![CDATA[<li>…</li>]]></record>…, and the
# site's jpage script renders the records where that script stands; <nextgroup> holds the
# pager's data URL, not an item.
_DATASTORE_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)


def _render_datastores(tree) -> None:
    """Put each datastore's records into the tree in place of its script, as the browser shows them."""
    for script in list(tree.iter("script")):
        text = script.text or ""
        if script.get("src") or "<recordset" not in text.lower():
            continue
        markup = "".join(_DATASTORE_RECORD.findall(text))
        parent = script.getparent()
        if parent is None:
            continue
        # <li> records render into a list, <tr> records into a table (the jpage template's own)
        wrapped = f"<table><tbody>{markup}</tbody></table>" if re.match(r"\s*<tr[\s>]", markup, re.I) else f"<ul>{markup}</ul>"
        rendered = []
        if markup.strip():
            try:
                body = lxml.html.document_fromstring(LexborHTMLParser(wrapped).html,
                                                     parser=_LXML_PARSER).find("body")
            except (etree.ParserError, ValueError):
                body = None
            rendered = list(body) if body is not None else []
        at = parent.index(script)
        tail = script.tail
        parent.remove(script)
        for offset, el in enumerate(rendered):
            parent.insert(at + offset, el)
        if tail:
            if rendered:
                rendered[-1].tail = (rendered[-1].tail or "") + tail
            elif at > 0:
                parent[at - 1].tail = (parent[at - 1].tail or "") + tail
            else:
                parent.text = (parent.text or "") + tail


def _same_dir(a: str, b: str) -> bool:
    return a.rsplit("/", 1)[0].split("?")[0] == b.rsplit("/", 1)[0].split("?")[0]


_SPACES = re.compile(r"\s+")


def _squash(text: str) -> str:
    return _SPACES.sub(" ", text or "").strip()
