"""The web console (`govcheck serve`) through its HTTP interface: users and roles, login and
its throttle, session cookie, CSRF, unit isolation on every route and download, batch review,
整改反馈 judged by the next scan, the audit trail, and hostile crawled text.

Databases come from the real commands (`govcheck demo`, `govcheck scan`, `govcheck user add`)."""

from __future__ import annotations

import io
import re
from urllib.parse import quote, unquote

import pytest
from conftest import findings_jsonl, govcheck
from console_support import (
    DS,
    HOSTILE_UNIT,
    KBS,
    PASSWORDS,
    SCRIPT_ANCHOR,
    SCRIPT_CONTEXT,
    SCRIPT_TITLE,
    cli,
    demo_db,
    fresh,
    hostile_db,
)
from openpyxl import load_workbook
from sqlalchemy import select
from starlette.testclient import TestClient

from govcheck.store.engine import open_db, session_factory
from govcheck.store.schema import AuditRow, FindingRow, UserRow
from govcheck.web.app import create_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("console-dbs")


@pytest.fixture
def demo(cache, tmp_path):
    return fresh(demo_db(cache), tmp_path)


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def client_for(db, user: str | None = None) -> TestClient:
    client = TestClient(create_app(f"sqlite:///{db}"), follow_redirects=False)
    if user:
        r = login(client, user, PASSWORDS[user])
        assert r.status_code == 303, r.text
    return client


def login(client: TestClient, user: str, password: str):
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"csrf": token, "username": user, "password": password, "next": "/"})


def rows(db, **where) -> list[FindingRow]:
    with session_factory(open_db(f"sqlite:///{db}"))() as s:
        q = select(FindingRow)
        for k, v in where.items():
            q = q.where(getattr(FindingRow, k) == v)
        return list(s.scalars(q.order_by(FindingRow.id)))


def audit_rows(db) -> list[AuditRow]:
    with session_factory(open_db(f"sqlite:///{db}"))() as s:
        return list(s.scalars(select(AuditRow).order_by(AuditRow.id)))


# --------------------------------------------------------------------------- users

def test_user_commands_store_argon2_hashes_and_reject_bad_input(demo):
    url = f"sqlite:///{demo}"
    listing = cli("user", "list", "--db", url).output
    assert "staff1\tstaff" in listing and f"ds\tunit\t被考核单位\t{DS}" in listing
    with session_factory(open_db(url))() as s:
        hashes = {u.name: u.password_hash for u in s.scalars(select(UserRow))}
    assert all(h.startswith("$argon2id$") for h in hashes.values())
    assert not any(PASSWORDS[n] in h for n, h in hashes.items())
    for args, message in [
        (["user", "add", "x1", "--role", "unit"], "--role unit needs --unit"),
        (["user", "add", "x2", "--role", "unit", "--unit", "不存在的单位"], "no such unit"),
        (["user", "add", "x3", "--role", "staff", "--unit", DS], "only for --role unit"),
        (["user", "add", "staff1", "--role", "staff"], "exists"),
        (["user", "add", "x4", "--role", "staff", "--password", "short"], "at least 8"),
        (["user", "passwd", "nobody"], "no such user"),
    ]:
        if "--password" not in args:
            args = args + ["--password", "long-enough-1"]
        done = cli(*args, "--db", url)
        assert done.exit_code == 2 and message in done.output, (args, done.output)
    # The password is prompted (entry and confirmation) when not given.
    piped = cli("user", "add", "piped", "--role", "assessor", "--db", url, input="piped-pass-1\npiped-pass-1\n")
    assert piped.exit_code == 0, piped.output
    assert login(client_for(demo), "piped", "piped-pass-1").status_code == 303


