"""The catalogue is the single source of truth: every code declared once, with a runner for
each input it declares, its fixture folder with firing and quiet cases, and the README's table
generated from it."""

from __future__ import annotations

import re
from pathlib import Path

import checks  # noqa: F401
from checks.registry import CHECKS, FAMILIES, INPUTS, NOTICE_SECTIONS, RUNNERS, markdown_table, notice_sections

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
