#!/bin/sh
# Restore the files of tests/moderntext from their source repositories (README.md), then verify.
# Needs a bare clone of each repository under $MIRROR/<owner>+<name>/repo (default /work/.mirror,
# the fetch tool's layout). Writes into $MODERNTEXT_FILES (default tests/moderntext/files).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
exec python3 "$HERE/corpus.py" restore "$@"