def test_password_change_ends_open_sessions(demo):
    client = client_for(demo, "staff1")
    assert client.get("/").status_code == 200
    assert cli("user", "passwd", "staff1", "--db", f"sqlite:///{demo}", "--password", "a-new-password").exit_code == 0
    assert client.get("/").status_code == 303                                   # back to the login page
    assert login(client_for(demo), "staff1", PASSWORDS["staff1"]).status_code == 401
    assert login(client_for(demo), "staff1", "a-new-password").status_code == 303


# --------------------------------------------------------------------------- login, cookie, CSRF

def test_pages_need_a_login_and_the_session_cookie_is_signed_httponly_samesite(demo):
    anonymous = client_for(demo)
    for path in ("/", "/findings", "/findings/1", "/findings/1/snapshot", "/units", "/downloads/findings.xlsx", "/audit"):
        r = anonymous.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
    client = client_for(demo)
    r = login(client, "staff1", PASSWORDS["staff1"])
    cookie = r.headers["set-cookie"]
    assert "govcheck_session=" in cookie and "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert client.get("/").status_code == 200
    # A cookie whose payload was altered (say, to another user id) is not accepted.
    value = client.cookies.get("govcheck_session")
    client.cookies.set("govcheck_session", "eyJ1aWQiOiAyfQ==" + value[value.index("."):])
    assert client.get("/").status_code == 303


def test_failed_logins_are_audited_and_throttled(demo):
    client = client_for(demo)
    for _ in range(5):
        r = login(client, "staff1", "wrong-password")
        assert r.status_code == 401 and "用户名或密码错误" in r.text
    r = login(client, "staff1", PASSWORDS["staff1"])       # the right password, but too many failures
    assert r.status_code == 429 and "登录失败次数过多" in r.text
    assert login(client_for(demo), "assessor1", PASSWORDS["assessor1"]).status_code == 303   # others unaffected
    actions = [(a.user, a.action) for a in audit_rows(demo) if a.action.startswith("login")]
    assert actions.count(("staff1", "login_failed")) == 5
    assert ("staff1", "login_throttled") in actions and ("assessor1", "login") in actions
    assert all(a.at and a.client for a in audit_rows(demo) if a.action.startswith("login"))


def test_every_form_carries_a_csrf_token_and_posts_without_it_are_refused(demo):
    client = client_for(demo, "staff1")
    unit_user = client_for(demo, "ds")
    first = rows(demo, status="open")[0].id
    pages = [client.get(p).text for p in ("/", "/findings", f"/findings/{first}", f"/units/{DS}", "/downloads", "/audit")]
    pages += [unit_user.get(p).text for p in ("/findings", f"/units/{DS}")] + [client_for(demo).get("/login").text]
    for page in pages:
        forms = re.findall(r'<form[^>]*method="post".*?</form>', page, flags=re.S)
        assert forms and all('name="csrf"' in f for f in forms)
    page = pages[1]
    target = rows(demo, status="open")[0]
    for data in ({"ids": target.id, "action": "ignore"}, {"ids": target.id, "action": "ignore", "csrf": "forged"}):
        r = client.post("/review", data=data)
        assert r.status_code == 403 and "CSRF" in r.text
    assert rows(demo, id=target.id)[0].status == "open"                       # nothing happened
    assert client.post("/logout", data={}).status_code == 403
    fresh_client = client_for(demo)
    assert fresh_client.post("/login", data={"username": "staff1", "password": PASSWORDS["staff1"]}).status_code == 403


# --------------------------------------------------------------------------- roles and unit isolation

