"""The console in a real browser: Playwright driving the operating system's Chromium (Debian's
`chromium`, through `executable_path`: browser downloads are not available here). Log in,
filter, batch-ignore, open the evidence, unit isolation, CSRF rejection, hostile pages.
Screenshots of the main pages go to test-artifacts/console/."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import findings_jsonl
from console_support import ARTIFACTS, DS, HOSTILE_UNIT, KBS, PASSWORDS, LiveConsole, demo_db, fresh, hostile_db

from govcheck.findings import reaches_units

CHROMIUM = os.environ.get("GOVCHECK_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                                 reason="Debian's chromium is not installed (.ci/run installs it)")]


@pytest.fixture(scope="session")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("console-dbs")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs
    yield pg
    context.close()


@pytest.fixture
def console(cache, tmp_path):
    with LiveConsole(fresh(demo_db(cache), tmp_path)) as live:
        yield live


def shot(pg, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(pg, console, user: str, password: str | None = None) -> None:
    pg.goto(console.url + "/")
    assert "/login" in pg.url
    pg.fill("input[name=username]", user)
    pg.fill("input[name=password]", password or PASSWORDS[user])
    # The form posts and redirects; under load the caller's next read (pg.title()) raced the
    # navigation and saw the blank document in between (CI on 45e27cb).
    with pg.expect_navigation():
        pg.click("section.login button[type=submit]")


def row_ids(pg) -> list[int]:
    return [int(x) for x in pg.eval_on_selector_all("#findings tbody tr[data-id]", "els => els.map(e => e.dataset.id)")]


def test_staff_log_in_filter_and_batch_ignore_with_a_note(page, console):
    pg = page
    log_in(pg, console, "staff1", "not-the-password")
    assert "用户名或密码错误" in pg.inner_text(".error")
    shot(pg, "login")
    log_in(pg, console, "staff1")
    assert pg.url == console.url + "/"
    assert pg.inner_text("h1") == "总览"
    assert pg.locator("#grave tbody tr").count() > 0 and "单项否决" in pg.inner_text("#grave")
    assert pg.locator("#trend svg").count() >= 2
    shot(pg, "overview")

    pg.click("nav >> text=问题列表")
    pg.select_option("form.filters select[name=unit]", DS)
    pg.select_option("form.filters select[name=check]", "link_broken")
    pg.select_option("form.filters select[name=status]", "open")
    pg.click("form.filters button[type=submit]")
    ids = row_ids(pg)
    expected = {f["id"] for f in findings_jsonl(console_db(console), scan="latest")
                if f["unit"] == DS and f["check"] == "link_broken" and f["status"] == "open"}
    assert set(ids) == expected and len(ids) >= 2
    shot(pg, "findings-filtered")

    pg.check("#findings thead input[data-selectall]")
    assert pg.inner_text("[data-selcount]") == f"已选中 {len(ids)} 条"
    pg.fill("#note", "测试环境链接，误报")
    pg.click("button[name=action][value=ignore]")
    assert f"已忽略（误报） {len(ids)} 条问题" in pg.inner_text(".flash")
    assert row_ids(pg) == []                                         # the filter (status=open) is kept
    after = {f["id"]: f["status"] for f in findings_jsonl(console_db(console))}
    assert {after[i] for i in ids} == {"ignored"}
    pg.select_option("form.filters select[name=status]", "ignored")
    pg.click("form.filters button[type=submit]")
    assert set(row_ids(pg)) == set(ids)
    shot(pg, "findings-ignored")

    pg.click("nav >> text=留痕")
    trail = pg.inner_text("#audit")
    assert trail.count("测试环境链接，误报") == len(ids) and "登录失败" in trail
    shot(pg, "audit")
    assert pg.dialogs == []


def console_db(console) -> Path:
    return console.db


def test_finding_page_shows_evidence_snapshot_sightings_and_trail(page, console):
    pg = page
    log_in(pg, console, "staff1")
    records = findings_jsonl(console_db(console))
    word = next(f for f in records if f["check"] == "word_serious" and f["status"] == "open")
    pg.goto(f"{console.url}/findings/{word['id']}")
    assert pg.locator("#evidence mark").count() >= 1                   # the offending text marked
    assert pg.inner_text("#evidence mark") in word["evidence"]
    frame_el = pg.locator("iframe.snapshot")
    assert frame_el.get_attribute("sandbox") == ""
    frame = pg.frame_locator("iframe.snapshot")
    assert word["subject"] in frame.locator("body").inner_text()
    assert frame.locator("#govcheck-hit").inner_text() == word["subject"]      # marked in the page itself
    assert "govcheck 巡检证据快照" in frame.locator("#govcheck-evidence").inner_text()
    assert pg.locator("#sightings tbody tr").count() >= 1
    pg.fill("#review input[name=note]", "确认为严重表述错误")
    pg.click("#review button[value=confirm]")
    assert "确认为严重表述错误" in pg.inner_text("#trail")
    shot(pg, "finding")


def test_unit_user_sees_only_its_own_unit_and_marks_items_rectified(page, console):
    pg = page
    log_in(pg, console, "ds")
    assert DS in pg.inner_text("h1")
    shot(pg, "unit-overview")
    pg.click("nav >> text=问题列表")
    assert KBS not in pg.content()
    mine = set(row_ids(pg))
    records = findings_jsonl(console_db(console))
    assert mine == {f["id"] for f in records
                    if f["unit"] == DS and reaches_units(f["status"], f["severity"], bool(f["confirmed_at"]))}
    theirs = next(f for f in records if f["unit"] == KBS)
    for path in (f"/findings/{theirs['id']}", f"/findings/{theirs['id']}/snapshot", "/units/" + quote(KBS, safe=""),
                 "/downloads/unit.xlsx?unit=" + quote(KBS, safe=""), "/audit"):
        response = pg.goto(console.url + path)
        assert response.status == 404, path
    shot(pg, "unit-404")

    pg.goto(console.url + "/units/" + quote(DS, safe=""))
    boxes = pg.locator("#unitlist input[name=ids]")
    first = boxes.nth(0).get_attribute("value")
    boxes.nth(0).check()
    pg.fill("#note", "已删除该链接")
    pg.click("#unitlist button[type=submit]")
    assert "待下次巡检复查" in pg.inner_text(".flash")
    assert "已整改（待复查）" in pg.inner_text(f"tr[data-id='{first}']")
    shot(pg, "unit-list")


def test_a_form_with_a_forged_csrf_token_is_rejected(page, console):
    pg = page
    log_in(pg, console, "staff1")
    pg.goto(console.url + "/findings?status=open")
    target = row_ids(pg)[0]
    pg.check(f"#findings tr[data-id='{target}'] input[name=ids]")
    pg.eval_on_selector("#batch input[name=csrf]", "el => el.value = 'forged-token'")
    pg.click("button[name=action][value=ignore]")
    assert "CSRF" in pg.inner_text("main")
    shot(pg, "csrf-rejected")
    status = {f["id"]: f["status"] for f in findings_jsonl(console_db(console))}
    assert status[target] == "open"


def test_hostile_titles_anchors_and_contexts_never_run_in_the_console(page, cache, serve, tmp_path):
    pg = page
    with LiveConsole(fresh(hostile_db(cache, serve), tmp_path)) as live:
        log_in(pg, live, "staff1")
        title = pg.title()
        for path in ("/", "/findings", "/units/" + quote(HOSTILE_UNIT, safe=""), "/audit"):
            pg.goto(live.url + path)
        pg.goto(live.url + "/findings")
        for fid in row_ids(pg):
            pg.goto(f"{live.url}/findings/{fid}")
            if pg.locator("iframe.snapshot").count():
                frame = pg.frame_locator("iframe.snapshot")
                frame.locator("body").wait_for()
                assert pg.title() != "snapshot-script-ran"
        shot(pg, "hostile-finding")
        pg.goto(live.url + "/findings")
        assert "<script>" in pg.inner_text("#findings")                      # shown as text …
        assert pg.dialogs == [] and pg.title() == title.replace("总览", "问题列表")   # … never run
