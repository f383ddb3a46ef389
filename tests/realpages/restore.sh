#!/bin/sh
# Restore the page files of tests/realpages from their source repositories (README.md).
# Needs a bare clone of each repository under $MIRROR/<owner>+<name>/repo (the layout the
# workplace's fetch tool leaves in /work/.mirror; `git clone --bare https://github.com/OWNER/NAME
# $MIRROR/OWNER+NAME/repo` gives the same). Writes into $PAGES (default tests/realpages/pages,
# which may be a symlink to a shared folder), then runs verify.py.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
MIRROR=${MIRROR:-/work/.mirror}
PAGES=${PAGES:-$HERE/pages}
mkdir -p "$PAGES"
python3 - "$HERE/SOURCES.csv" "$MIRROR" "$PAGES" <<'PY'
import csv, os, subprocess, sys
sources, mirror, pages = sys.argv[1:]
for row in csv.DictReader(open(sources, encoding="utf-8")):
    git_dir = f"{mirror}/{row['repo'].replace('/', '+')}/repo"
    if os.path.isdir(f"{git_dir}/.git"):   # some snapshots arrive as a work tree, not bare
        git_dir = f"{git_dir}/.git"
    # The blob id, not COMMIT:PATH: the same bytes, and immune to paths with spaces or renames.
    data = subprocess.run(["git", f"--git-dir={git_dir}", "cat-file", "blob", row["blob"]],
                          capture_output=True, check=False)
    if data.returncode:
        print(f"FAILED   {row['file']}: {row['repo']} {row['commit']}:{row['path']}: {data.stderr.decode().strip()}")
        continue
    body = data.stdout
    if row.get("bytes"):
        # A page embedded in another file (a parser test's template literal): the page is the
        # byte range START-END (end exclusive) of the blob, verbatim.
        start, end = (int(n) for n in row["bytes"].split("-"))
        body = body[start:end]
    open(f"{pages}/{row['file']}", "wb").write(body)
PY
python3 "$HERE/verify.py"