def test_a_unit_user_sees_only_its_own_unit_everywhere(demo):
    mine = [r for r in rows(demo) if r.unit == DS and r.status != "ignored" and r.severity != "review"]
    theirs = [r for r in rows(demo) if r.unit == KBS]
    snap_theirs = next(r for r in theirs if r.snapshot_hash)
    client = client_for(demo, "ds")
    listing = client.get("/findings?status=").text
    shown = {int(i) for i in re.findall(r'<tr data-id="(\d+)"', listing)}
    assert shown and shown <= {r.id for r in mine}
    assert KBS not in listing
    assert client.get(f"/findings/{mine[0].id}").status_code == 200
    for path in (f"/findings/{theirs[0].id}", f"/findings/{snap_theirs.id}/snapshot", f"/units/{KBS}",
                 f"/downloads/unit.xlsx?unit={KBS}", f"/downloads/unit.html?unit={KBS}",
                 f"/downloads/findings.xlsx?unit={KBS}", "/downloads/summary.html", "/downloads/notice.docx",
                 "/downloads/scores.xlsx", "/scores", "/audit", "/findings/999999"):
        assert client.get(path).status_code == 404, path
    assert client.get(f"/findings?unit={KBS}").text.count("<tr data-id=") == len(shown)   # the filter cannot widen it
    # Its own export holds its own findings only.
    book = load_workbook(io.BytesIO(client.get("/downloads/findings.xlsx").content))
    units = {row[2] for row in book.active.iter_rows(min_row=2, values_only=True)}
    assert units == {DS}
    assert client.get(f"/downloads/unit.xlsx?unit={DS}").status_code == 200
    # Feedback on another unit's finding is refused the same way.
    token = csrf_of(listing)
    r = client.post("/feedback", data={"csrf": token, "ids": theirs[0].id, "note": "改了"})
    assert r.status_code == 404
    assert client.post("/review", data={"csrf": token, "ids": mine[0].id, "action": "ignore"}).status_code == 404


def test_snapshots_are_the_unit_facing_evidence_with_personal_data_masked(demo):
    leak = next(r for r in rows(demo) if r.unit == DS and r.check == "privacy_leak" and r.snapshot_hash)
    unit = client_for(demo, "ds")
    for path in (f"/findings/{leak.id}/snapshot", f"/findings/{leak.id}/snapshot?raw=1"):   # no raw copy for units
        r = unit.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert "govcheck 巡检证据快照" in r.text and "govcheck-hit" in r.text
        assert not re.search(r"(?<!\d)\d{17}[\dXx](?!\d)", r.text)                 # no unmasked ID number
    staff = client_for(demo, "staff1")
    raw = staff.get(f"/findings/{leak.id}/snapshot?raw=1")                 # the attachment as fetched, downloaded
    assert raw.status_code == 200 and "attachment" in raw.headers["content-disposition"]
    assert raw.headers["content-type"] == "application/octet-stream"


def test_review_only_findings_reach_the_unit_once_confirmed(demo):
    review_only = next(r for r in rows(demo) if r.unit == DS and r.severity == "review" and r.status == "open")
    unit = client_for(demo, "ds")
    assert unit.get(f"/findings/{review_only.id}").status_code == 404
    assert f'data-id="{review_only.id}"' not in unit.get("/findings").text
    staff = client_for(demo, "staff1")
    token = csrf_of(staff.get("/findings").text)
    staff.post("/review", data={"csrf": token, "ids": review_only.id, "action": "confirm", "note": "确属外链"})
    assert unit.get(f"/findings/{review_only.id}").status_code == 200
    assert f'data-id="{review_only.id}"' in unit.get("/findings").text


def test_a_finding_ruled_out_by_a_reviewer_disappears_for_its_unit(demo):
    target = next(r for r in rows(demo) if r.unit == DS and r.status == "open")
    staff = client_for(demo, "staff1")
    token = csrf_of(staff.get("/findings").text)
    assert staff.post("/review", data={"csrf": token, "ids": target.id, "action": "ignore", "note": "误报"}).status_code == 303
    unit = client_for(demo, "ds")
    assert unit.get(f"/findings/{target.id}").status_code == 404
    assert f'data-id="{target.id}"' not in unit.get("/findings").text
    assert f'data-id="{target.id}"' in staff.get("/findings?status=ignored").text


