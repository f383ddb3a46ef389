"""Crawl throughput: scan a generated N-page government site on loopback and print pages/s.

    python bench/crawl.py [--pages 2000] [--delay 0]

The site has column lists with pagination, articles with images and attachments, and a few
broken links, like a county portal. The scan runs as the real `govcheck scan` command in a
subprocess; wall time, pages/s, link targets/s and the scan process's peak RSS are printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from govcheck.demo.loopback import LoopbackSites, Route  # noqa: E402

HOST = "www.bench.gov.cn"
COLUMNS = ["gzdt", "tzgg", "zcwj", "rsxx", "czzj", "tjsj", "ghjh", "xxgk"]
PER_LIST = 20


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
                d = day - dt.timedelta(days=k)
                path = f"/{c}/{d:%Y%m}/t{d:%Y%m%d}_{k}.html"
                items += f'<li><a href="{path}">第{k}号信息</a><span>{d}</span></li>'
                extra = '<a href="/files/missing.pdf">附件</a>' if k % 97 == 0 else f'<a href="/files/{c}{k}.pdf">附件</a>'
                routes[path] = page(f"第{k}号信息", "<p>" + "为深入贯彻落实有关决策部署，现将有关事项通知如下。" * 20
                                    + f'</p><img src="/img/{c}/{k}.jpg">{extra}')
                routes[f"/img/{c}/{k}.jpg"] = Route(body=b"\xff\xd8jpg", content_type="image/jpeg")
                routes[f"/files/{c}{k}.pdf"] = Route(body=b"%PDF-1.4", content_type="application/pdf")
            pager = "".join(f'<a href="/{c}/{"index_" + str(p) + ".html" if p else ""}">{p + 1}</a>' for p in range(lists))
            path = f"/{c}/" if li == 0 else f"/{c}/index_{li}.html"
            routes[path] = page(f"栏目{c}", f"<ul>{items}</ul><div class='page'>{pager}</div>")
    routes["/"] = page("首页", "".join(f'<a href="/{c}/">更多</a>' for c in COLUMNS))
    routes["/css/main.css"] = Route(body=b"body{}", content_type="text/css")
    routes["/js/common.js"] = Route(body=b"var a;", content_type="application/javascript")
    return routes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--delay", type=float, default=0.0, help="server think time per request (s)")
    args = ap.parse_args()
    routes = build_site(args.pages)
    n_html = sum(1 for r in routes.values() if r.content_type.startswith("text/html"))
    with tempfile.TemporaryDirectory() as tmp, LoopbackSites({HOST: routes}, default_delay=args.delay) as server:
        registry = Path(tmp) / "sites.yaml"
        registry.write_text(json.dumps({
            "as_of": "2024-04-19", "resolve": {HOST: "127.0.0.1"},
            "settings": {"resolve_only": True, "max_pages": args.pages + 100, "max_depth": 6},
            "units": [{"name": "基准测试区人民政府", "sites": [{"url": f"http://{HOST}:{server.port}/"}]}]}), encoding="utf-8")
        db = Path(tmp) / "bench.db"
        start = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "govcheck", "scan", str(registry), "--db", str(db)],
                              capture_output=True, text=True, env=dict(os.environ, GOVCHECK_RESOLVE_ONLY="1"))
        wall = time.monotonic() - start
        if proc.returncode != 0:
            sys.exit(f"scan failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        import sqlite3

        con = sqlite3.connect(db)
        pages = con.execute("select count(*) from pages").fetchone()[0]
        targets = con.execute("select count(*) from targets").fetchone()[0]
        findings = con.execute("select count(*) from findings").fetchone()[0]
        stats = json.loads(con.execute("select stats from scans").fetchone()[0])
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        requests = len(server.requests)
    print(f"site: {n_html} HTML pages, {len(routes)} URLs; server think time {args.delay * 1000:.0f} ms")
    print(f"scan: {pages} pages, {targets} link targets, {requests} HTTP requests, {findings} findings")
    print(f"wall: {wall:.1f} s (process start, crawl, checks, storage): crawl {stats['crawl_seconds']} s, "
          f"analysis (all checks, findings merge) {stats['analysis_seconds']} s")
    print(f"rate: {pages / wall:.1f} pages/s, {targets / wall:.1f} targets/s, {requests / wall:.1f} requests/s")
    print(f"peak RSS of the scan process: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
