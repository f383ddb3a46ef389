"""Loading 错敏词 lists (DESIGN §2 format) and the automaton cache.

Bundled lists live in wordlists/; users add theirs through `wordlists:` in the registry. The
automaton is built once per scan and cached on disk keyed by the lists' contents, so a
nightly scan does not rebuild 20,000 entries it already built.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

import ahocorasick

from checks.words import CATEGORY_RANK, WordEntry, build_automaton

BUNDLED = Path(__file__).resolve().parents[1] / "wordlists"
ENGINE_VERSION = "1"


class WordlistError(ValueError):
    """A malformed user list: names the file and line (bad input, exit 2)."""


def parse_wordlist(text: str, source: str) -> list[WordEntry]:
    entries, category = [], None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            body = line[1:].strip()
            if body.lower().startswith("category:"):
                category = body.split(":", 1)[1].strip().lower()
                if category not in CATEGORY_RANK:
                    raise WordlistError(f"{source}:{lineno}: unknown category {category!r} "
                                        f"(allowed: {', '.join(CATEGORY_RANK)})")
            continue
        if category is None:
            raise WordlistError(f"{source}:{lineno}: entry before any '# category: serious|typo|sensitive' header")
        word_part, _, allow_part = line.partition("|allow:")
        if "|" in word_part:
            raise WordlistError(f"{source}:{lineno}: unknown option after '|' (only '|allow:' is known)")
        word, arrow, correction = word_part.partition("→")
        word, correction = word.strip(), correction.strip()
        if not word or (arrow and not correction):
            raise WordlistError(f"{source}:{lineno}: expected WORD or WRONG→RIGHT, got {line!r}")
        allow = tuple(p.strip() for p in allow_part.replace("，", ",").split(",") if p.strip())
        if any(word not in p for p in allow):
            raise WordlistError(f"{source}:{lineno}: every allow phrase must contain {word!r}")
        entries.append(WordEntry(word, category, correction or None, allow, f"{Path(source).name}:{lineno}"))
    return entries


def wordlist_files(extra: list[str] | tuple[str, ...] = ()) -> list[Path]:
    return sorted(BUNDLED.glob("*.txt")) + [Path(p) for p in extra]


def load_entries(extra: list[str] | tuple[str, ...] = ()) -> list[WordEntry]:
    entries = []
    for path in wordlist_files(extra):
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise WordlistError(f"{path}: cannot read as UTF-8 text ({exc})") from None
        entries.extend(parse_wordlist(text, str(path)))
    return entries


def cache_dir() -> Path:
    base = os.environ.get("GOVCHECK_CACHE_DIR") or os.path.join(os.environ.get("XDG_CACHE_HOME") or
                                                                 os.path.expanduser("~/.cache"), "govcheck")
    return Path(base)


def load_automaton(extra: list[str] | tuple[str, ...] = ()) -> ahocorasick.Automaton:
    files = wordlist_files(extra)
    digest = hashlib.sha256(ENGINE_VERSION.encode())
    for path in files:
        try:
            digest.update(path.read_bytes())
        except OSError as exc:
            raise WordlistError(f"{path}: cannot read ({exc})") from None
    cached = cache_dir() / f"words-{digest.hexdigest()[:24]}.automaton"
    if cached.is_file():
        try:
            return ahocorasick.load(str(cached), pickle.loads)
        except Exception:  # a torn or foreign cache file: rebuild it
            cached.unlink(missing_ok=True)
    automaton = build_automaton(load_entries(extra))
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        automaton.save(str(tmp), pickle.dumps)
        tmp.replace(cached)
    except OSError:
        pass  # a read-only home still scans, it just rebuilds next time
    return automaton