def test_assessors_see_scores_and_records_but_cannot_review(demo):
    client = client_for(demo, "assessor1")
    scores = client.get("/scores?scheme=national-2019")
    assert scores.status_code == 200 and "总分" in scores.text and DS in scores.text
    assert client.get("/audit").status_code == 200
    xlsx = client.get("/downloads/scores.xlsx?scheme=national-2019")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    page = client.get("/findings").text
    assert 'action="/review"' not in page
    target = rows(demo, status="open")[0]
    assert client.post("/review", data={"csrf": csrf_of(page), "ids": target.id, "action": "ignore"}).status_code == 403
    assert rows(demo, id=target.id)[0].status == "open"


def test_downloads_are_the_existing_outputs(demo):
    client = client_for(demo, "staff1")
    for path, magic in [("/downloads/findings.xlsx", b"PK"), (f"/downloads/unit.xlsx?unit={DS}", b"PK"),
                        (f"/downloads/unit.html?unit={DS}", b"<!DOCTYPE"), ("/downloads/summary.html", b"<!DOCTYPE"),
                        ("/downloads/notice.docx?scheme=national-2019", b"PK"),
                        ("/downloads/scores.xlsx?scheme=national-2019", b"PK")]:
        r = client.get(path)
        assert r.status_code == 200 and r.content.lstrip()[:len(magic)].upper() == magic.upper(), path
        assert "attachment" in r.headers["content-disposition"]
    book = load_workbook(io.BytesIO(client.get("/downloads/findings.xlsx?scan=1").content))
    assert book.active.max_row - 1 == len(findings_jsonl(demo, scan="1"))


# --------------------------------------------------------------------------- review, feedback, audit

def test_batch_review_from_the_console_and_the_cli_share_one_trail(demo):
    client = client_for(demo, "staff1")
    page = client.get(f"/findings?unit={DS}&check=link_broken&status=open").text
    ids = [int(i) for i in re.findall(r'name="ids" value="(\d+)"', page)]
    assert len(ids) >= 2
    r = client.post("/review", data={"csrf": csrf_of(page), "ids": ids, "action": "ignore", "note": "第三方链接，非本站问题",
                                     "next": f"/findings?unit={DS}"})
    assert r.status_code == 303 and unquote(r.headers["location"]) == f"/findings?unit={DS}"
    assert {f.status for f in rows(demo) if f.id in ids} == {"ignored"}
    other = next(f for f in rows(demo, status="open") if f.id not in ids)
    govcheck("review", str(other.id), "--confirm", "--note", "命令行确认", "--db", f"sqlite:///{demo}")
    trail = client.get("/audit").text
    assert trail.count("<td>第三方链接，非本站问题</td>") == len(ids) and "<td>命令行确认</td>" in trail
    assert "staff1" in trail
    finding = client.get(f"/findings/{ids[0]}").text
    assert "第三方链接，非本站问题" in finding and "已忽略" in finding


def test_unit_feedback_is_pending_until_the_next_scan_judges_it(cache, tmp_path):
    from console_support import copy_db, demo_folder

    folder = tmp_path / "demo"
    folder.mkdir()
    src = demo_folder(cache, 1)
    copy_db(src / "govcheck.db", folder / "govcheck.db")
    for extra in (".demo-ports",):
        if (src / extra).exists():
            (folder / extra).write_bytes((src / extra).read_bytes())
    db = folder / "govcheck.db"
    # Round 2 of the demo rectifies some of 东胜区's problems and leaves others.
    round2 = {(f["check"], f["subject"]): f["status"] for f in findings_jsonl(demo_db(cache, 2), scan="2")}
    open1 = [f for f in rows(db, unit=DS, status="open") if f.severity != "review"]   # review-only: not told yet
    fixed_next = next(f for f in open1 if round2.get((f.check, f.subject)) == "fixed")
    still_next = next(f for f in open1 if round2.get((f.check, f.subject)) == "open" and f.snapshot_hash)
    client = client_for(db, "ds")
    page = client.get(f"/units/{DS}").text
    r = client.post("/feedback", data={"csrf": csrf_of(page), "ids": [fixed_next.id, still_next.id], "note": "已删除并更新",
                                       "next": f"/units/{DS}"})
    assert r.status_code == 303
    page = client.get(f"/units/{DS}").text
    assert page.count("已整改（待复查）") == 2
    govcheck("demo", "-o", str(folder), timeout=300)                            # the next scan
    page = client.get(f"/findings/{still_next.id}").text
    assert "整改未通过" in page and "已删除并更新" in page
    assert "整改通过" in client.get("/findings?status=fixed&feedback=passed").text
    feedback = [a for a in audit_rows(db) if a.action == "feedback"]
    assert {(a.user, a.finding_id, a.note) for a in feedback} == {("ds", fixed_next.id, "已删除并更新"),
                                                                ("ds", still_next.id, "已删除并更新")}
    staff = client_for(db, "staff1")
    assert "整改未通过" in staff.get("/findings?feedback=failed").text


