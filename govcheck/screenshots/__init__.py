"""Screenshots as evidence: after a scan, every page that carries an open finding is rendered by
headless Chromium from its stored snapshot (the bytes the crawler judged), the offending text,
link or footer area is outlined and scrolled into view, and the viewport is stored as a PNG,
content-addressed in `snapshots`, with a `screenshots` row tying it to the finding and scan.

Vendor report-entry forms ask for a 截图 per problem; a unit disputes a stored HTML file more
easily than a picture of its own page with the problem marked, and the page may have changed by
the time the unit reads the list.

Rendering is bounded and stays on the scanned site:
- the document itself is answered from the stored snapshot (request interception), so the
  picture is the page as it was served, never a later version; page scripts are off, as they
  were for the checks, so nothing navigates away, opens windows or rewrites the text judged;
- every other request is intercepted: only the page's own site (host and port) is let through,
  anything else is aborted; Chromium's host resolver maps the registry's `resolve:` hosts to
  their addresses and fails every other name (the site's own host excepted when it is not in
  `resolve:` and `resolve_only` is off); and a dead loopback proxy catches what interception
  cannot see (redirect hops), so a redirect to another host or an IP address goes nowhere;
- time per page (`screenshot_timeout`), page size (`screenshot_max_bytes`), requests per page,
  and screenshots per scan (`screenshots_max`, vetoes first) are capped.
Personal numbers are masked in the picture as they are in the evidence text.

Chromium is Debian's package (`/usr/bin/chromium`; `settings.chromium` or `GOVCHECK_CHROMIUM`
point elsewhere) driven by Playwright; when it is missing the scan goes on and says screenshots
are off. A failure here never fails the scan.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from checks import CHECKS
from govcheck import clock
from govcheck.config import Settings
from govcheck.findings import SEVERITY_ORDER
from govcheck.store.queries import load_snapshot, screenshots_of
from govcheck.store.schema import FindingRow, PageRow, ScreenshotRow, SiteRow, SnapshotRow
from govcheck.store.writer import compress, insert_ignore
from govcheck.urls import host_of, netloc_of, normalize_url

log = logging.getLogger("govcheck.screenshots")

# The outline's colour: a magenta no government template uses, so the outline is found (and
# tested) by its exact pixels; PNG keeps them exact.
OUTLINE_RGB = (255, 0, 170)
OUTLINE_CSS = "rgb({}, {}, {})".format(*OUTLINE_RGB)
VIEWPORT = {"width": 1280, "height": 900}
MAX_REQUESTS_PER_PAGE = 200
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-dev-shm-usage", "--hide-scrollbars",
                  "--mute-audio", "--disable-extensions",
                  # A document answered from its snapshot has no network address, so Chromium counts
                  # it as public and refuses its stylesheets and images from a site `resolve:` maps
                  # to a local address (the loopback demo, an intranet mirror) as Local Network Access.
                  "--disable-features=LocalNetworkAccessChecks"]


def screenshot_checks() -> tuple[str, ...]:
    """The checks a page screenshot can show, as the catalogue declares them (`shown_on_page`),
    in catalogue order: read at call time so a check registered later is included."""
    return tuple(code for code, spec in CHECKS.items() if spec.shown_on_page)


OUTLINE_JS = (Path(__file__).with_name("outline.js")).read_text(encoding="utf-8").replace("__COLOR__", OUTLINE_CSS)


def chromium_path(settings: Settings) -> str:
    return os.environ.get("GOVCHECK_CHROMIUM") or settings.chromium


def unavailable(settings: Settings) -> str | None:
    """Why screenshots cannot be taken (None: they can)."""
    if not settings.screenshots:
        return "screenshots: false in settings"
    path = chromium_path(settings)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        return f"Chromium not found at {path} (apt-get install chromium fonts-noto-cjk)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


@dataclass
class Mark:
    """One finding's problem to outline on a page."""

    finding_id: int
    kind: str                    # text | row | region | masked | link | footer
    label: str                   # shown on the outline
    texts: list[str] = field(default_factory=list)
    target: str | None = None    # link findings: the target URL
    personal: str | None = None  # privacy findings: id_card | mobile | bank_card


@dataclass
class PageShot:
    site_url: str
    page_url: str
    content_hash: str
    content_type: str | None
    encoding: str | None
    marks: list[Mark] = field(default_factory=list)


