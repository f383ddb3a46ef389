"""URL normalisation and site membership — the one place these rules live.

Every URL that enters storage, the link-target cache or a finding key goes through
:func:`normalize_url`, so the same target written two ways on two pages is checked once
and reported once.
"""

from __future__ import annotations

import functools
import ipaddress
import posixpath
import re
from urllib.parse import urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url, safe_url_string

# Schemes a browser would not fetch: links with them are neither crawled nor checked.
NON_FETCH_SCHEMES = ("javascript:", "mailto:", "tel:", "sms:", "data:", "about:", "#", "file:")

# DESIGN §2 link_external: 政府网站 live under .gov.cn or the .政务 TLD (punycode xn--zfr164b).
GOV_SUFFIXES = (".gov.cn", ".政务", ".xn--zfr164b")

ATTACHMENT_EXTENSIONS = frozenset(
    ".pdf .doc .docx .xls .xlsx .wps .et .ppt .pptx .zip .rar .7z .txt .csv .ofd .ceb .tif".split()
)
ASSET_EXTENSIONS = frozenset(
    ".jpg .jpeg .png .gif .bmp .webp .svg .ico .css .js .mp4 .mp3 .flv .swf .woff .woff2 .ttf .eot".split()
)


# Longest target URL kept: what the link tables store and the classic 2083-character limit
# real browsers and servers share. Longer ones (a 2 MB `href` seen on a hostile page) are
# reported as invalid instead of silently dropped.
MAX_URL_LENGTH = 2000
_HOST_NAME = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*", re.I)


class InvalidURL(ValueError):
    """An http(s) link a browser would refuse to fetch (bad port, broken IPv6 literal, bad host)."""


def normalize_url(url: str, base: str | None = None) -> str | None:
    """Absolute, canonical form of a link as found in HTML; None when it is not fetchable
    (other schemes) or not a valid URL at all (see :func:`link_target` for why).

    Fragments are dropped (same document), default ports removed, host lower-cased,
    percent-encoding made uniform; query order is kept because some CMSs (e.g. Hanweb
    ``?id=1&page=2``) are order-sensitive only in theory, but canonicalize sorts them —
    harmless for identity and it makes two spellings of one target collapse.
    """
    target, problem = link_target(url, base)
    return None if problem else target


def link_target(url: str | None, base: str | None = None) -> tuple[str | None, str | None]:
    """(target, problem) for a link: (canonical URL, None) when fetchable; (None, None) for
    links a browser does not fetch (javascript:, mailto:, …); (the link as written, reason)
    for an http(s) link that is not a valid URL — a `link_broken` "invalid URL" finding, never
    an exception: one hostile href must not lose the page's other links."""
    if url is None:
        return None, None
    url = url.strip().replace("\\", "/")
    if not url or url.lower().startswith(NON_FETCH_SCHEMES):
        return None, None
    shown = url if len(url) <= MAX_URL_LENGTH else url[:MAX_URL_LENGTH - 40] + f"…（共 {len(url)} 字符）"
    if len(url) > MAX_URL_LENGTH:
        if base and "://" not in url[:10]:
            shown = urljoin(base, shown)
        return (shown, f"地址过长（{len(url)} 字符，上限 {MAX_URL_LENGTH}）") if _looks_http(url, base) else (None, None)
    try:
        if base:
            url = urljoin(base, url)
        return _canonical(url), None
    except _NotHttp:
        return None, None
    except (InvalidURL, ValueError, UnicodeError) as exc:
        return shown, f"地址格式错误：{exc}"[:200]


class _NotHttp(Exception):
    pass


_SCHEME_NETLOC = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://")


class LinkResolver:
    """:func:`link_target` for the links of one page, against its base.

    Every page of a site repeats its navigation, footer and pager links, and canonicalising
    a URL (w3lib's quoting, host checks) is most of a link's cost (bench/crawl.py --profile).
    A link's target depends only on part of the base: a ``/path`` or ``scheme://`` link on
    the base's origin, a relative path on the base's directory. Resolved against that part,
    the same link on another page of the site is the same computation, done once (LRU)."""

    __slots__ = ("base", "_origin", "_dir")

    def __init__(self, base: str | None):
        self.base = base
        self._origin = self._dir = base
        if not base:
            return
        try:
            parts = urlsplit(base)
        except ValueError:
            return
        if parts.scheme and parts.netloc:
            self._origin = f"{parts.scheme}://{parts.netloc}/"
            self._dir = urlunsplit((parts.scheme, parts.netloc, parts.path.rsplit("/", 1)[0] + "/", "", ""))

    def __call__(self, url: str | None) -> tuple[str | None, str | None]:
        if url is None or not self.base:
            return link_target(url, self.base)
        href = url.strip().replace("\\", "/")
        if not href or len(href) > MAX_URL_LENGTH:
            return link_target(href, self.base)
        if href[0] == "/" or _SCHEME_NETLOC.match(href):
            scope = self._origin
        elif href[0] in "?;" or ":" in href:
            scope = self.base   # a query-only link keeps the base's path; a colon may be a scheme
        else:
            scope = self._dir
        return _scoped_target(href, scope)


