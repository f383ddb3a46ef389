"""Issue 11: one scan of a dozen hostile sites beside a healthy one. Each test below is one
hostile case; every one of them also depends on the healthy site being scanned exactly as it
is when scanned alone (test_healthy_site_fully_scanned).

The scan runs once per module (it is the expensive part); the cases read its findings, its
scan events and what the loopback server saw."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import resource
import time

import pytest
from conftest import findings_jsonl, govcheck, write_registry
from sqlalchemy import select

from govcheck.demo.hostile import HEALTHY, HostileSites, healthy_routes, hostile_hosts, units
from govcheck.store.engine import open_db, session_factory
from govcheck.store.schema import FeedFetchRow, ScanRow

AS_OF = dt.date(2024, 4, 19)
BUDGET = 12.0          # seconds of crawling per site (site_time_budget)
PER_PAGE = 150         # max_links_per_page
PER_SITE = 400         # max_links_per_site


# timeout 5: the conftest's 2 s is too tight for a homepage while a dozen hostile sites load
# the (shared, 2-core) machine; slow-loris bodies still time out.
SETTINGS = {"timeout": 5, "site_time_budget": BUDGET, "max_links_per_page": PER_PAGE, "max_links_per_site": PER_SITE,
            "max_pages": 30, "attachment_cpu_seconds": 2, "retry_after_max": 30}


class Run:
    pass


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    server = HostileSites({HEALTHY: healthy_routes()})
    server.start()
    hosts = hostile_hosts(server.port)
    server.hosts.update(hosts)
    resolve = {h: "127.0.0.1" for h in [HEALTHY, *hosts]}
    r = Run()
    r.server, r.tmp = server, tmp
    r.healthy_url = f"http://{HEALTHY}:{server.port}/"
    # The healthy site alone: what "fully scanned" means.
    solo = write_registry(tmp / "solo.yaml", units(server.port, [])[:1], resolve=resolve, settings=SETTINGS,
                          as_of=AS_OF.isoformat())
    govcheck("scan", str(solo), "--db", str(tmp / "solo.db"))
    r.solo = findings_jsonl(tmp / "solo.db")
    r.registry = write_registry(tmp / "sites.yaml", units(server.port, hosts), resolve=resolve, settings=SETTINGS,
                                as_of=AS_OF.isoformat())
    r.db = tmp / "g.db"
    r.first_request = len(server.requests)
    started = time.monotonic()
    r.proc = govcheck("scan", str(r.registry), "--db", str(r.db), timeout=300)
    r.seconds = time.monotonic() - started
    r.peak_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    r.records = findings_jsonl(r.db)
    with session_factory(open_db(str(r.db)))() as s:
        scan = s.scalars(select(ScanRow).order_by(ScanRow.id.desc())).first()
        r.stats = scan.stats
        r.fetches = {f.account_id: f for f in s.scalars(select(FeedFetchRow))}
    yield r
    server.stop()


def of(run, host: str) -> list[dict]:
    return [x for x in run.records if x["target_kind"] == "site" and host in x["target"]]


def events(run, kind: str, host: str = "") -> list[dict]:
    return [e for e in run.stats["events"] if e["kind"] == kind and host in (e["site"] or "")]


def key(r: dict) -> tuple:
    # footer findings name the first page concerned, which depends on crawl order
    return (r["check"], None if r["check"].startswith("footer_") else r["url"], r["subject"], r["severity"])


def test_healthy_site_fully_scanned(run):
    """The property every case relies on: the healthy site's findings are those it gets alone."""
    healthy = [r for r in run.records if r["target"] == run.healthy_url]
    assert sorted(map(key, healthy)) == sorted(map(key, run.solo))
    assert any(r["check"] == "link_broken" and r["subject"].endswith("/gone.html") for r in healthy)
    assert not any("partial" in r["detail"] for r in healthy)
    assert run.healthy_url not in run.stats["partial_sites"]


def test_scan_finishes_within_its_budget_and_memory(run):
    # Crawl bounded by the per-site time budget (plus the 15 s-class timeouts of in-flight
    # requests), analysis by the attachment limits; the 429 site alone would take ~100 min.
    assert run.stats["crawl_seconds"] < BUDGET + 25, run.stats
    assert run.stats["analysis_seconds"] < 30, run.stats
    assert run.peak_rss_mb < 1024


def test_malformed_links_are_findings_not_a_failed_scan(run):
    broken = {r["subject"]: r for r in of(run, "www.badurl.gov.cn") if r["check"] == "link_broken"}
    invalid = {s for s, r in broken.items() if r["detail"]["reason"] == "invalid_url"}
    port = run.server.port
    assert {"http://www.badurl.gov.cn:99999/x", "http://[::1/", "http://www.badurl.gov.cn:abc/"} <= invalid
    assert any(s.startswith(f"http://www.badurl.gov.cn:{port}/aaaa") and "2000001 字符" in s for s in invalid)
    # A valid IPv6 literal is a real URL: checked, and (not in resolve:) fails as DNS — unless
    # the site's 2 MB pages used up its time budget first on a loaded machine (then: partial).
    v6 = broken.get(f"http://[::1]:{port}/v6.html")
    assert (v6 is not None and v6["detail"]["reason"] == "dns") or any(
        "www.badurl.gov.cn" in s for s in run.stats["partial_sites"])
    # The inner page's other links are not lost (unless, as above, the site's budget ran out
    # before the crawl reached them: then the site is marked partial).
    assert run.server.count("www.badurl.gov.cn", "/deep-ok.html") == 1 or any(
        "www.badurl.gov.cn" in s for s in run.stats["partial_sites"])
    assert "地址格式错误" in broken["http://[::1/"]["evidence"]


