"""Merging a scan's findings while a reviewer acts, on the local PostgreSQL: the reviewer's
committed decision is never overwritten by the merge, and merging one scan twice changes nothing."""

import datetime as dt
import threading
import time

from sqlalchemy import func, select

from govcheck.findings import Finding
from govcheck.lifecycle import merge_findings
from govcheck.review import record_review
from govcheck.store.engine import open_db, session_factory
from govcheck.store.schema import FindingRow, FixRow, ScanRow, SightingRow

SITE = "http://www.merge.gov.cn/"
T0 = dt.datetime(2024, 4, 1, 2, 0, tzinfo=dt.UTC)


def broken(name: str) -> Finding:
    return Finding("link_broken", SITE, SITE + name, "HTTP 404").placed("合并单位", "site", SITE)


def new_scan(sessions, day: int) -> int:
    with sessions.begin() as s:
        scan = ScanRow(started_at=T0 + dt.timedelta(days=day), as_of=(T0 + dt.timedelta(days=day)).date(), status="running")
        s.add(scan)
        s.flush()
        return scan.id


def merge(sessions, scan_id: int, observed, day: int):
    with sessions.begin() as s:
        return merge_findings(s, s.get(ScanRow, scan_id), observed, {("site", SITE, "link_broken")},
                              T0 + dt.timedelta(days=day))


def test_an_ignore_committed_while_a_merge_reopens_the_finding_stays(pg_url):
    sessions = session_factory(open_db(pg_url))
    merge(sessions, new_scan(sessions, 0), [broken("a.html")], 0)   # open
    merge(sessions, new_scan(sessions, 7), [], 7)                    # fixed
    with sessions() as s:
        [fid] = s.scalars(select(FindingRow.id))
    scan3 = new_scan(sessions, 14)
    # The reviewer's transaction has written its ignore but not committed when the merge of
    # scan 3, which sees the link broken again, starts.
    reviewer = sessions()
    reviewer.begin()
    record_review(reviewer, [fid], "ignore", note="内网地址", by="审核员")
    done = threading.Event()
    result = {}

    def merge_scan3():
        result["merge"] = merge(sessions, scan3, [broken("a.html")], 14)
        done.set()

    worker = threading.Thread(target=merge_scan3)
    worker.start()
    time.sleep(1.0)
    assert not done.is_set()          # the merge waits for the reviewer's row
    reviewer.commit()
    reviewer.close()
    worker.join(timeout=30)
    assert done.is_set()
    with sessions() as s:
        row = s.get(FindingRow, fid)
        assert (row.status, row.review, row.fixed_scan_id, row.last_scan_id) == ("ignored", "ignored", None, scan3)
    assert result["merge"].reopened == 1


def test_a_merge_does_not_mark_fixed_what_a_reviewer_ignored_meanwhile(pg_url):
    sessions = session_factory(open_db(pg_url))
    merge(sessions, new_scan(sessions, 0), [broken("a.html")], 0)
    with sessions() as s:
        [fid] = s.scalars(select(FindingRow.id))
    scan2 = new_scan(sessions, 7)
    reviewer = sessions()
    reviewer.begin()
    record_review(reviewer, [fid], "ignore", by="审核员")
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("merge", merge(sessions, scan2, [], 7)))
    worker.start()
    time.sleep(1.0)
    reviewer.commit()
    reviewer.close()
    worker.join(timeout=30)
    with sessions() as s:
        row = s.get(FindingRow, fid)
        # Not seen any more: the scans' view says fixed (fixed_scan_id), the reviewer's ignore stands.
        assert (row.status, row.fixed_scan_id) == ("ignored", scan2)
    assert result["merge"].fixed == 0


def test_merging_the_same_scan_twice_changes_nothing(pg_url):
    sessions = session_factory(open_db(pg_url))
    first = new_scan(sessions, 0)
    merge(sessions, first, [broken("a.html"), broken("b.html")], 0)
    scan2 = new_scan(sessions, 7)
    once = merge(sessions, scan2, [broken("a.html"), broken("c.html")], 7)
    assert (once.new, once.fixed) == (1, 1)

    def state():
        with sessions() as s:
            rows = [(r.key, r.status, r.first_scan_id, r.last_scan_id, r.fixed_scan_id, r.last_seen)
                    for r in s.scalars(select(FindingRow).order_by(FindingRow.key))]
            return rows, s.scalar(select(func.count()).select_from(SightingRow)), \
                s.scalar(select(func.count()).select_from(FixRow))

    before = state()
    twice = merge(sessions, scan2, [broken("a.html"), broken("c.html")], 7)
    assert state() == before
    assert (twice.new, twice.fixed) == (0, 0)
