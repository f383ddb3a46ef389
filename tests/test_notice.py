"""The 通报 draft: sections from the catalogue, sentences that fit what they count."""

from __future__ import annotations

import datetime as dt

from govcheck.findings import Finding
from govcheck.lifecycle import merge_findings
from govcheck.reports import build_notice, gather
from govcheck.store.engine import open_db, session_factory
from govcheck.store.schema import ScanRow

SITE, UNIT = "http://www.tb.gov.cn/", "通报测试单位"


def test_near_vetoes_are_named_by_the_kind_of_target(tmp_path):
    # A homepage failing 3–5 % of probes and an account 11 days silent are both 临近单否 (warn);
    # the first is a website's, not a 政务新媒体's.
    sessions = session_factory(open_db(f"sqlite:///{tmp_path / 'n.db'}"))
    started = dt.datetime(2024, 4, 19, 1, 30)
    found = [
        Finding("site_unreachable", SITE, None, "首页探测失败 3 次（3.0%）", {"ratio": 0.03}, "warn").placed(UNIT, "site", SITE),
        Finding("account_near_stale", "http://feed/", "某发布", "11 天未更新", {"days_left": 3}).placed(UNIT, "account", "某发布"),
    ]
    with sessions.begin() as s:
        scan = ScanRow(started_at=started, finished_at=started, as_of=started.date(), status="done", units=[UNIT])
        s.add(scan)
        s.flush()
        merge_findings(s, scan, found, set(), started)
        scan_id = scan.id
    with sessions() as s:
        text = build_notice(gather(s, s.get(ScanRow, scan_id))).markdown()
    site_part = next(p for p in text.split("\n\n") if p.startswith("（一）网站无法访问及信息不更新问题"))
    account_part = next(p for p in text.split("\n\n") if "政务新媒体更新不及时" in p)
    assert f"{UNIT}的网站临近单否" in site_part and "政务新媒体" not in site_part
    assert f"{UNIT}的政务新媒体临近单否" in account_part and "请及时更新" in account_part