def test_nothing_in_the_audit_trail_can_be_deleted_from_the_console(demo):
    client = client_for(demo, "staff1")
    before = len(audit_rows(demo))
    token = csrf_of(client.get("/audit").text)
    for method in ("delete", "put", "patch"):
        r = client.request(method.upper(), "/audit", data={"csrf": token})
        assert r.status_code == 405
    assert client.post("/audit", data={"csrf": token}).status_code == 405
    assert len(audit_rows(demo)) == before


# --------------------------------------------------------------------------- hostile content

def test_crawled_text_is_escaped_on_every_page_and_snapshots_cannot_run_scripts(cache, serve, tmp_path):
    db = fresh(hostile_db(cache, serve), tmp_path)
    client = client_for(db, "staff1")
    planted = rows(db)
    assert {f.check for f in planted} >= {"link_external", "word_typo", "link_broken"}
    word = next(f for f in planted if f.check == "word_typo")
    link = next(f for f in planted if f.check == "link_external")
    assert SCRIPT_CONTEXT in word.evidence            # the crawler kept the text as it was
    pages = ["/", "/findings", f"/findings/{word.id}", f"/findings/{link.id}", "/units", "/units/" + quote(HOSTILE_UNIT, safe=""),
             "/audit", "/scores?scheme=national-2019"]
    for path in pages:
        r = client.get(path)
        assert r.status_code == 200, path
        body = r.text
        for raw in (SCRIPT_TITLE, SCRIPT_ANCHOR, SCRIPT_CONTEXT, "<script>alert", "onerror=alert(1)>", "<b>区</b>",
                    "<b onmouseover"):
            assert raw not in body, (path, raw)
        assert body.count("<script") == 1                                   # only the console's own script
        assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "&lt;script&gt;x&lt;/script&gt;" in client.get(f"/findings/{word.id}").text
    finding = client.get(f"/findings/{link.id}").text
    assert re.search(r'<iframe class="snapshot" sandbox src="/findings/\d+/snapshot"', finding)
    snap = client.get(f"/findings/{link.id}/snapshot")
    csp = snap.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp and "script-src" not in csp
    assert snap.headers["x-content-type-options"] == "nosniff"
    # The downloaded 问题清单 (the existing HTML output) is escaped too.
    unit_html = client.get(f"/downloads/unit.html?unit={HOSTILE_UNIT}").text
    assert "<script>alert" not in unit_html and "&lt;script&gt;" in unit_html


def test_govcheck_serve_starts_the_console_on_the_given_host_and_port(demo, tmp_path):
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    missing = cli("serve", "--db", str(tmp_path / "nothing.db"))
    assert missing.exit_code == 2 and "does not exist" in " ".join(missing.output.split())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "govcheck", "serve", "--db", f"sqlite:///{demo}", "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=dict(os.environ, GOVCHECK_RESOLVE_ONLY="1"))
    try:
        deadline, page = time.monotonic() + 60, None
        while time.monotonic() < deadline and page is None:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2).read().decode()
            except OSError:
                time.sleep(0.3)
        assert page is not None and "登录监测台" in page and 'name="csrf"' in page
    finally:
        proc.terminate()
        proc.wait(15)


