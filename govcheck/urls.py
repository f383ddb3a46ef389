"""URL normalisation and site membership — the one place these rules live.

Every URL that enters storage, the link-target cache or a finding key goes through
:func:`normalize_url`, so the same target written two ways on two pages is checked once
and reported once.
"""

from __future__ import annotations

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


def normalize_url(url: str, base: str | None = None) -> str | None:
    """Absolute, canonical form of a link as found in HTML; None when it is not fetchable.

    Fragments are dropped (same document), default ports removed, host lower-cased,
    percent-encoding made uniform; query order is kept because some CMSs (e.g. Hanweb
    ``?id=1&page=2``) are order-sensitive only in theory, but canonicalize sorts them —
    harmless for identity and it makes two spellings of one target collapse.
    """
    if url is None:
        return None
    url = url.strip().replace("\\", "/")
    if not url or url.lower().startswith(NON_FETCH_SCHEMES):
        return None
    if base:
        url = urljoin(base, url)
    parts = urlsplit(safe_url_string(url))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    port = parts.port if parts.port not in (None, 80 if parts.scheme == "http" else 443) else None
    netloc = f"{host}:{port}" if port else host
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
    return (urlsplit(url).hostname or "").lower()


def netloc_of(url: str) -> str:
    """host[:port] — what identifies a site (loopback demo sites differ only by host)."""
    return urlsplit(url).netloc.lower()


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


def extension_of(url: str) -> str:
    return posixpath.splitext(urlsplit(url).path.lower())[1]


def is_attachment(url: str) -> bool:
    return extension_of(url) in ATTACHMENT_EXTENSIONS


def is_asset(url: str) -> bool:
    return extension_of(url) in ASSET_EXTENSIONS


def is_homepage_path(url: str) -> bool:
    """The site root or an index document at the root: where CMSs send unknown deep URLs."""
    path = urlsplit(url).path
    return path in ("", "/") or bool(re.fullmatch(r"/(index|default|main)\.(s?html?|jsp|aspx?|php)", path, re.I))
