"""Modern clean official text (2015 and later), kept like tests/realpages: restore, verify, read.

    python tests/moderntext/corpus.py restore [--mirror /work/.mirror] [--files DIR]
    python tests/moderntext/corpus.py verify [--files DIR]

SOURCES.csv names every file: the repository, path, commit and git blob it comes from, the byte
range of the blob when the file is one record of a bigger one (a JSON line, an SQL column), the
sha256 of the file, its format, its half and why it may be used (README.md). The files are
third-party content and are not committed: `restore` writes them from bare clones under
MIRROR/<owner>+<name>/repo (the fetch tool's layout; `git clone --bare` gives the same) into
FILES (default tests/moderntext/files, git-ignored) and then verifies; `verify` is offline.

The halves are split by source, never by page: text of one site or one author is in one half
only, so a setting calibrated on one half meets the other's vocabulary unseen.
- calibration: for the calibration tools (wordlists/tools/calibrate_slips.py --modern DIR);
- measurement: for bench/typos.py's modern clean-text line; nothing is fitted on it.

`texts(half)` is the one place that turns a file into the text the detector reads: HTML through
the crawler's own page parsing (govcheck.page: decode_html, ParsedPage.visible_text — what the
bench reads of the real pages), a Wikisource JSON record as its `content` without Wikisource's
licence footer.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FILES = HERE / "files"
HALVES = ("calibration", "measurement")
# Wikisource appends its licence notice (本作品是中华人民共和国的法律、法规……属于公有领域) to the text
WIKISOURCE_FOOTER = "本作品是中华人民共和国的"


def sources(path: Path = HERE / "SOURCES.csv") -> list[dict[str, str]]:
    with open(path, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def git_dir(mirror: Path, repo: str) -> Path:
    path = Path(mirror) / repo.replace("/", "+") / "repo"
    return path / ".git" if (path / ".git").is_dir() else path   # some snapshots arrive as a work tree


def xlsx_cell(data: bytes, ref: str) -> str:
    """The text of one cell of a spreadsheet blob: REF is SHEET!CELL (`Central Policies Table!F12`).

    Read with the standard library (zip + the OOXML parts), not openpyxl: restore.sh runs under
    the system python3. A shared string's text is the concatenation of its runs (<t> elements)."""
    sheet_name, _, cell = ref.rpartition("!")
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
          "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        book = ET.fromstring(z.read("xl/workbook.xml"))
        rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        rel_id = next(s.get(f"{{{ns['r']}}}id") for s in book.iter(f"{{{ns['m']}}}sheet") if s.get("name") == sheet_name)
        target = next(r.get("Target") for r in rels if r.get("Id") == rel_id)
        sheet = ET.fromstring(z.read("xl/" + target.lstrip("/").removeprefix("xl/")))
        found = next(c for c in sheet.iter(f"{{{ns['m']}}}c") if c.get("r") == cell)
        if found.get("t") == "s":
            strings = ET.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", ns)
            node = strings[int(found.find("m:v", ns).text)]
        elif found.get("t") == "inlineStr":
            node = found.find("m:is", ns)
        else:
            return found.find("m:v", ns).text or ""
        return "".join(t.text or "" for t in node.iter(f"{{{ns['m']}}}t"))


def cut(data: bytes, row: dict[str, str]) -> bytes:
    """The file's bytes out of its blob: the row's byte range START-END (end exclusive), the text of
    one spreadsheet cell SHEET!CELL (UTF-8), or all."""
    if not row.get("bytes"):
        return data
    if "!" in row["bytes"]:
        return xlsx_cell(data, row["bytes"]).encode("utf-8")
    start, end = (int(n) for n in row["bytes"].split("-"))
    return data[start:end]


def restore(rows: list[dict[str, str]], mirror: Path, files: Path) -> dict[str, str]:
    """Write every row's file from its mirror: file → written | FAILED (with the reason)."""
    files.mkdir(parents=True, exist_ok=True)
    out = {}
    for row in rows:
        # the blob id, not COMMIT:PATH: the same bytes, immune to renames and odd paths
        got = subprocess.run(["git", f"--git-dir={git_dir(mirror, row['repo'])}", "cat-file", "blob", row["blob"]],
                             capture_output=True, check=False)
        if got.returncode:
            out[row["file"]] = f"FAILED {row['repo']} {row['commit']}:{row['path']}: {got.stderr.decode().strip()}"
            continue
        (files / row["file"]).write_bytes(cut(got.stdout, row))
        out[row["file"]] = "written"
    return out


def verify(rows: list[dict[str, str]], files: Path) -> dict[str, str]:
    """file → ok | MISSING | CHANGED | UNLISTED (a file in FILES that SOURCES.csv does not name)."""
    status = {}
    for row in rows:
        path = files / row["file"]
        if not path.is_file():
            status[row["file"]] = "MISSING"
        else:
            status[row["file"]] = "ok" if hashlib.sha256(path.read_bytes()).hexdigest() == row["sha256"] else "CHANGED"
    for path in sorted(files.iterdir()) if files.is_dir() else []:
        if path.is_file():
            status.setdefault(path.name, "UNLISTED")
    return status


def text_of(row: dict[str, str], raw: bytes) -> str:
    if row["format"] == "wikisource-jsonl":
        text = json.loads(raw)["content"]
        end = text.rfind(WIKISOURCE_FOOTER)
        return text[:end] if end > 0 else text
    if row["format"] == "text":
        return raw.decode("utf-8")
    if row["format"] == "html":
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        from govcheck.page import ParsedPage, decode_html
        return ParsedPage(row.get("original_url") or "http://x.gov.cn/", decode_html(raw, None)[0]).visible_text
    raise ValueError(f"{row['file']}: unknown format {row['format']!r}")


def texts(half: str, files: Path = FILES, rows: list[dict[str, str]] | None = None) -> tuple[list[tuple[str, str]], int]:
    """([(file, text)] of the half's files that are present and unchanged, how many are not)."""
    if half not in HALVES:
        raise ValueError(f"half is one of {HALVES}, not {half!r}")
    rows = [r for r in (rows if rows is not None else sources()) if r["half"] == half]
    status = verify(rows, Path(files))
    out = [(r["file"], text_of(r, (Path(files) / r["file"]).read_bytes())) for r in rows if status[r["file"]] == "ok"]
    return out, len(rows) - len(out)


def lines(half: str, files: Path = FILES) -> list[str]:
    """The half's text as non-empty lines (the unit the calibration tools read)."""
    return [x.strip() for _, text in texts(half, files)[0] for x in text.splitlines() if x.strip()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=("restore", "verify"))
    ap.add_argument("--mirror", type=Path, default=Path(os.environ.get("MIRROR", "/work/.mirror")))
    ap.add_argument("--files", type=Path, default=Path(os.environ.get("MODERNTEXT_FILES", FILES)))
    args = ap.parse_args()
    rows = sources()
    failed = 0
    if args.action == "restore":
        for name, state in restore(rows, args.mirror, args.files).items():
            if state != "written":
                failed += 1
                print(f"{state.split()[0]:9} {name}: {state.partition(' ')[2]}")
    status = verify(rows, args.files)
    for name, state in status.items():
        if state != "ok":
            print(f"{state:9} {name}")
    counts = {s: sum(1 for v in status.values() if v == s) for s in ("ok", "MISSING", "CHANGED", "UNLISTED")}
    print("  ".join(f"{k} {v}" for k, v in counts.items()))
    return 1 if failed or counts["CHANGED"] or counts["UNLISTED"] else 0


if __name__ == "__main__":
    sys.exit(main())