def test_the_console_on_postgresql(pg_url, serve, tmp_path):
    from conftest import Route, html, write_registry
    from console_support import EVIL_HOST, HOSTILE_HOST, hostile_site

    server = serve({})
    server.hosts = {HOSTILE_HOST: hostile_site(server.port), EVIL_HOST: {"/": Route(body=html("portal", "欢迎"))}}
    registry = write_registry(tmp_path / "sites.yaml", [
        {"name": HOSTILE_UNIT, "group": "旗区", "sites": [{"url": f"http://{HOSTILE_HOST}:{server.port}/"}]},
    ], resolve={HOSTILE_HOST: "127.0.0.1", EVIL_HOST: "127.0.0.1"}, as_of="2024-04-19")
    govcheck("scan", str(registry), "--db", pg_url)
    for name, role, unit in (("staff1", "staff", None), ("hu", "unit", HOSTILE_UNIT)):
        PASSWORDS.setdefault("hu", "unit-pass-hu")
        assert cli("user", "add", name, "--role", role, *(["--unit", unit] if unit else []), "--db", pg_url,
                   "--password", PASSWORDS[name]).exit_code == 0
    staff = TestClient(create_app(pg_url), follow_redirects=False)
    assert login(staff, "staff1", PASSWORDS["staff1"]).status_code == 303
    page = staff.get("/findings").text
    ids = [int(i) for i in re.findall(r'<tr data-id="(\d+)"', page)]
    assert ids and all(staff.get(p).status_code == 200 for p in ("/", "/units", "/audit", f"/findings/{ids[0]}"))
    broken = next(r for r in rows_pg(pg_url) if r.check == "link_broken")
    assert staff.post("/review", data={"csrf": csrf_of(page), "ids": broken.id, "action": "confirm",
                                       "note": "确认"}).status_code == 303
    unit = TestClient(create_app(pg_url), follow_redirects=False)
    assert login(unit, "hu", PASSWORDS["hu"]).status_code == 303
    unit_page = unit.get("/units/" + quote(HOSTILE_UNIT, safe="")).text
    assert unit.post("/feedback", data={"csrf": csrf_of(unit_page), "ids": broken.id, "note": "已修复"}).status_code == 303
    assert "已整改（待复查）" in unit.get(f"/findings/{broken.id}").text
    trail = staff.get("/audit").text
    assert "<td>确认</td>" in trail and "<td>已修复</td>" in trail


def rows_pg(url) -> list[FindingRow]:
    with session_factory(open_db(url))() as s:
        return list(s.scalars(select(FindingRow).order_by(FindingRow.id)))


def test_finding_page_shows_its_screenshot_and_only_to_its_unit(demo):
    from govcheck.store.queries import screenshots_of
    with session_factory(open_db(f"sqlite:///{demo}"))() as s:
        mine = [r for r in rows(demo) if r.unit == DS and r.status == "open" and r.severity != "review"]
        shots = screenshots_of(s, [r.id for r in mine])
        pictured = screenshots_of(s, [r.id for r in rows(demo)])
    shot_id = next(r.id for r in mine if r.id in shots and shots[r.id].outlined)
    staff = client_for(demo, "staff1")
    page = staff.get(f"/findings/{shot_id}")
    assert f'src="/findings/{shot_id}/screenshot"' in page.text and "框线标出" in page.text
    png = staff.get(f"/findings/{shot_id}/screenshot")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG") and "default-src 'none'" in png.headers["content-security-policy"]
    assert client_for(demo, "ds").get(f"/findings/{shot_id}/screenshot").status_code == 200
    assert client_for(demo, "kbs").get(f"/findings/{shot_id}/screenshot").status_code == 404   # another unit
    without = next(r.id for r in rows(demo) if r.id not in pictured)
    assert staff.get(f"/findings/{without}/screenshot").status_code == 404