@dataclass
class ShotOutcome:
    taken: int = 0
    reused: int = 0
    outlined: int = 0
    skipped: int = 0             # over the cap, too large or failed
    off: str | None = None       # why screenshots are off
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.off:
            return f"screenshots off: {self.off}"
        parts = [f"screenshots: {self.taken} taken ({self.outlined} with the problem outlined) in {self.seconds:.1f}s"]
        if self.reused:
            parts.append(f"{self.reused} reused (page unchanged)")
        if self.skipped:
            parts.append(f"{self.skipped} not taken (cap, size or error)")
        return ", ".join(parts)


def mark_for(row: FindingRow) -> Mark | None:
    spec = CHECKS.get(row.check)
    name = spec.name if spec else row.check
    family = spec.family if spec else None
    detail = row.detail or {}
    subject = row.subject or ""
    if family == "words":
        return Mark(row.id, "text", f"{name}「{subject}」", [subject])
    if family == "privacy":
        return Mark(row.id, "masked", f"{name}：{detail.get('name') or subject}", personal=subject)
    if family == "footer":
        return Mark(row.id, "footer", f"{name}：{detail.get('name') or subject}")
    if family == "links":
        label = f"{name}（{detail.get('hidden_by')}）" if row.check == "link_hidden" else name
        return Mark(row.id, "link", f"{label} → {subject}"[:120], target=subject)
    if row.check == "column_stale":
        texts = [t for t in (detail.get("newest_title"), subject) if t]
        return Mark(row.id, "row", f"{name}：最新信息 {detail.get('newest') or '无日期'}", texts)
    if row.check == "column_blank":
        return Mark(row.id, "region", f"{name}「{subject}」", [subject])
    if row.check == "home_not_updated" and detail.get("newest_title"):
        return Mark(row.id, "row", f"{name}：最新信息 {detail.get('newest')}", [detail["newest_title"]])
    return None


def plan(session: Session, scan_id: int) -> list[tuple[FindingRow, PageShot]]:
    """(finding, page) for every open site finding of this scan that sits on a stored HTML page,
    gravest first."""
    shown = screenshot_checks()
    rows = session.scalars(select(FindingRow).where(FindingRow.last_scan_id == scan_id, FindingRow.status == "open",
                                                    FindingRow.target_kind == "site",
                                                    FindingRow.check.in_(shown))).all()
    rows.sort(key=lambda r: (SEVERITY_ORDER.get(r.severity, 9), shown.index(r.check), r.id))
    site_ids = dict(session.execute(select(SiteRow.url, SiteRow.id)).all())
    pages: dict[tuple[int, str], PageShot] = {}
    out = []
    for row in rows:
        site_id = site_ids.get(row.target)
        if site_id is None or not row.url:
            continue
        key = (site_id, row.url)
        if key not in pages:
            page = session.scalars(select(PageRow).where(PageRow.scan_id == scan_id, PageRow.site_id == site_id,
                                                         (PageRow.url == row.url) | (PageRow.final_url == row.url))
                                   .limit(1)).first()
            if page is None or page.status != 200 or "html" not in (page.content_type or "text/html").lower():
                continue
            pages[key] = PageShot(row.target, page.final_url, page.content_hash, page.content_type, page.encoding)
        out.append((row, pages[key]))
    return out


def host_resolver_rules(resolve: dict[str, str], site_hosts: set[str], resolve_only: bool) -> str:
    """Chromium's --host-resolver-rules: the registry's `resolve:` map, every other name
    unresolvable — except the scanned sites' own hosts when they are not in the map and real
    DNS is allowed (`resolve_only: false`)."""
    rules = [f"MAP {host} {f'[{addr}]' if ':' in addr else addr}" for host, addr in sorted(resolve.items())]
    rules.append("MAP * ~NOTFOUND")
    if not resolve_only:
        rules += [f"EXCLUDE {h}" for h in sorted(site_hosts) if h not in resolve]
    return ", ".join(rules)


class _DeadProxy:
    """A loopback port bound but never listening: connections to it are refused at once.
    Chromium sends everything but the scanned sites there, so nothing reaches another host."""

    def __enter__(self) -> str:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def __exit__(self, *exc) -> None:
        self.sock.close()


def _content_type(shot: PageShot) -> str:
    # The crawler's decoding is what the checks read: tell Chromium the same charset.
    ctype = (shot.content_type or "text/html").split(";")[0].strip() or "text/html"
    return f"{ctype}; charset={shot.encoding}" if shot.encoding else (shot.content_type or "text/html")


