"""Evidence snapshots handed to units (issue 12, item 8): a banner, the evidence marked in place,
personal data masked, attachments as their own masked text — and the raw copy kept for staff."""

from __future__ import annotations

import datetime as dt
import io
import zlib

import openpyxl
from sqlalchemy import select

from checks.privacy import mask_personal_data
from govcheck.findings import Finding
from govcheck.lifecycle import merge_findings
from govcheck.reports import write_reports
from govcheck.store.engine import open_db, session_factory
from govcheck.store.schema import ScanRow, SiteRow, SnapshotRow, UnitRow
from govcheck.store.writer import ScanStore

ID = "11010519491231002X"          # GB 11643 checksum valid (the standard's sample)
SITE = "http://www.ev.gov.cn/"
UNIT = "证据测试单位"
PAGE = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>公示</title></head><body>"
        f"<p>各单位要再接再励，做好工作。</p><p>申请人张三，身份证号{ID}。</p>"
        f"<a href='/gone.html'>已删除的文件</a></body></html>").encode()


def roster() -> bytes:
    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "身份证号"])
    wb.active.append(["李四", ID])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_mask_personal_data_masks_what_the_check_reports():
    assert mask_personal_data(f"身份证号{ID}，电话13947712345") == "身份证号110105********002X，电话139****2345"
    assert mask_personal_data("备案号15081599004-00001") == "备案号15081599004-00001"


def test_unit_snapshots_have_banner_highlight_masking_and_attachments_as_text(tmp_path):
    sessions = session_factory(open_db(f"sqlite:///{tmp_path / 'e.db'}"))
    started = dt.datetime(2024, 4, 19, 1, 30)
    with sessions.begin() as s:
        unit = UnitRow(name=UNIT, group="部门")
        s.add(unit)
        s.flush()
        site = SiteRow(unit_id=unit.id, url=SITE)
        scan = ScanRow(started_at=started, finished_at=started, as_of=started.date(), status="done", units=[UNIT])
        s.add_all([site, scan])
        s.flush()
        site_id, scan_id = site.id, scan.id
    store = ScanStore(sessions, scan_id)
    page_hash = store.add_page(site_id, SITE, PAGE, final_url=SITE, status=200, content_type="text/html; charset=utf-8",
                               fetched_at=started)
    store.add_attachment(site_id, f"{SITE}files/名单.xlsx", roster(),
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    store.flush()
    with sessions() as s:
        att_hash = next(h for h in s.scalars(select(SnapshotRow.content_hash)) if h != page_hash)
    masked = "110105********002X"
    observed = [
        Finding("word_typo", SITE, "再接再励", "各单位要【再接再励】，应为“再接再厉”", {}).placed(UNIT, "site", SITE, page_hash),
        Finding("link_broken", SITE, f"{SITE}gone.html", "HTTP 404", {}).placed(UNIT, "site", SITE, page_hash),
        Finding("privacy_leak", SITE, "id_card", f"页面公开了 1 处未脱敏身份证号，如：…{masked}…",
                {"samples": [masked]}).placed(UNIT, "site", SITE, page_hash),
        Finding("privacy_leak", f"{SITE}files/名单.xlsx", "id_card", f"附件公开了 1 处未脱敏身份证号，如：…{masked}…",
                {"samples": [masked]}).placed(UNIT, "site", SITE, att_hash),
    ]
    with sessions.begin() as s:
        merge_findings(s, s.get(ScanRow, scan_id), observed, set(), started)
    with sessions() as s:
        write_reports(s, s.get(ScanRow, scan_id), tmp_path / "r")
    files = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "r" / "snapshots").iterdir()}
    assert len(files) == 4
    for text in files.values():
        assert text.startswith('<meta http-equiv="Content-Security-Policy"')
        assert ID not in text and masked in text                       # masked in every snapshot
        assert 'id="govcheck-evidence"' in text and "抓取时间" in text and SITE in text and "规则" in text
    typo = files["f1.html"]
    assert '<mark id="govcheck-hit"' in typo and ">再接再励</mark>" in typo and "错别字" in typo
    assert "2024-04-19 01:30:00" in typo
    link = files["f2.html"]
    assert 'a[href$="/gone.html"]' in link
    [attachment] = [name for name in files if name.endswith("名单.xlsx.html")]
    text = files[attachment]
    assert "PK" not in text[:200] and "李四" in text and "名单.xlsx" in text and "spreadsheetml" in text
    page = (tmp_path / "r" / f"问题清单-{UNIT}.html").read_text(encoding="utf-8")
    assert f'href="snapshots/{attachment}"' in page and 'href="snapshots/f1.html"' in page
    # The unit's XLSX: hyperlinks, a snapshot link, readable details, Chinese values.
    ws = openpyxl.load_workbook(tmp_path / "r" / f"问题清单-{UNIT}.xlsx").active
    head = [c.value for c in ws[1]]
    rows = [dict(zip(head, row)) for row in ws.iter_rows(min_row=2)]
    assert {r["对象类型"].value for r in rows} == {"网站"}
    assert all(r["页面地址"].hyperlink.target.startswith(SITE) for r in rows)
    assert all(r["快照"].value == "查看快照" and r["快照"].hyperlink.target.startswith("snapshots/") for r in rows)
    privacy = next(r for r in rows if r["检查项代码"].value == "privacy_leak")
    assert privacy["详情"].value == f"示例：{masked}" and "{" not in privacy["详情"].value
    # The raw copy stays in the database for staff.
    with sessions() as s:
        raw = zlib.decompress(s.get(SnapshotRow, page_hash).data)
    assert ID.encode() in raw


