"""Alerts (govcheck.notify): the registry's notify: block is validated like the rest of the
registry; after a scheduled scan each recipient gets one message with the new vetoes,
near-vetoes (with days left) and re-opened problems of its units — by e-mail (a local aiosmtpd
server) and by 企业微信 / 钉钉 robot webhooks (a local receiver on 127.0.0.1); nothing is sent when
nothing is new; failures are logged and retried, never fail the run."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from aiosmtpd.controller import Controller
from conftest import Route, govcheck, html

from govcheck.notify import dingtalk_signed
from govcheck.registry import RegistryError, load_registry

SITE, FEEDS = "www.alert.gov.cn", "rsshub.alert"
UNIT, OTHER_UNIT = "告警测试区人民政府", "另一单位"
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 OK"


@pytest.fixture
def smtp_server():
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, box
    controller.stop()


class Receiver:
    """Robot webhooks on 127.0.0.1: records each POST; the first `fail_first` answer 500."""

    def __init__(self, fail_first: int = 0):
        self.posts: list[tuple[str, dict]] = []
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.fail_first > 0:
                    receiver.fail_first -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.posts.append((self.path, json.loads(body)))
                reply = b'{"errcode":0,"errmsg":"ok"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver(fail_first=1)
    yield r
    r.stop()


def days_ago(n: int) -> str:
    """An RFC 822 date n days before today in Beijing: scheduled scans judge as of today."""
    import datetime as dt

    from govcheck import clock

    return (clock.now() - dt.timedelta(days=n)).strftime("%a, %d %b %Y 09:00:00 +0800")


def rss(date: str) -> str:
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>告警发布</title>'
            f'<item><title>春季植树</title><link>https://mp.weixin.qq.com/s/a1</link><guid>a1</guid><pubDate>{date}</pubDate>'
            '<description>内容</description></item></channel></rss>')


def site(port: int, hidden: bool) -> dict[str, Route]:
    planted = f'<div style="display:none"><a href="http://www.bet-casino.com:{port}/">娱乐城</a></div>' if hidden else ""
    return {"/": Route(body=html("告警测试区人民政府", f'<ul><li><a href="/a.html">工作动态</a><span>2024-04-18</span></li></ul>{planted}'
                                                   "<div class='footer'>主办单位：告警测试区人民政府 联系电话：0477-8123456</div>")),
            "/a.html": Route(body=html("工作动态", "<p>2024-04-18 正文</p>"))}


def registry(tmp: Path, port: int, smtp_port: int, hook: int, **notify_extra) -> Path:
    doc = {
        "settings": {"resolve_only": True, "timeout": 2, "retries": 1, "probe_interval": 0.1, "screenshots": False,
                     "check_external": False, "console_url": "http://console.example.gov.cn/"},
        "resolve": {SITE: "127.0.0.1", FEEDS: "127.0.0.1"},
        "notify": {"smtp": {"host": "127.0.0.1", "port": smtp_port, "starttls": False, "sender": "govcheck@jc.gov.cn"},
                   "staff": ["jc@ordos.gov.cn", {"wecom": f"http://127.0.0.1:{hook}/cgi-bin/webhook/send?key=K1"}],
                   "units": {UNIT: ["ds@alert.gov.cn", {"dingtalk": f"http://127.0.0.1:{hook}/robot/send?access_token=T1",
                                                         "secret": "SECtest"}],
                             OTHER_UNIT: ["other@x.gov.cn"]},
                   "retries": 2, "retry_delay": 0.1, **notify_extra},
        "units": [{"name": UNIT, "sites": [{"url": f"http://{SITE}:{port}/"}],
                   "accounts": [{"platform": "wechat", "name": "告警发布", "feed": f"http://{FEEDS}:{port}/wx.xml"}]},
                  {"name": OTHER_UNIT}],
    }
    path = tmp / "sites.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def scheduled_cycle(reg: Path, db: Path, tmp: Path) -> subprocess.CompletedProcess:
    """What the scheduler runs each night (scan → notify → reports), through scheduler.py --once."""
    import os

    return subprocess.run([sys.executable, str(ROOT / "scheduler.py"), str(reg), "--db", str(db), "--once",
                           "--reports", str(tmp / "reports"), "--log", str(tmp / "sched.log")],
                          capture_output=True, text=True, timeout=240, env=dict(os.environ, GOVCHECK_RESOLVE_ONLY="1"))


@pytest.mark.slow
def test_scheduled_scan_alerts_each_recipient_once(tmp_path, serve, smtp_server, receiver):
    smtp_port, box = smtp_server
    sites = serve({SITE: {}, FEEDS: {}})
    sites.hosts[SITE] = site(sites.port, hidden=True)
    sites.hosts[FEEDS] = {"/wx.xml": Route(body=rss(days_ago(11)), content_type="application/rss+xml")}
    reg = registry(tmp_path, sites.port, smtp_port, receiver.port)
    db = tmp_path / "g.db"

    proc = scheduled_cycle(reg, db, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    log = (tmp_path / "sched.log").read_text(encoding="utf-8")
    assert "notify" in log
    # E-mail: one message to the staff address, one to the unit's; none to the unit with no news.
    to = sorted(r for rcpts, _ in box.messages for r in rcpts)
    assert to == ["ds@alert.gov.cn", "jc@ordos.gov.cn"]
    from email import message_from_string
    from email.policy import default

    mail = message_from_string(box.messages[0][1], policy=default)
    body = mail.get_content()
    assert "单项否决" in mail["Subject"] and "新增单项否决（2 条）" in body and "暗链" in body and "首页不更新" in body
    assert "临近单否（1 条）" in body and "还剩 4 天" in body
    assert "http://console.example.gov.cn/findings/" in body
    # Robots: 企业微信 markdown.content, 钉钉 markdown title/text with 加签 in the URL; the first
    # attempt got a 500 and was retried.
    paths = {p.split("?")[0]: (p, b) for p, b in receiver.posts}
    assert set(paths) == {"/cgi-bin/webhook/send", "/robot/send"}
    wecom = paths["/cgi-bin/webhook/send"][1]
    assert wecom["msgtype"] == "markdown" and "暗链" in wecom["markdown"]["content"]
    assert "[查看](http://console.example.gov.cn/findings/" in wecom["markdown"]["content"]
    ding_path, ding = paths["/robot/send"]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(ding_path).query)
    assert query["access_token"] == ["T1"] and query["timestamp"] and query["sign"]
    assert ding["msgtype"] == "markdown" and ding["markdown"]["title"].startswith("【政府网站巡检】")
    assert "attempt 1 of 3 failed" in proc.stderr   # the notify step logs to the scheduler's output

    # The same news again: nothing is sent.
    proc = govcheck("notify", str(reg), "--db", str(db))
    assert "nothing new" in proc.stdout
    assert len(box.messages) == 2 and len(receiver.posts) == 2

    # Fixed, then planted again: the problem re-opens (复现) and is news once more.
    sites.hosts[SITE] = site(sites.port, hidden=False)
    govcheck("scan", str(reg), "--db", str(db))
    assert "nothing new" in govcheck("notify", str(reg), "--db", str(db)).stdout   # near-veto already told
    sites.hosts[SITE] = site(sites.port, hidden=True)
    govcheck("scan", str(reg), "--db", str(db))
    proc = govcheck("notify", str(reg), "--db", str(db))
    assert "4 of 4 messages sent" in proc.stdout
    latest = message_from_string(box.messages[-1][1], policy=default).get_content()
    assert "复现问题（1 条）" in latest and "【单否】暗链" in latest and "临近单否（" not in latest


def test_failed_delivery_is_logged_retried_and_carried_to_the_next_run(tmp_path, serve, receiver):
    from govcheck.findings import Finding
    from govcheck.notify import Item, Message, NotifyOutcome, deliver  # noqa: F401

    dead = free_port()
    reg = registry(tmp_path, 1, dead, receiver.port)
    registry_obj = load_registry(reg)
    recipient = next(r for r in registry_obj.notify.recipients if r.kind == "email")
    message = Message(recipient, 1, [Item(1, Finding("link_hidden", "http://a/", "http://x.com/", "隐藏链接", {}, "veto", UNIT, "site", "http://a/"),
                                          ["veto"], 1)], "")
    waits = []
    error = deliver(message, registry_obj, sleep=waits.append)
    assert error and "Connection refused" in error
    assert waits == [0.1, 0.2]   # retries: 2, back-off doubling
    receiver.fail_first = 1
    hook = next(r for r in registry_obj.notify.recipients if r.kind == "wecom")
    assert deliver(Message(hook, 1, message.items, ""), registry_obj, sleep=waits.append) is None
    assert len(receiver.posts) == 1


def write(tmp: Path, text: str) -> Path:
    p = tmp / "sites.yaml"
    p.write_text(text, encoding="utf-8")
    return p


BASE = "units:\n  - name: 东胜区人民政府\n"


@pytest.mark.parametrize("block, line, says", [
    ("notify:\n  smpt: {host: a}\n", 4, "unknown key 'smpt'"),
    ("notify:\n  smtp: {host: 127.0.0.1, sender: a@b.gov.cn, tls: true}\n", 4, "unknown key 'tls'"),
    ("notify:\n  staff: [jc@ordos.gov.cn]\n", 4, "need an smtp: block"),
    ("notify:\n  staff:\n    - {wecom: not-a-url}\n", 5, "not an absolute http(s) URL"),
    ("notify:\n  smtp: {host: h, sender: s@x.gov.cn}\n  units:\n    东胜区: [a@b.gov.cn]\n", 6, "no unit named '东胜区'"),
    ("notify:\n  smtp: {host: h, sender: s@x.gov.cn}\n  staff: [not-an-address]\n", 5, "not an e-mail address"),
    ("notify:\n  staff:\n    - {wecom: 'http://127.0.0.1/', secret: x}\n", 5, "secret is for 钉钉 robots only"),
])
def test_bad_notify_block_names_file_line_and_field(tmp_path, block, line, says):
    path = write(tmp_path, BASE + block)
    with pytest.raises(RegistryError) as exc:
        load_registry(path)
    assert exc.value.line == line and says in str(exc.value) and str(path) in str(exc.value)
    proc = govcheck("scan", str(path), check=False)
    assert proc.returncode == 2 and f"{path}:{line}" in proc.stderr.replace("\n", "")


def test_notify_block_parses_recipients_per_unit_and_for_staff(tmp_path):
    reg = load_registry(write(tmp_path, BASE + "notify:\n  smtp: {host: h, port: 587, starttls: true, sender: s@x.gov.cn}\n"
                              "  staff: [jc@x.gov.cn]\n  units:\n    东胜区人民政府:\n"
                              "      - {dingtalk: 'https://oapi.dingtalk.com/robot/send?access_token=T', secret: SEC1}\n"))
    staff, unit = reg.notify.recipients
    assert staff.kind == "email" and staff.units == () and staff.covers("任何单位")
    assert unit.kind == "dingtalk" and unit.units == ("东胜区人民政府",) and not unit.covers("别的单位")
    assert reg.notify.smtp.starttls and reg.notify.smtp.port == 587


def test_dingtalk_signature_is_hmac_sha256_of_timestamp_and_secret():
    import base64
    import hashlib
    import hmac

    url = dingtalk_signed("https://oapi.dingtalk.com/robot/send?access_token=T", "SEC1", now_ms=1700000000000)
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    expected = base64.b64encode(hmac.new(b"SEC1", b"1700000000000\nSEC1", hashlib.sha256).digest()).decode()
    assert q["timestamp"] == ["1700000000000"] and q["sign"] == [expected]