class Renderer:
    """One Chromium for the whole scan; one browser context per page (its own interception)."""

    def __init__(self, settings: Settings, resolve: dict[str, str], site_hosts: set[str]):
        self.settings = settings
        self.resolve = resolve
        self.site_hosts = site_hosts
        self.requests: list[tuple[str, str]] = []   # (url, "continued"|"aborted"|"snapshot") of the last page

    def __enter__(self) -> Renderer:
        from playwright.sync_api import sync_playwright

        self._proxy = _DeadProxy()
        proxy = self._proxy.__enter__()
        self._pw = sync_playwright().start()
        try:
            args = CHROMIUM_FLAGS + [
                "--host-resolver-rules=" + host_resolver_rules(self.resolve, self.site_hosts, self.settings.resolve_only),
                f"--proxy-server={proxy}", "--proxy-bypass-list=" + ";".join(sorted(self.site_hosts))]
            self.browser = self._pw.chromium.launch(executable_path=chromium_path(self.settings), args=args,
                                                    timeout=max(30_000, self.settings.screenshot_timeout * 3000))
        except BaseException:
            self._pw.stop()
            self._proxy.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.browser.close()
        finally:
            self._pw.stop()
            self._proxy.__exit__()

    def render(self, shot: PageShot, body: bytes, marks: list[tuple[Mark, list[int]]], on_page=None) -> list[tuple]:
        """Load `body` as `shot.page_url`, then outline each mark: [(mark, png, outlined, located)]."""
        from playwright.sync_api import Error as PlaywrightError

        timeout_ms = self.settings.screenshot_timeout * 1000
        started = time.monotonic()
        context = self.browser.new_context(viewport=VIEWPORT, device_scale_factor=1, java_script_enabled=False,
                                           service_workers="block", accept_downloads=False, locale="zh-CN",
                                           timezone_id="Asia/Shanghai",
                                           user_agent=self.settings.user_agent + " screenshot")
        context.set_default_timeout(timeout_ms)
        allowed = netloc_of(shot.page_url)
        self.requests = []
        state = {"document": False, "count": 0}

        def route(r):
            request = r.request
            try:
                if request.is_navigation_request() and request.frame.parent_frame is None:
                    if state["document"]:
                        self.requests.append((request.url, "aborted"))
                        return r.abort("blockedbyclient")     # no navigation away from the evidence
                    state["document"] = True
                    self.requests.append((request.url, "snapshot"))
                    return r.fulfill(status=200, body=body, headers={"content-type": _content_type(shot)})
                state["count"] += 1
                over_time = time.monotonic() - started > self.settings.screenshot_timeout
                if (netloc_of(request.url) != allowed or not request.url.startswith(("http://", "https://"))
                        or state["count"] > MAX_REQUESTS_PER_PAGE or over_time):
                    self.requests.append((request.url, "aborted"))
                    return r.abort("blockedbyclient")
                self.requests.append((request.url, "continued"))
                return r.continue_()
            except PlaywrightError:   # the page went away meanwhile
                return None

        context.route("**/*", route)
        results = []
        try:
            page = context.new_page()
            try:
                page.goto(shot.page_url, wait_until="load", timeout=timeout_ms)
            except PlaywrightError as exc:   # slow stylesheets or images: the document is there
                if not state["document"]:
                    raise
                log.info("screenshot %s: load not complete (%s)", shot.page_url, str(exc).splitlines()[0])
            page.evaluate(OUTLINE_JS)
            page.evaluate("() => window.govcheck.mask()")
            if on_page is not None:
                on_page(page)
            for mark, indexes in marks:
                if time.monotonic() - started > 2 * self.settings.screenshot_timeout:
                    break
                spec = {"kind": mark.kind, "label": mark.label, "texts": mark.texts, "indexes": indexes,
                        "personal": mark.personal}
                got = page.evaluate("(spec) => window.govcheck.mark(spec)", spec)
                png = page.screenshot(type="png", animations="disabled", caret="hide", timeout=timeout_ms)
                results.append((mark, png, bool(got.get("outlined")), got.get("located")))
        finally:
            context.close()
        return results

    def link_indexes(self, page, target: str) -> list[int]:
        urls = page.evaluate("() => window.govcheck.links()")
        want = normalize_url(target)
        return [i for i, u in enumerate(urls) if u and normalize_url(u) == want]