def test_retry_after_delays_only_its_own_host(run):
    times = [t for (h, _m, _p), t in zip(run.server.requests, run.server.request_times, strict=True) if h == HEALTHY]
    scan_start = run.server.request_times[run.first_request]
    healthy_times = [t for t in times if t >= scan_start]
    assert healthy_times and max(healthy_times) - scan_start < 10   # not behind anyone's 30 s Retry-After
    # Its links wait behind the Retry-After until the site's budget ends: not judged, and
    # whatever was judged is marked partial.
    assert events(run, "budget", "www.ratelimit.gov.cn")
    assert all(r["detail"].get("partial") for r in of(run, "www.ratelimit.gov.cn"))
    assert sum(1 for h, _m, _p in run.server.requests if h == "www.ratelimit.gov.cn") < 20


def test_links_per_page_capped_with_an_event(run):
    [ev] = events(run, "links_capped", "www.manylinks.gov.cn")
    assert "20000 link elements" in ev["message"] and str(PER_PAGE) in ev["message"]
    fetched = sum(1 for h, _m, _p in run.server.requests if h == "www.manylinks.gov.cn")
    assert fetched <= PER_PAGE + 10


def test_links_per_site_budget_marks_site_partial(run):
    assert events(run, "budget", "www.deadlinks.gov.cn")
    dead = [r for r in of(run, "www.deadlinks.gov.cn") if r["check"] == "link_broken"]
    assert 0 < len(dead) <= PER_SITE and all(r["detail"]["partial"] for r in dead)
    assert any(s.startswith("http://www.deadlinks.gov.cn") for s in run.stats["partial_sites"])


def test_endless_and_slow_bodies_end_with_findings(run):
    broken = {r["subject"].rsplit("/", 1)[1]: r for r in of(run, "www.stream.gov.cn") if r["check"] == "link_broken"}
    assert {"endless.html", "slow.html"} <= set(broken)


def test_waf_homepage_is_not_judged(run):
    checks = {r["check"] for r in of(run, "www.waf.gov.cn")}
    assert "site_unreachable" not in checks and "home_not_updated" not in checks
    [u] = [r for r in of(run, "www.waf.gov.cn") if r["check"] == "link_undetermined"]
    assert "403" in u["evidence"]


def test_challenge_homepage_is_not_judged(run):
    checks = {r["check"] for r in of(run, "www.challenge.gov.cn")}
    assert checks == {"link_undetermined"}


def test_probes_answering_429_are_not_failures(run):
    assert "site_unreachable" not in {r["check"] for r in of(run, "www.flaky.gov.cn")}
    statuses = [p for h, _m, p in run.server.requests if h == "www.flaky.gov.cn"]
    assert len(statuses) >= 3   # the probes did reach it, some of them answered 429


def test_feed_item_with_bad_date_is_skipped_not_the_account(run):
    [f] = [r for r in run.records if r["target"] == "坏日期发布"]
    assert f["check"] == "account_near_stale"        # from the real post, 11 days old
    assert f["detail"]["skipped_bad_dates"] == 1


def test_attachment_bombs_are_read_within_limits(run):
    assert run.stats["analysis_seconds"] < 30
    assert not events(run, "analysis_error")


def test_ip_literal_link_not_fetched_with_resolve_only(run):
    assert not any(p == "/secret-ip.html" for _h, _m, p in run.server.requests)
    [f] = [r for r in of(run, "www.reach.gov.cn") if r["check"] == "link_broken"]
    assert f["detail"]["reason"] == "dns" and "127.0.0.1" in f["subject"]


def test_deep_nesting_does_not_hide_content(run):
    # 300 nested <div>s: libxml2 stopped at depth 255; the HTML5 parser (issue 13) does not.
    words = [r for r in of(run, "www.deep.gov.cn") if r["check"] == "word_typo"]
    assert [w["subject"] for w in words] == ["再接再励"]


def test_outputs_are_safe(run):
    out = run.tmp / "reports"
    govcheck("report", "--db", str(run.db), "-o", str(out))
    pages = list(out.rglob("*.html"))
    assert pages
    for p in pages:
        text = p.read_text(encoding="utf-8")
        assert 'http-equiv="Content-Security-Policy"' in text, p
        assert 'href="javascript:' not in text and 'href="=HYPERLINK' not in text
    unit_page = next(p for p in pages if "新媒体单位" in p.name).read_text(encoding="utf-8")
    assert "javascript:alert(document.domain)" in unit_page    # shown as text
    csv_path = run.tmp / "f.csv"
    govcheck("findings", "--db", str(run.db), "--format", "csv", "-o", str(csv_path))
    rows = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8-sig"))))
    assert not any(cell[:1] in "=+-@" and cell for row in rows for cell in row)
    assert any(cell.startswith("'=HYPERLINK") for row in rows for cell in row)
    import openpyxl

    xlsx_path = run.tmp / "f.xlsx"
    govcheck("findings", "--db", str(run.db), "--format", "xlsx", "-o", str(xlsx_path))
    ws = openpyxl.load_workbook(xlsx_path).active
    cells = [c for row in ws.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)
    assert any(isinstance(c.value, str) and c.value.startswith("'=HYPERLINK") for c in cells)


def test_events_are_kept_with_the_scan(run):
    assert run.stats["event_count"] >= 3
    json.dumps(run.stats)   # plain data in the scan row
