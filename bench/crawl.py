"""Crawl throughput and footprint: bare Scrapy vs `govcheck scan` on one generated site.

    python bench/crawl.py [--pages 10000] [--delay 0] [--profile] [--skip-bare]

One loopback server plays one generated county portal (column lists with pagination,
articles with an image and an attachment each, a few broken links). In this one invocation:

1. a bare Scrapy spider (follows every <a href>, same reactor, same per-host limit, no
   govcheck code) crawls it;
2. `govcheck scan` scans it (the first scan, a fresh database);
3. `govcheck scan` scans it again unchanged (same database: conditional GET, carried-over
   results).

Each runs as its own process (Scrapy's reactor runs once per process); for each the bench
prints wall time, pages/s, requests/s, the process's own peak RSS, the most requests in flight
at once on the host as the server saw them and, for the scans, the database size after it.
`--profile` runs the two scans under cProfile instead (slower; the figures are then not the
benchmark) and prints their top entries.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pstats
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from govcheck.demo.loopback import LoopbackSites, Route  # noqa: E402

HOST = "www.bench.gov.cn"
BARE_HOST = "127.0.0.1"        # the bare spider has no resolver: it asks the server by address
COLUMNS = ["gzdt", "tzgg", "zcwj", "rsxx", "czzj", "tjsj", "ghjh", "xxgk"]
PER_LIST = 20
PER_HOST = 4


def page(title: str, body: str) -> Route:
    return Route(body=f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}_基准测试区人民政府</title>
<link rel="stylesheet" href="/css/main.css"><script src="/js/common.js"></script></head><body>
<div class="nav"><a href="/">首页</a>{''.join(f'<a href="/{c}/">栏目{c}</a>' for c in COLUMNS)}</div>
<div class="main">{body}</div>
<div class="footer">主办单位：基准测试区人民政府办公室 网站标识码：1599000001 蒙ICP备00000000号</div></body></html>""")