def _png_size(png: bytes) -> tuple[int, int]:
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def take_screenshots(sessions: sessionmaker[Session], scan_id: int, settings: Settings, resolve: dict[str, str]
                     ) -> ShotOutcome:
    """Screenshots for the open findings of scan `scan_id` (after its findings are merged)."""
    outcome = ShotOutcome()
    outcome.off = unavailable(settings)
    if outcome.off:
        return outcome
    started = time.monotonic()
    with sessions() as session:
        planned = plan(session, scan_id)
        previous = screenshots_of(session, [row.id for row, _ in planned])
        todo: dict[str, list[Mark]] = defaultdict(list)
        shots: dict[str, PageShot] = {}
        rows = []
        budget = settings.screenshots_max
        for row, shot in planned:
            prev = previous.get(row.id)
            if prev is not None and prev.page_hash == shot.content_hash and prev.outlined:
                # Same page bytes, same finding: yesterday's picture is today's (nights stay small).
                rows.append(dict(scan_id=scan_id, finding_id=row.id, page_url=prev.page_url, page_hash=prev.page_hash,
                                 image_hash=prev.image_hash, width=prev.width, height=prev.height, outlined=True,
                                 located=prev.located, taken_at=clock.now()))
                outcome.reused += 1
                continue
            mark = mark_for(row)
            if mark is None:
                continue
            if budget <= 0:
                outcome.skipped += 1
                continue
            budget -= 1
            todo[shot.page_url].append(mark)
            shots[shot.page_url] = shot
        bodies = {url: load_snapshot(session, s.content_hash) for url, s in shots.items()}
    blobs: dict[str, dict] = {}
    if todo:
        site_hosts = {host_of(s.page_url) for s in shots.values()}
        try:
            with Renderer(settings, resolve, site_hosts) as renderer:
                for url, marks in todo.items():
                    shot, body = shots[url], bodies.get(url)
                    if body is None or len(body) > settings.screenshot_max_bytes:
                        outcome.skipped += len(marks)
                        continue
                    page_started = time.monotonic()
                    try:
                        results = _render_marks(renderer, shot, body, marks)
                    except Exception as exc:   # one page failing never stops the others
                        log.warning("screenshot of %s failed: %s", url, exc)
                        outcome.errors.append(f"{url}: {str(exc).splitlines()[0][:200]}")
                        outcome.skipped += len(marks)
                        continue
                    log.info("screenshots of %s: %d in %.1fs", url, len(results), time.monotonic() - page_started)
                    outcome.skipped += len(marks) - len(results)
                    for mark, png, outlined, located in results:
                        image_hash, data = compress(png)
                        blobs.setdefault(image_hash, {"content_hash": image_hash, "size": len(png), "data": data})
                        width, height = _png_size(png)
                        rows.append(dict(scan_id=scan_id, finding_id=mark.finding_id, page_url=shot.page_url,
                                         page_hash=shot.content_hash, image_hash=image_hash, width=width,
                                         height=height, outlined=outlined, located=located, taken_at=clock.now()))
                        outcome.taken += 1
                        outcome.outlined += outlined
        except Exception as exc:   # Chromium would not start: the scan stands, without pictures
            log.warning("screenshots: Chromium failed: %s", exc)
            outcome.off = f"Chromium failed to start ({str(exc).splitlines()[0][:200]})"
    if rows:
        with sessions.begin() as session:
            insert_ignore(session, SnapshotRow, list(blobs.values()), ["content_hash"])
            insert_ignore(session, ScreenshotRow, rows, ["scan_id", "finding_id"])
    outcome.seconds = time.monotonic() - started
    return outcome


def _render_marks(renderer: Renderer, shot: PageShot, body: bytes, marks: list[Mark]) -> list[tuple]:
    pending: list[tuple[Mark, list[int]]] = [(m, []) for m in marks]

    def find_links(page):
        # Which elements carry a link finding's target, once the page is loaded and before any
        # outline is drawn; URLs are compared through the one normalisation the checks used.
        for i, (m, _) in enumerate(pending):
            if m.kind == "link":
                pending[i] = (m, renderer.link_indexes(page, m.target or ""))

    return renderer.render(shot, body, pending, on_page=find_links)


def screenshot_date(taken_at: dt.datetime) -> str:
    return clock.as_beijing(taken_at).strftime("%Y-%m-%d %H:%M")
