"""Issue 18: store writes are idempotent per scan — a page or target written twice (a request
re-queued after a worker died, a resumed scan, two workers at once) is one row, with the first
version's links; on SQLite and PostgreSQL."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from govcheck.page import LinkRef
from govcheck.store.engine import open_db, session_factory
from govcheck.store.schema import LinkRow, PageRow, ScanRow, SiteRow, TargetRow, UnitRow
from govcheck.store.writer import ScanStore

AT = dt.datetime(2024, 4, 19, 10, 0)
SITE = "http://www.idem.gov.cn/"


@pytest.fixture(params=["sqlite", "postgresql"])
def sessions(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'g.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    engine = open_db(url)
    yield session_factory(engine)
    engine.dispose()


def setup(sessions) -> tuple[int, int, int]:
    with sessions.begin() as s:
        unit = UnitRow(name="单位")
        s.add(unit)
        s.flush()
        site = SiteRow(url=SITE, unit_id=unit.id, allow_domains=[])
        scans = [ScanRow(started_at=AT, as_of=AT.date(), status="running", units=["单位"], stats={}) for _ in range(2)]
        s.add_all([site, *scans])
        s.flush()
        return site.id, scans[0].id, scans[1].id


def page(store: ScanStore, site_id: int, url: str, body: bytes, links: list[str]) -> None:
    store.add_page(site_id, url, body, links=[LinkRef(u, "a", "链接", None) for u in links], final_url=url, status=200,
                   content_type="text/html", encoding="utf-8", depth=1, title="标题", etag=None, last_modified=None,
                   not_modified=False, fetched_at=AT, facts={})


def target(store: ScanStore, url: str, status: int) -> None:
    store.add_target(url=url, method="GET", status=status, error=None, final_url=url, redirects=[], content_type=None,
                     title=None, snippet=None, size=1, elapsed=0.1, checked_at=AT)


def counts(sessions, scan_id: int) -> tuple[int, int, int]:
    with sessions() as s:
        pages = s.scalar(select(func.count()).select_from(PageRow).where(PageRow.scan_id == scan_id))
        links = s.scalar(select(func.count()).select_from(LinkRow).join(PageRow, PageRow.id == LinkRow.page_id)
                         .where(PageRow.scan_id == scan_id))
        targets = s.scalar(select(func.count()).select_from(TargetRow).where(TargetRow.scan_id == scan_id))
        return pages, links, targets


def test_a_page_and_target_written_twice_are_stored_once(sessions):
    site_id, scan_id, _ = setup(sessions)
    first = ScanStore(sessions, scan_id)
    page(first, site_id, SITE + "a.html", b"<html>first</html>", [SITE + "x.html", SITE + "y.html"])
    target(first, SITE + "a.html", 200)
    first.flush()
    # Another process (a worker that took the re-queued request, or the resumed scan) writes
    # the same page and target again, with other content, and a new page twice in one batch.
    again = ScanStore(sessions, scan_id)
    page(again, site_id, SITE + "a.html", b"<html>second</html>", [SITE + "z.html"])
    target(again, SITE + "a.html", 500)
    page(again, site_id, SITE + "b.html", b"<html>b</html>", [SITE + "x.html"])
    page(again, site_id, SITE + "b.html", b"<html>b again</html>", [SITE + "q.html", SITE + "r.html"])
    again.flush()

    assert counts(sessions, scan_id) == (2, 3, 1)
    with sessions() as s:
        a = s.scalar(select(PageRow).where(PageRow.url == SITE + "a.html"))
        assert sorted(s.scalars(select(LinkRow.target_url).where(LinkRow.page_id == a.id))) == [SITE + "x.html",
                                                                                                  SITE + "y.html"]
        assert s.scalar(select(TargetRow.status).where(TargetRow.url == SITE + "a.html")) == 200   # the first result


def test_a_carried_version_does_not_collide_with_the_page_this_scan_stored(sessions):
    site_id, scan1, scan2 = setup(sessions)
    old = ScanStore(sessions, scan1)
    page(old, site_id, SITE + "c.html", b"<html>old</html>", [SITE + "x.html"])
    target(old, SITE + "x.html", 200)
    old.flush()
    with sessions() as s:
        old_id = s.scalar(select(PageRow.id).where(PageRow.url == SITE + "c.html"))
        old_target = s.scalar(select(TargetRow.id).where(TargetRow.url == SITE + "x.html"))

    fresh = ScanStore(sessions, scan2)
    page(fresh, site_id, SITE + "c.html", b"<html>new</html>", [SITE + "y.html"])
    target(fresh, SITE + "x.html", 404)
    fresh.flush()
    # A second process answered 304 for the same page, and carried the old link result.
    late = ScanStore(sessions, scan2)
    late.carry_page(old_id, 1, AT, True)
    late.carry_target(SITE + "x.html", old_target)
    late.flush()
    late.carry_page(old_id, 1, AT, True)   # and once more: still nothing new
    late.flush()

    assert counts(sessions, scan2) == (1, 1, 1)
    assert counts(sessions, scan1) == (1, 1, 1)   # the old version stays the old scan's
    with sessions() as s:
        assert s.scalar(select(TargetRow.status).where(TargetRow.scan_id == scan2)) == 404
