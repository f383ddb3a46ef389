"""The catalogue is the single source of truth: every code declared once, with a runner for
each input it declares, its fixture folder with firing and quiet cases, and the README's table
generated from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import checks  # noqa: F401
from checks.registry import (
    CHECKS,
    DETAILS,
    FAMILIES,
    INPUTS,
    NOTICE_SECTIONS,
    RUNNERS,
    markdown_table,
    notice_sections,
    register,
)

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_check_is_fully_declared():
    for code, spec in CHECKS.items():
        assert re.fullmatch(r"[a-z]+_[a-z_]+", code)
        assert spec.name and spec.rule and spec.source, code
        assert spec.family in FAMILIES and spec.inputs and all(i in INPUTS for i in spec.inputs), code
        assert spec.notice is None or spec.notice in NOTICE_SECTIONS


def test_every_declared_input_has_a_runner_and_every_runner_a_declared_input():
    for code, spec in CHECKS.items():
        for kind in spec.inputs:
            assert any(code in r.codes for r in RUNNERS[kind]), f"{code}: no runner on {kind!r}"
    for kind, runners in RUNNERS.items():
        for r in runners:
            assert all(kind in CHECKS[c].inputs for c in r.codes)


def test_every_check_has_firing_and_quiet_fixtures():
    for code, spec in CHECKS.items():
        folder = spec.fixtures
        assert folder.is_dir(), f"{code}: no fixture folder {folder}"
        assert list(folder.glob("fire-*.yaml")), f"{code}: no case that must fire in {folder}"
        assert list(folder.glob("quiet-*.yaml")), f"{code}: no case that must stay quiet in {folder}"
    for folder in spec.fixtures.parent.iterdir():
        assert not folder.is_dir() or folder.name in CHECKS, f"fixture folder for unknown check {folder.name}"


def test_readme_table_is_the_catalogue():
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- checks:begin -->\n", 1)[1].split("<!-- checks:end -->", 1)[0]
    assert block == markdown_table(), "README's table of checks differs from the catalogue: paste `python -m checks`"


def test_notice_sections_come_from_the_catalogue():
    sections = {title: codes for title, codes, _ in notice_sections()}
    counted = {c for codes in sections.values() for c in codes}
    assert counted == {c for c, s in CHECKS.items() if s.notice} | {c for c, s in CHECKS.items() if "post" in s.inputs}
    assert "link_undetermined" not in counted     # for review only, never counted in a 通报
    assert sections["错别字及严重表述问题"] == ("word_serious", "word_typo", "word_sensitive")


# --------------------------------------------------------------------------- outputs read the catalogue

def _detail_fields(detail: dict) -> set[str]:
    """The field names in a detail, those of records listed in it too (recent_failures: [{at, …}]);
    a dict value is data keyed by data (codes: {页脚: …}), not fields."""
    keys = set(detail)
    for v in detail.values():
        if isinstance(v, list):
            keys |= {k for x in v if isinstance(x, dict) for k in _detail_fields(x)}
    return keys


def test_every_detail_field_a_check_reports_has_a_label():
    # The 详情 column names each field in Chinese (DETAILS); a check that starts reporting a new
    # field without declaring its label would show people a bare key.
    import yaml
    from test_check_fixtures import CASES, run

    unlabelled = {}
    for path in CASES:
        if path.stem.startswith("fire"):
            for f in run(path.parent.name, yaml.safe_load(path.read_text(encoding="utf-8"))):
                for key in _detail_fields(f.detail) - set(DETAILS):
                    unlabelled.setdefault(key, set()).add(f"{path.parent.name}/{path.name}")
    assert not unlabelled, f"detail fields without a label in checks.registry.DETAILS: {unlabelled}"


@pytest.fixture
def new_check():
    """A check registered the way a family module does, removed again afterwards."""
    saved_checks, saved_runners = dict(CHECKS), {k: list(v) for k, v in RUNNERS.items()}
    spec = register("privacy_fax", "公开传真号码（测试项）", "deduct", "页面不得公开个人传真号码。", "测试依据",
                    key_on_url=True, family="privacy", inputs=("page",), notice="privacy",
                    shown_on_page=True)
    yield spec
    CHECKS.clear()
    CHECKS.update(saved_checks)
    RUNNERS.clear()
    RUNNERS.update(saved_runners)


def test_evidence_screenshots_take_the_checks_the_catalogue_says_a_page_shows(new_check):
    from govcheck.screenshots import screenshot_checks

    shown = screenshot_checks()
    assert new_check.code in shown and "word_typo" in shown and "link_broken" in shown
    # Availability is judged from probes and accounts live on their platforms: no page shows them.
    assert not {"site_unreachable", "account_stale", "account_unreachable"} & set(shown)
    assert all(CHECKS[c].shown_on_page for c in shown)


def test_a_new_catalogue_entry_reaches_every_output(new_check, tmp_path):
    """Nothing beyond the catalogue entry: the 问题清单 (HTML, XLSX), the scan summary page, the
    通报's section and the printed summary all name the new check from the catalogue."""
    import datetime as dt
    import io
    from types import SimpleNamespace

    import openpyxl
    from rich.console import Console

    from govcheck.export import scan_findings
    from govcheck.findings import Finding
    from govcheck.lifecycle import merge_findings
    from govcheck.reports import write_reports
    from govcheck.store.engine import open_db, session_factory
    from govcheck.store.schema import ScanRow
    from govcheck.summary import print_summary

    site, unit = "http://www.fax.gov.cn/", "传真测试单位"
    sessions = session_factory(open_db(f"sqlite:///{tmp_path / 'n.db'}"))
    started = dt.datetime(2024, 4, 19, 1, 30)
    found = Finding(new_check.code, f"{site}a.html", "fax", "页面公开了传真号码【0477-1234567】", {"count": 1})
    with sessions.begin() as s:
        scan = ScanRow(started_at=started, finished_at=started, as_of=started.date(), status="done", units=[unit])
        s.add(scan)
        s.flush()
        merge_findings(s, scan, [found.placed(unit, "site", site)], {("site", site, new_check.code)}, started)
        scan_id = scan.id
    with sessions() as s:
        scan = s.get(ScanRow, scan_id)
        [record] = scan_findings(s, scan)
        write_reports(s, scan, tmp_path / "r")
    assert record["check_name"] == new_check.name and record["severity"] == "deduct"
    out = tmp_path / "r"
    assert new_check.name in (out / f"问题清单-{unit}.html").read_text(encoding="utf-8")
    sheet = openpyxl.load_workbook(out / f"问题清单-{unit}.xlsx").active
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, [c.value for c in sheet[2]]))
    assert row["检查项"] == new_check.name and row["级别"] == "扣分" and row["详情"] == "数量：1"
    assert new_check.name in (out / "巡检概况.html").read_text(encoding="utf-8")
    notice = (out / "通报初稿.md").read_text(encoding="utf-8")
    assert f"{NOTICE_SECTIONS['privacy'][0]}。本次监测发现相关问题 1 条，涉及的单位有：{unit}（1 条）" in notice
    console = Console(file=io.StringIO(), width=200)
    outcome = SimpleNamespace(scan_id=scan_id, as_of=started.date(), site_pages={site: 1}, duration=1.0,
                              merge=SimpleNamespace(new=1), site_errors={})
    print_summary(console, [record], outcome)
    assert f"{new_check.name} 1" in console.file.getvalue()
