"""A crawl worker's start-up imports only what crawling needs (bench/worker_start.py measures
the seconds; no timed test here): not the analysis, not pkg_resources (jieba's slow path),
not the report or screenshot libraries."""

import json
import subprocess
import sys

from conftest import REDIS

PROBE = """
import json, sys
from click.testing import CliRunner
import govcheck.cli
# The real command, on a scan nobody queued: it imports what it needs, finds nothing, returns.
done = CliRunner().invoke(govcheck.cli.main, ["worker", "--db", sys.argv[1], "--redis", sys.argv[2], "--scan", "0"])
assert done.exit_code == 0, done.output
from crawler import settings as crawl_settings
crawl_settings.import_download_handlers()
from scrapy.crawler import CrawlerProcess
from crawler.spiders.site import SiteSpider
import checks.words
settings = {k: getattr(crawl_settings, k) for k in dir(crawl_settings) if k.isupper()}
process = CrawlerProcess(settings=dict(settings, LOG_INSTALL_ROOT_HANDLER=False))
crawler = process.create_crawler(SiteSpider)
crawler._apply_settings()
crawler.engine = crawler._create_engine()   # downloader, handlers, middlewares, extensions
CrawlerProcess  # the worker's crawl is built; the reactor would start here
print(json.dumps(sorted(sys.modules)))
"""

HEAVY = ("govcheck.analysis", "govcheck.lifecycle", "govcheck.screenshots", "pkg_resources", "openpyxl", "playwright")


def test_a_worker_starts_without_the_heavy_modules_it_does_not_use(tmp_path, monkeypatch, prefix):
    monkeypatch.setenv("GOVCHECK_REDIS_PREFIX", prefix)
    db = tmp_path / "g.db"
    db.touch()
    out = subprocess.run([sys.executable, "-c", PROBE, str(db), REDIS], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    loaded = set(json.loads(out.stdout.splitlines()[-1]))
    assert {"scrapy.core.downloader.handlers.http11", "jieba", "crawler.spiders.site"} <= loaded
    assert not [m for m in HEAVY if m in loaded]


def test_jieba_still_finds_its_dictionary():
    out = subprocess.run([sys.executable, "-c", "import checks.words, jieba; print('/'.join(jieba.lcut('路口交通管理')))"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == "路口/交通管理"