def build_site(n_pages: int) -> dict[str, Route]:
    routes: dict[str, Route] = {}
    per_column = max(1, (n_pages - 1) // len(COLUMNS))
    day = dt.date(2024, 4, 19)
    for c in COLUMNS:
        n_articles = per_column - max(1, per_column // (PER_LIST + 1))
        lists = max(1, -(-n_articles // PER_LIST))
        for li in range(lists):
            items = ""
            for k in range(li * PER_LIST, min(n_articles, (li + 1) * PER_LIST)):
                d = day - dt.timedelta(days=k % 3000)
                path = f"/{c}/{d:%Y%m}/t{d:%Y%m%d}_{k}.html"
                items += f'<li><a href="{path}">第{k}号信息</a><span>{d}</span></li>'
                extra = '<a href="/files/missing.pdf">附件</a>' if k % 97 == 0 else f'<a href="/files/{c}{k}.pdf">附件</a>'
                routes[path] = page(f"第{k}号信息", "<p>" + "为深入贯彻落实有关决策部署，现将有关事项通知如下。" * 20
                                    + f'</p><img src="/img/{c}/{k}.jpg">{extra}')
                routes[f"/img/{c}/{k}.jpg"] = Route(body=b"\xff\xd8jpg", content_type="image/jpeg")
                routes[f"/files/{c}{k}.pdf"] = Route(body=b"%PDF-1.4", content_type="application/pdf")
            # A pager as real CMSs print it: first, previous, a window of numbers, next, last.
            def href(p: int, c: str = c) -> str:
                return f"/{c}/" if p == 0 else f"/{c}/index_{p}.html"
            window = range(max(0, li - 4), min(lists, li + 5))
            pager = f'<a href="{href(0)}">首页</a>' + (f'<a href="{href(li - 1)}">上一页</a>' if li else "")
            pager += "".join(f'<a href="{href(p)}">{p + 1}</a>' for p in window)
            pager += (f'<a href="{href(li + 1)}">下一页</a>' if li + 1 < lists else "") + f'<a href="{href(lists - 1)}">尾页</a>'
            path = f"/{c}/" if li == 0 else f"/{c}/index_{li}.html"
            routes[path] = page(f"栏目{c}", f"<ul>{items}</ul><div class='page'>{pager}</div>")
    routes["/"] = page("首页", "".join(f'<a href="/{c}/">更多</a>' for c in COLUMNS))
    routes["/css/main.css"] = Route(body=b"body{}", content_type="text/css")
    routes["/js/common.js"] = Route(body=b"var a;", content_type="application/javascript")
    return routes


# --------------------------------------------------------------------------- bare Scrapy

def bare_scrapy(url: str) -> None:
    """The reference: a plain Scrapy spider following every <a href> (child process)."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    from crawler.settings import TWISTED_REACTOR

    class Bare(scrapy.Spider):
        name = "bare"
        start_urls = [url]
        pages = 0

        def parse(self, response):
            if not isinstance(response, scrapy.http.HtmlResponse):
                return
            Bare.pages += 1
            for href in response.css("a::attr(href)").getall():
                yield response.follow(href, self.parse)

    process = CrawlerProcess(settings={
        "TWISTED_REACTOR": TWISTED_REACTOR, "CONCURRENT_REQUESTS": 32, "CONCURRENT_REQUESTS_PER_DOMAIN": PER_HOST,
        "LOG_LEVEL": "WARNING", "ROBOTSTXT_OBEY": False, "TELNETCONSOLE_ENABLED": False, "DEPTH_PRIORITY": 1,
        "SCHEDULER_MEMORY_QUEUE": "scrapy.squeues.FifoMemoryQueue"})
    process.crawl(Bare)
    process.start()
    print(json.dumps({"pages": Bare.pages}))


# --------------------------------------------------------------------------- runs

def run_child(args: list[str], env: dict | None = None) -> tuple[float, int, str, str, int, float, str]:
    """(wall seconds, peak RSS in KB of that process alone, stdout, stderr, exit code, its CPU
    seconds, the load average at start and end). On a shared machine the wall times of two runs
    see different loads; the CPU each process used is the load-independent figure beside them."""
    load = f"load {os.getloadavg()[0]:.1f}"
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        proc = subprocess.Popen(args, stdout=out, stderr=err, env=env)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        load += f"→{os.getloadavg()[0]:.1f}"
        return (wall, usage.ru_maxrss, out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                proc.returncode, usage.ru_utime + usage.ru_stime, load)


def db_size(db: Path) -> int:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))


def table_sizes(db: Path) -> str:
    con = sqlite3.connect(db)
    try:
        rows = con.execute("select name, sum(pgsize) from dbstat where name not like 'sqlite_%' group by name "
                           "order by 2 desc limit 6").fetchall()
    except sqlite3.OperationalError:
        return ""
    finally:
        con.close()
    return ", ".join(f"{n} {s / 2**20:.1f}" for n, s in rows)


def print_profile(path: Path, label: str, top: int) -> None:
    print(f"--- profile: {label} (top {top} by own time)")
    stats = pstats.Stats(str(path))
    stats.sort_stats("tottime")
    width = 110
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    total = stats.total_tt
    print(f"{'own s':>8} {'own %':>6} {'cum s':>8} {'calls':>9}  function")
    for (file, line, name), (_cc, nc, tt, ct, _callers) in rows:
        where = f"{Path(file).name}:{line}({name})" if line else name
        print(f"{tt:8.2f} {100 * tt / total:5.1f}% {ct:8.2f} {nc:9d}  {where[:width]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=10_000)
    ap.add_argument("--delay", type=float, default=0.0, help="server think time per request (s)")
    ap.add_argument("--profile", action="store_true", help="run the scans under cProfile and print top entries")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--skip-bare", action="store_true")
    ap.add_argument("--bare-child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.bare_child:
        return bare_scrapy(args.bare_child)

    routes = build_site(args.pages)
    n_html = sum(1 for r in routes.values() if r.content_type.startswith("text/html"))
    print(f"site: {n_html} HTML pages, {len(routes)} URLs; server think time {args.delay * 1000:.0f} ms; "
          f"per-host limit {PER_HOST}")
    lines = []
    with tempfile.TemporaryDirectory() as tmp, LoopbackSites({HOST: routes, BARE_HOST: routes},
                                                             default_delay=args.delay) as server:
        bare = None
        if not args.skip_bare:
            wall, rss, out, err, rc, cpu, load = run_child([sys.executable, __file__, "--bare-child",
                                                            f"http://{BARE_HOST}:{server.port}/"])
            if rc != 0:
                sys.exit(f"bare Scrapy failed ({rc}):\n{out}\n{err}")
            pages = json.loads(out.strip().splitlines()[-1])["pages"]
            reqs = sum(1 for h, _m, _p in server.requests if h == BARE_HOST)
            bare = pages / wall
            bare_cpu = cpu / pages
            lines.append(f"bare Scrapy   : {pages:6d} pages {reqs:6d} requests  {wall:7.1f} s  {pages / wall:6.1f} pages/s "
                         f"{reqs / wall:6.1f} req/s  peak RSS {rss / 1024:5.0f} MB  max in flight {server.max_in_flight[BARE_HOST]}"
                         f"  CPU {cpu:6.1f} s = {1000 * cpu / pages:4.1f} ms/page  {load}")
            print(lines[-1], flush=True)
        registry = Path(tmp) / "sites.yaml"
        registry.write_text(json.dumps({
            "as_of": "2024-04-19", "resolve": {HOST: "127.0.0.1"},
            "settings": {"resolve_only": True, "max_pages": args.pages + 100, "max_depth": 10_000,
                         "concurrency_per_host": PER_HOST},
            "units": [{"name": "基准测试区人民政府", "sites": [{"url": f"http://{HOST}:{server.port}/"}]}]}), encoding="utf-8")
        db = Path(tmp) / "bench.db"
        walls, sizes, rates, cpus = [], [], [], []
        for n, label in enumerate(("govcheck scan ", "re-scan       ")):
            before = len(server.requests)
            server.max_in_flight.clear()
            cmd = [sys.executable, "-m", "govcheck", "scan", str(registry), "--db", str(db)]
            prof = Path(tmp) / f"scan{n}.prof"
            if args.profile:
                cmd = [sys.executable, "-m", "cProfile", "-o", str(prof), *cmd[1:]]
            wall, rss, out, err, rc, cpu, load = run_child(cmd, env=dict(os.environ, GOVCHECK_RESOLVE_ONLY="1"))
            if rc != 0:
                sys.exit(f"scan failed ({rc}):\n{out}\n{err}")
            con = sqlite3.connect(db)
            _scan_id, stats = con.execute("select id, stats from scans order by id desc limit 1").fetchone()
            stats = json.loads(stats)
            con.close()
            pages = stats["pages"]
            reqs = len(server.requests) - before
            walls.append(wall)
            rates.append(pages / wall)
            cpus.append(cpu / pages)
            sizes.append(db_size(db))
            lines.append(f"{label}: {pages:6d} pages {reqs:6d} requests  {wall:7.1f} s  {pages / wall:6.1f} pages/s "
                         f"{reqs / wall:6.1f} req/s  peak RSS {rss / 1024:5.0f} MB  max in flight {server.max_in_flight[HOST]}"
                         f"  db {sizes[-1] / 2**20:6.1f} MB  CPU {cpu:6.1f} s = {1000 * cpu / pages:4.1f} ms/page  {load}")
            print(lines[-1], flush=True)
            print(f"    crawl {stats.get('crawl_seconds')} s, analysis {stats.get('analysis_seconds')} s, "
                  f"{stats.get('findings')} findings, targets {stats.get('targets', '?')}, "
                  f"carried over {stats.get('carried_over', '?')}; "
                  f"tables (MB): {table_sizes(db)}", flush=True)
            if args.profile:
                print_profile(prof, label.strip(), args.top)
    print("=== summary")
    for line in lines:
        print(line)
    if bare and rates:
        print(f"first scan / bare Scrapy pages/s: {rates[0] / bare:.2f}×  (target ≥ 0.80)")
        print(f"bare Scrapy / first scan CPU per page: {bare_cpu / cpus[0]:.2f}×  (the same ratio free of the machine's load)")
    if len(walls) == 2:
        print(f"re-scan speed-up (first wall / re-scan wall): {walls[0] / walls[1]:.2f}×  (target ≥ 3)")
        print(f"db growth by the unchanged re-scan: {(sizes[1] - sizes[0]) / 2**20:.1f} MB = "
              f"{100 * (sizes[1] - sizes[0]) / sizes[0]:.1f} % of the first scan's {sizes[0] / 2**20:.1f} MB  (target ≤ 5 %)")


if __name__ == "__main__":
    main()
