"""Check the restored page files of tests/realpages against SOURCES.csv, offline.

    python tests/realpages/verify.py

The pages are third-party content kept out of git (README.md); this script fetches nothing.
For every row of SOURCES.csv it reports the file as ok (sha256 matches), MISSING (not restored)
or CHANGED (restored but not the bytes that were labelled). Exit status 1 if any file is
CHANGED or if a page file lies in pages/ that SOURCES.csv does not name; missing files alone
are not an error (a fresh clone has none).
"""

from __future__ import annotations

import csv
import hashlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def verify(folder: Path = HERE) -> dict[str, str]:
    """file → ok | MISSING | CHANGED | UNLISTED."""
    with open(folder / "SOURCES.csv", encoding="utf-8") as fh:
        sources = {r["file"]: r for r in csv.DictReader(fh)}
    status = {}
    for name, row in sources.items():
        path = folder / "pages" / name
        if not path.is_file():
            status[name] = "MISSING"
            continue
        status[name] = "ok" if hashlib.sha256(path.read_bytes()).hexdigest() == row["sha256"] else "CHANGED"
    for path in sorted((folder / "pages").glob("*.html")) if (folder / "pages").is_dir() else []:
        status.setdefault(path.name, "UNLISTED")
    return status


def main() -> int:
    status = verify()
    for name, state in status.items():
        print(f"{state:9} {name}")
    counts = {s: sum(1 for v in status.values() if v == s) for s in ("ok", "MISSING", "CHANGED", "UNLISTED")}
    print("  ".join(f"{k} {v}" for k, v in counts.items()))
    return 1 if counts["CHANGED"] or counts["UNLISTED"] else 0


if __name__ == "__main__":
    sys.exit(main())