def test_notice_docx_is_an_a4_official_document_from_the_same_model(tmp_path):
    """GB/T 9704: A4, 37/35/28/26 mm margins, 方正小标宋 title, 仿宋_GB2312 三号 body, 黑体 headings,
    四号 tables and page numbers; the same paragraphs as the Markdown (no parse-back)."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    from govcheck.notice import Notice

    notice = Notice()
    notice.add("title", "关于2024年4月政府网站和政务新媒体监测情况的通报（初稿）")
    notice.add("heading", "一、总体情况")
    notice.add("para", "2024年4月19日，对3家单位进行了监测，共发现问题 5 条。")
    notice.add("subheading", "旗区")
    notice.add("table", rows=[["排名", "名称", "总分"], ["1", "康巴什区人民政府", "98.0"],
                              ["2", "纳林陶亥镇人民政府", "不合格（单项否决：站点无法访问）"]])
    notice.add("closing", "政务公开领导小组办公室")
    notice.add("closing", "2024年4月19日")
    path = tmp_path / "n.docx"
    notice.docx(path)
    doc = Document(str(path))
    sec = doc.sections[0]
    def mm(value):   # stored in twips: compare to a tenth of a millimetre
        return round(value / Mm(1), 1)

    assert (mm(sec.page_width), mm(sec.page_height)) == (210, 297)
    assert [mm(sec.top_margin), mm(sec.bottom_margin), mm(sec.left_margin), mm(sec.right_margin)] == [37, 35, 28, 26]

    def east_asia(run):
        return run._element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia"))

    paras = {p.text: p for p in doc.paragraphs if p.text}
    title = paras["关于2024年4月政府网站和政务新媒体监测情况的通报（初稿）"].runs[0]
    assert east_asia(title) == "方正小标宋简体" and title.font.size == Pt(22)
    heading = paras["一、总体情况"].runs[0]
    assert east_asia(heading) == "黑体" and heading.font.size == Pt(16)
    body = paras["2024年4月19日，对3家单位进行了监测，共发现问题 5 条。"].runs[0]
    assert east_asia(body) == "仿宋_GB2312" and body.font.size == Pt(16)
    assert east_asia(paras["旗区"].runs[0]) == "楷体_GB2312"
    cell = doc.tables[0].cell(2, 2).paragraphs[0].runs[0]
    assert cell.text == "不合格（单项否决：站点无法访问）" and cell.font.size == Pt(14)
    footer = sec.footer.paragraphs[0]._element.xml
    assert "PAGE" in footer and "fldChar" in footer and "—" in footer
    md = notice.markdown()
    assert all(text in md for text in paras)
    assert "| 2 | 纳林陶亥镇人民政府 | 不合格（单项否决：站点无法访问） |" in md
