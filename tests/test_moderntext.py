"""tests/moderntext: restore from a mirror, verify, read — on a tiny repository made here, so the
logic is tested without the (uncommitted) corpus; and the committed SOURCES.csv is well-formed."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "moderntext"))
import corpus  # noqa: E402

PAGE = "<html><body><p>国务院办公厅关于推进政务新媒体健康有序发展的意见</p></body></html>".encode()
RECORD = json.dumps({"content": "政府工作报告\n\n各位代表：\n\n本作品是中华人民共和国的法律"}, ensure_ascii=False).encode()


@pytest.fixture
def mirror(tmp_path: Path) -> tuple[Path, list[dict[str, str]]]:
    work = tmp_path / "work"
    work.mkdir()
    (work / "page.html").write_bytes(PAGE)
    (work / "dump.jsonl").write_bytes(b'{"x": 1}\n' + RECORD + b"\n")
    git = ["git", "-C", str(work), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(git[:3] + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-qm", "x"], check=True)
    bare = tmp_path / "mirror" / "owner+name" / "repo"
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)

    def blob(path: str) -> str:
        return subprocess.run(git + ["rev-parse", f"HEAD:{path}"], capture_output=True, text=True, check=True).stdout.strip()

    start = len(b'{"x": 1}\n')
    rows = [
        {"file": "p.html", "repo": "owner/name", "path": "page.html", "commit": "HEAD", "blob": blob("page.html"),
         "sha256": hashlib.sha256(PAGE).hexdigest(), "bytes": "", "format": "html", "half": "measurement"},
        {"file": "r.jsonl", "repo": "owner/name", "path": "dump.jsonl", "commit": "HEAD", "blob": blob("dump.jsonl"),
         "sha256": hashlib.sha256(RECORD).hexdigest(), "bytes": f"{start}-{start + len(RECORD)}",
         "format": "wikisource-jsonl", "half": "calibration"},
    ]
    return tmp_path / "mirror", rows


def test_restore_verify_and_read(mirror, tmp_path):
    path, rows = mirror
    files = tmp_path / "files"
    assert corpus.verify(rows, files) == {"p.html": "MISSING", "r.jsonl": "MISSING"}
    assert corpus.texts("measurement", files, rows) == ([], 1)      # absent: nothing read, counted
    assert corpus.restore(rows, path, files) == {"p.html": "written", "r.jsonl": "written"}
    assert corpus.verify(rows, files) == {"p.html": "ok", "r.jsonl": "ok"}
    assert (files / "r.jsonl").read_bytes() == RECORD                 # the byte range, verbatim
    assert corpus.texts("calibration", files, rows) == ([("r.jsonl", "政府工作报告\n\n各位代表：\n\n")], 0)  # footer cut
    assert "政务新媒体" in corpus.texts("measurement", files, rows)[0][0][1]


def test_changed_unlisted_and_failed(mirror, tmp_path):
    path, rows = mirror
    files = tmp_path / "files"
    corpus.restore(rows, path, files)
    (files / "p.html").write_bytes(PAGE.replace("推进".encode(), "推近".encode()))
    (files / "stray.html").write_bytes(b"x")
    assert corpus.verify(rows, files) == {"p.html": "CHANGED", "r.jsonl": "ok", "stray.html": "UNLISTED"}
    assert corpus.texts("measurement", files, rows) == ([], 1)      # a changed file is never read
    gone = [dict(rows[0], blob="0" * 40)]
    assert corpus.restore(gone, path, files)["p.html"].startswith("FAILED")


def xlsx(cells: dict[str, str], sheet: str = "Policies") -> bytes:
    """A minimal spreadsheet: one sheet, its cells as shared strings (as Excel writes them)."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    strings = "".join(f"<si><t>{v}</t></si>" for v in cells.values())
    row_cells = "".join(f'<c r="{ref}" t="s"><v>{i}</v></c>' for i, ref in enumerate(cells))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("xl/workbook.xml", f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
                                      f'<sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                                                 'relationships"><Relationship Id="rId1" Target="worksheets/sheet1.xml"/>'
                                                 '</Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", f'<worksheet xmlns="{main}"><sheetData><row r="2">{row_cells}</row>'
                                               f'</sheetData></worksheet>')
        z.writestr("xl/sharedStrings.xml", f'<sst xmlns="{main}">{strings}</sst>')
    return buf.getvalue()


def test_spreadsheet_cell_is_cut_as_the_file(tmp_path):
    # one policy document per cell of a researcher's spreadsheet: the file is the cell's text
    body = "各省、自治区、直辖市工业和信息化主管部门：现将《实施方案》印发给你们，请认真贯彻落实。"
    data = xlsx({"E2": "Notice on the plan", "F2": body})
    assert corpus.cut(data, {"bytes": "Policies!F2"}) == body.encode()
    assert corpus.text_of({"format": "text", "file": "p.txt"}, corpus.cut(data, {"bytes": "Policies!F2"})) == body


def test_sources_file():
    rows = corpus.sources()
    assert len({r["file"] for r in rows}) == len(rows)
    for r in rows:
        assert re.fullmatch(r"[0-9a-f]{40}", r["commit"]) and re.fullmatch(r"[0-9a-f]{40}", r["blob"])
        assert re.fullmatch(r"[0-9a-f]{64}", r["sha256"])
        assert r["half"] in corpus.HALVES and r["format"] in ("html", "wikisource-jsonl", "text")
        assert re.fullmatch(r"(\d+-\d+|[^!]+![A-Z]+\d+)?", r["bytes"])     # a byte range, a SHEET!CELL or nothing
        assert r["licence"] and r["source"] and int(r["date"][:4]) >= 2015
    # split by source, never by page: no source (a site, or one author's documents) in both halves
    halves = {}
    for r in rows:
        halves.setdefault(r["source"], set()).add(r["half"])
    assert all(len(h) == 1 for h in halves.values())
    # and none of the real pages' files
    real = {(r["repo"], r["blob"]) for r in corpus.sources(Path(__file__).parent / "realpages" / "SOURCES.csv")}
    assert not real & {(r["repo"], r["blob"]) for r in rows}
