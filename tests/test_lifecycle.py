"""The monitoring workflow over three scans of a loopback site whose pages change:
open → fixed, ignored stays ignored (and out of unit lists and deductions), overdue after the
deadline, and the reports parsed back."""

import json

from conftest import Route, findings_jsonl, govcheck, html, write_registry
from openpyxl import load_workbook

HOST = "www.life.gov.cn"


def site(broken: list[str], typo: bool) -> dict[str, Route]:
    links = "".join(f'<a href="/{b}">链接{b}</a>' for b in broken)
    text = "各单位要再接再励，做好工作。" if typo else "各单位要再接再厉，做好工作。"
    routes = {"/": Route(body=html("生命周期测试区", f"<p>{text}</p>{links}<a href='/ok.html'>正常</a>")),
              "/ok.html": Route(body=html("正常", "<p>正文</p>" * 20))}
    return routes


def test_three_scans(tmp_path, serve):
    server = serve({HOST: site(["a.html", "b.html", "c.html"], typo=True)})
    reg = write_registry(tmp_path / "sites.yaml", [{"name": "生命周期单位", "group": "部门",
                                                    "sites": [{"url": f"http://{HOST}:{server.port}/"}]}],
                         resolve={HOST: "127.0.0.1"})
    db = str(tmp_path / "g.db")

    # Scan 1: three broken links and a typo, all open.
    govcheck("scan", str(reg), "--db", db, "--as-of", "2024-04-01")
    first = {(r["check"], r["subject"].rsplit("/", 1)[-1]): r for r in findings_jsonl(db) if r["check"] in ("link_broken", "word_typo")}
    assert set(first) == {("link_broken", "a.html"), ("link_broken", "b.html"), ("link_broken", "c.html"), ("word_typo", "再接再励")}
    # A reviewer rules c.html out (the link is to an intranet system).
    ignored_id = first[("link_broken", "c.html")]["id"]
    out = govcheck("review", str(ignored_id), "--ignore", "--note", "内网系统，外网无法访问属正常", "--db", db).stdout
    assert "ignored" in out

    # Scan 2: a.html repaired; typo corrected.
    server.hosts[HOST] = site(["b.html", "c.html"], typo=False) | {"/a.html": Route(body=html("已修复", "<p>x</p>" * 20))}
    govcheck("scan", str(reg), "--db", db, "--as-of", "2024-04-08")
    second = {(r["check"], r["subject"].rsplit("/", 1)[-1]): r for r in findings_jsonl(db) if r["check"] in ("link_broken", "word_typo")}
    assert second[("link_broken", "a.html")]["status"] == "fixed"
    assert second[("word_typo", "再接再励")]["status"] == "fixed"
    assert second[("link_broken", "b.html")]["status"] == "open"
    assert second[("link_broken", "c.html")]["status"] == "ignored"

    # Scan 3, 20 days after first notice: the typo is back, b.html still broken → overdue.
    server.hosts[HOST] = site(["b.html", "c.html"], typo=True) | {"/a.html": Route(body=html("已修复", "<p>x</p>" * 20))}
    govcheck("scan", str(reg), "--db", db, "--as-of", "2024-04-21")
    third = {(r["check"], r["subject"].rsplit("/", 1)[-1]): r for r in findings_jsonl(db) if r["check"] in ("link_broken", "word_typo")}
    assert third[("word_typo", "再接再励")]["status"] == "open"                 # reopened, same identity
    assert third[("word_typo", "再接再励")]["id"] == first[("word_typo", "再接再励")]["id"]
    assert third[("link_broken", "c.html")]["status"] == "ignored"             # seen again, still ignored
    assert ("link_broken", "a.html") not in third                              # fixed in scan 2, not seen since

    # Reports of scan 3 with a 15-day deadline.
    govcheck("report", "--db", db, "-o", str(tmp_path / "r"), "--deadline", "15", "--scheme", "otq-2020-detail")
    page = (tmp_path / "r" / "问题清单-生命周期单位.html").read_text(encoding="utf-8")
    # Units see what a reviewer did not rule out; review-only items (site_https here) once confirmed.
    shown = [r for r in findings_jsonl(db) if r["status"] != "ignored" and r["severity"] != "review"]
    for r in shown:
        assert f'id="f{r["id"]}"' in page                                         # every finding is listed
    assert f'id="f{ignored_id}"' not in page                                      # never the ignored one
    assert "逾期" in page and "<mark>再接再励</mark>" in page
    assert 'href="snapshots/' in page and "<script" not in page and 'http-equiv="refresh"' not in page  # CSP meta only (issue 11)
    ws = load_workbook(tmp_path / "r" / "问题清单-生命周期单位.xlsx").active
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, [c.value for c in row])) for row in ws.iter_rows(min_row=2)]
    assert len(rows) == len(shown) and {r["编号"] for r in rows} == {r["id"] for r in shown}
    overdue = {r["编号"]: r["逾期未整改"] for r in rows}
    assert overdue[third[("link_broken", "b.html")]["id"]] == "是"              # open since 04-01: 20 days
    assert overdue[third[("word_typo", "再接再励")]["id"]] == "是"              # first notice 04-01, back again
    summary = (tmp_path / "r" / "巡检概况.html").read_text(encoding="utf-8")
    assert "<svg" in summary and "本次新增" in summary and "<script" not in summary
    notice = (tmp_path / "r" / "通报初稿.md").read_text(encoding="utf-8")
    assert "生命周期单位（" in notice and "## 附件：评分情况" in notice
    snapshots = list((tmp_path / "r" / "snapshots").glob("*.html"))
    assert snapshots and all(s.read_bytes().startswith(b"<meta http-equiv=\"Content-Security-Policy\"") for s in snapshots)

    # The ignored finding never reaches deductions.
    govcheck("score", str(reg), "--scheme", "national-2019", "--db", db, "-o", str(tmp_path / "s.csv"))
    deductions = (tmp_path / "s-扣分记录.csv").read_text(encoding="utf-8-sig")
    assert json.dumps(ignored_id) not in deductions.replace(",", " ").split()


def test_report_bad_input(tmp_path):
    proc = govcheck("report", "--db", str(tmp_path / "none.db"), "-o", str(tmp_path / "r"), check=False)
    assert proc.returncode == 2 and "does not exist" in proc.stderr