@functools.lru_cache(maxsize=8192)
def _scoped_target(href: str, scope: str) -> tuple[str | None, str | None]:
    return link_target(href, scope)


def _looks_http(url: str, base: str | None) -> bool:
    scheme = url.split(":", 1)[0].lower() if ":" in url[:10] else ""
    return scheme in ("http", "https") or (not scheme and bool(base) and base.lower().startswith("http"))


def _canonical(url: str) -> str:
    parts = urlsplit(safe_url_string(url))
    if parts.scheme not in ("http", "https"):
        raise _NotHttp
    if not parts.netloc:
        raise InvalidURL("没有主机名")
    host = (parts.hostname or "").lower().rstrip(".")
    port = parts.port  # ValueError for :99999 / :abc
    if not host:
        raise InvalidURL("没有主机名")
    if port == 0:
        raise InvalidURL("端口 0")
    if ":" in host or host.replace(".", "").isdigit():
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise InvalidURL(f"IP 地址 {host!r} 无效") from None
    elif not _HOST_NAME.fullmatch(host):
        raise InvalidURL(f"主机名 {host!r} 无效")
    if port in (80 if parts.scheme == "http" else 443,):
        port = None
    shown_host = f"[{host}]" if ":" in host else host
    netloc = f"{shown_host}:{port}" if port else shown_host
    path = _clean_path(parts.path or "/")
    return canonicalize_url(urlunsplit((parts.scheme, netloc, path, parts.query, "")), keep_fragments=False)


def _clean_path(path: str) -> str:
    # Resolve ./ and ../ the way a browser does; keep a trailing slash (it names a directory).
    trailing = path.endswith("/")
    cleaned = posixpath.normpath(path)
    cleaned = re.sub(r"^/+", "/", cleaned) if cleaned.startswith("/") else "/" + cleaned
    if cleaned.startswith("/.."):
        cleaned = re.sub(r"^(/\.\.)+", "", cleaned) or "/"
    if trailing and not cleaned.endswith("/"):
        cleaned += "/"
    return cleaned


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:  # only normalised URLs should get here; an invalid one has no host
        return ""


@functools.lru_cache(maxsize=4096)   # asked of every link of every page (same site? registered?)
def netloc_of(url: str) -> str:
    """host[:port] — what identifies a site (loopback demo sites differ only by host)."""
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return ""


def same_site(url: str, site_url: str) -> bool:
    return netloc_of(url) == netloc_of(site_url)


def domain_matches(host: str, domain: str) -> bool:
    domain = domain.lower().lstrip(".")
    return host == domain or host.endswith("." + domain)


def is_gov_host(host: str) -> bool:
    host = host.lower()
    return any(host.endswith(s) for s in GOV_SUFFIXES)


def is_external(url: str, site_url: str, allow_domains: tuple[str, ...] | list[str] = ()) -> bool:
    """DESIGN §2 link_external: outside .gov.cn/.政务 and outside the site's allow-list."""
    host = host_of(url)
    if not host or same_site(url, site_url) or host == host_of(site_url):
        return False
    if is_gov_host(host):
        return False
    return not any(domain_matches(host, d) for d in allow_domains)


@functools.lru_cache(maxsize=4096)
def extension_of(url: str) -> str:
    # Cached: the crawl asks it of every link two or three times (attachment? asset?).
    return posixpath.splitext(urlsplit(url).path.lower())[1]


def is_attachment(url: str) -> bool:
    return extension_of(url) in ATTACHMENT_EXTENSIONS


def is_asset(url: str) -> bool:
    return extension_of(url) in ASSET_EXTENSIONS


def is_homepage_path(url: str) -> bool:
    """The site root or an index document at the root: where CMSs send unknown deep URLs."""
    path = urlsplit(url).path
    return path in ("", "/") or bool(re.fullmatch(r"/(index|default|main)\.(s?html?|jsp|aspx?|php)", path, re.I))
