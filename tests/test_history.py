"""Finding status as of a scan (DESIGN §4: history is never rewritten) and the review trail.

Scans are merged in-process with `merge_findings`, as `govcheck scan` does at its end, so each
case states which scan saw what and checks what `findings --scan N` reports afterwards."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from govcheck.export import scan_findings
from govcheck.findings import Finding
from govcheck.history import findings_at
from govcheck.lifecycle import merge_findings
from govcheck.review import ReviewError, record_review
from govcheck.store.engine import open_db, session_factory
from govcheck.store.schema import ReviewRow, ScanRow

SITE = "http://www.hist.gov.cn/"
UNIT = "历史测试单位"
COVERED = {("site", SITE, "link_broken"), ("site", SITE, "word_typo"), ("site", SITE, "link_undetermined")}


def broken(name: str, evidence: str = "HTTP 404") -> Finding:
    return Finding("link_broken", SITE, f"{SITE}{name}", evidence, {"status": 404}).placed(UNIT, "site", SITE)


class History:
    """A database and a clock: `scan(...)` merges one scan started at the next tick."""

    def __init__(self, tmp_path):
        self.sessions = session_factory(open_db(f"sqlite:///{tmp_path / 'h.db'}"))
        self.clock = dt.datetime(2024, 4, 1, 1, 30)

    def tick(self, hours: int = 1) -> dt.datetime:
        self.clock += dt.timedelta(hours=hours)
        return self.clock

    def scan(self, *observed: Finding, as_of: dt.date | None = None) -> int:
        started = self.tick(24)
        with self.sessions.begin() as s:
            row = ScanRow(started_at=started, finished_at=started, as_of=as_of or started.date(), status="done",
                          units=[UNIT])
            s.add(row)
            s.flush()
            merge_findings(s, row, list(observed), COVERED, started)
            return row.id

    def at(self, scan_id: int) -> dict[str, dict]:
        with self.sessions() as s:
            return {r["subject"].rsplit("/", 1)[-1]: r for r in scan_findings(s, s.get(ScanRow, scan_id))}

    def review(self, ids, action, note=None, by="张三"):
        with self.sessions.begin() as s:
            return record_review(s, ids, action, note=note, by=by, at=self.tick())


@pytest.fixture
def hist(tmp_path):
    return History(tmp_path)


def test_status_of_an_old_scan_survives_later_scans(hist):
    s1 = hist.scan(broken("a"), broken("b"))
    before = hist.at(s1)
    s2 = hist.scan(broken("a"))                       # b repaired
    s3 = hist.scan(broken("a"), broken("b"))          # b broken again: 复现
    s4 = hist.scan(broken("a"))
    assert hist.at(s1) == before
    assert {k: r["status"] for k, r in before.items()} == {"a": "open", "b": "open"}
    assert hist.at(s2)["b"]["status"] == "fixed"
    third = hist.at(s3)
    assert third["b"]["status"] == "open" and third["b"]["reopened"] and third["b"]["detail"]["reopened"]
    assert not third["a"]["reopened"]
    assert hist.at(s4)["b"]["status"] == "fixed" and not hist.at(s4)["b"]["reopened"]
    assert hist.at(s2)["a"]["last_seen"] < hist.at(s3)["a"]["last_seen"]
    assert hist.at(s1)["a"]["last_seen"] == before["a"]["last_seen"]


def test_evidence_is_shown_as_the_scan_saw_it(hist):
    s1 = hist.scan(broken("a", "HTTP 404"))
    s2 = hist.scan(broken("a", "HTTP 500"))
    s3 = hist.scan(broken("a", "HTTP 500"))           # unchanged: no new version row
    assert hist.at(s1)["a"]["evidence"] == "HTTP 404"
    assert hist.at(s2)["a"]["evidence"] == hist.at(s3)["a"]["evidence"] == "HTTP 500"
    from govcheck.store.schema import FindingVersionRow
    with hist.sessions() as s:
        assert len(s.scalars(select(FindingVersionRow)).all()) == 2


def test_reviews_count_for_the_scan_they_follow_not_earlier_ones(hist):
    s1 = hist.scan(broken("a"), broken("b"))
    ids = {k: r["id"] for k, r in hist.at(s1).items()}
    hist.review([ids["a"]], "ignore", "内网地址")      # the morning after scan 1
    assert hist.at(s1)["a"]["status"] == "ignored"
    s2 = hist.scan(broken("a"), broken("b"))
    hist.review([ids["b"]], "ignore", "误报")          # after scan 2 started: scan 1 keeps b open
    assert hist.at(s1)["b"]["status"] == "open"
    assert hist.at(s2)["b"]["status"] == "ignored" and hist.at(s2)["a"]["status"] == "ignored"


def test_every_review_is_a_row_and_notes_are_never_erased(hist):
    s1 = hist.scan(broken("a"))
    fid = hist.at(s1)["a"]["id"]
    hist.review([fid], "ignore", "内网系统", by="张三")
    hist.review([fid], "confirm", by="李四")           # no note: the first one stays
    with hist.sessions() as s:
        trail = s.scalars(select(ReviewRow).where(ReviewRow.finding_id == fid).order_by(ReviewRow.id)).all()
    assert [(r.action, r.by, r.note) for r in trail] == [("ignore", "张三", "内网系统"), ("confirm", "李四", None)]
    rec = hist.at(s1)["a"]
    assert rec["status"] == "open" and rec["review"] == "confirm" and rec["reviewed_by"] == "李四"
    assert rec["review_note"] == "内网系统"


def test_ignore_then_confirm_of_a_fixed_finding_stays_fixed(hist):
    hist.scan(broken("a"))
    s2 = hist.scan()
    fid = hist.at(s2)["a"]["id"]
    assert hist.at(s2)["a"]["status"] == "fixed"
    hist.review([fid], "ignore")
    hist.review([fid], "confirm")
    assert hist.at(s2)["a"]["status"] == "fixed"
    with hist.sessions() as s:
        from govcheck.store.schema import FindingRow
        assert s.get(FindingRow, fid).status == "fixed"


def test_reopen_of_a_finding_a_scan_called_fixed(hist):
    hist.scan(broken("a"))
    s2 = hist.scan()
    fid = hist.at(s2)["a"]["id"]
    hist.review([fid], "reopen", "单位称已整改，人工核查仍存在")
    rec = hist.at(s2)["a"]
    assert rec["status"] == "open" and rec["reopened"]
    s3 = hist.scan()                                  # the next scan decides again: fixed
    assert hist.at(s3)["a"]["status"] == "fixed"


def test_ignored_stays_ignored_when_seen_again_and_withdrawing_it_restores_the_scans_view(hist):
    s1 = hist.scan(broken("a"))
    fid = hist.at(s1)["a"]["id"]
    hist.review([fid], "ignore")
    s2 = hist.scan(broken("a"))
    assert hist.at(s2)["a"]["status"] == "ignored"
    s3 = hist.scan()                                  # gone while ignored: the scans call it fixed
    hist.review([fid], "reopen")
    assert hist.at(s3)["a"]["status"] == "fixed"


def test_review_of_several_ids_at_once_and_unknown_ids_write_nothing(hist):
    s1 = hist.scan(broken("a"), broken("b"))
    ids = [r["id"] for r in hist.at(s1).values()]
    with pytest.raises(ReviewError, match="no finding with id 999"):
        hist.review(ids + [999], "ignore")
    with pytest.raises(ReviewError, match="action"):
        hist.review(ids, "delete")
    with hist.sessions() as s:
        assert s.scalars(select(ReviewRow)).all() == []
    out = hist.review(ids, "confirm", "确认")
    assert [o.finding_id for o in out] == ids and all(o.status == "open" for o in out)


def test_findings_at_limits_to_given_ids(hist):
    s1 = hist.scan(broken("a"), broken("b"))
    with hist.sessions() as s:
        scan = s.get(ScanRow, s1)
        all_ids = [st.id for st in findings_at(s, scan)]
        assert [st.id for st in findings_at(s, scan, [all_ids[1]])] == [all_ids[1]]


def test_unit_lists_summary_and_notice_count_ignored_and_reopened(hist, tmp_path):
    from govcheck.reports import write_reports

    hist.scan(broken("a"), broken("b"), broken("c"))
    hist.scan(broken("a"))                            # b, c repaired
    s3 = hist.scan(broken("a"), broken("b"), broken("c"))   # both back: 复现 2
    ids = {k: r["id"] for k, r in hist.at(s3).items()}
    hist.review([ids["c"]], "ignore", "误报")
    with hist.sessions() as s:
        write_reports(s, s.get(ScanRow, s3), tmp_path / "r")
    page = (tmp_path / "r" / f"问题清单-{UNIT}.html").read_text(encoding="utf-8")
    assert "已忽略 1 条" in page and "其中复现 1 条" in page
    assert f'id="f{ids["c"]}"' not in page and f'id="f{ids["b"]}"' in page
    summary = (tmp_path / "r" / "巡检概况.html").read_text(encoding="utf-8")
    assert "复现 1 条" in summary and "<h2>复现（1）</h2>" in summary
    notice = (tmp_path / "r" / "通报初稿.md").read_text(encoding="utf-8")
    assert "复现）1 条" in notice and f"{UNIT}（1 条）" in notice.split("复现问题")[1]


def test_review_only_findings_reach_units_once_confirmed_and_count_from_then(hist, tmp_path):
    from govcheck.reports import write_reports

    undetermined = Finding("link_undetermined", SITE, f"{SITE}waf", "HTTP 403", {}).placed(UNIT, "site", SITE)
    s1 = hist.scan(broken("a"), undetermined, as_of=dt.date(2024, 4, 1))
    fid = hist.at(s1)["waf"]["id"]

    def report(scan_id, out):
        with hist.sessions() as s:
            write_reports(s, s.get(ScanRow, scan_id), tmp_path / out, deadline=15)
        return ((tmp_path / out / f"问题清单-{UNIT}.html").read_text(encoding="utf-8"),
                (tmp_path / out / "通报初稿.md").read_text(encoding="utf-8"))

    s2 = hist.scan(broken("a"), undetermined, as_of=dt.date(2024, 4, 20))
    page, notice = report(s2, "r2")
    assert f'id="f{fid}"' not in page                   # 403: staff review only, never 逾期 for units
    assert "超过15天仍未整改的问题 1 条" in notice          # a.html only
    hist.review([fid], "confirm", "人工核实确为失效链接")
    hist.clock = dt.datetime(2024, 4, 20, 9)           # confirmed on 04-20
    with hist.sessions.begin() as s:
        s.get(ReviewRow, 1).at = hist.clock
    s3 = hist.scan(broken("a"), undetermined, as_of=dt.date(2024, 4, 30))
    page, notice = report(s3, "r3")
    assert f'id="f{fid}"' in page
    assert "超过15天仍未整改的问题 1 条" in notice          # 10 days since confirmation: not yet overdue


def test_notice_is_dated_by_its_scan_or_date(hist, tmp_path):
    from conftest import govcheck

    from govcheck.reports import write_reports

    s1 = hist.scan(broken("a"), as_of=dt.date(2024, 4, 19))
    with hist.sessions() as s:
        write_reports(s, s.get(ScanRow, s1), tmp_path / "r")
        write_reports(s, s.get(ScanRow, s1), tmp_path / "d", notice_date=dt.date(2024, 5, 6))
    assert (tmp_path / "r" / "通报初稿.md").read_text(encoding="utf-8").rstrip().endswith("2024年4月19日")
    assert (tmp_path / "d" / "通报初稿.md").read_text(encoding="utf-8").rstrip().endswith("2024年5月6日")
    bad = govcheck("report", "--db", str(tmp_path / "h.db"), "-o", str(tmp_path / "x"), "--date", "2024-02-30", check=False)
    assert bad.returncode == 2 and "--date" in bad.stderr
