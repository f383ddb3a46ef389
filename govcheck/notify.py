"""Alerts after a scheduled scan (`notify:` in the registry): one message per recipient listing
the new vetoes (单项否决), near-vetoes (临近单否, with the days left) and re-opened problems (复现)
of the units it covers, each with a link to the web console.

Vetoes found at night must not wait until someone opens a report. Each item is told once per
recipient and open period: the `notifications` table records what reached whom (finding,
recipient, reason, the scan that opened the finding's current open period), so a veto still open
tomorrow is not news, one fixed and back is, and a message that could not be delivered is tried
again after the next scan. Nothing is sent when nothing is new. Sending failures are logged and
retried with back-off; they never fail the scan or the command.

E-mail through smtplib (STARTTLS, login with a password from the environment); robots through
`requests` in the 企业微信 and 钉钉 markdown formats (钉钉 加签 when a secret is given).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import smtplib
import time
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from checks import CHECKS
from govcheck import clock
from govcheck.findings import Finding
from govcheck.history import findings_at
from govcheck.registry import Notify, Recipient, Registry
from govcheck.store.schema import FixRow, NotificationRow, ScanRow, SightingRow
from govcheck.store.writer import chunks, insert_ignore
from govcheck.urls import host_of

log = logging.getLogger("govcheck.notify")
REASON_ZH = {"veto": "新增单项否决", "near_veto": "临近单否", "reopened": "复现问题"}
REASON_ORDER = ("veto", "near_veto", "reopened")
WECOM_MAX_BYTES = 4000     # 企业微信 markdown content limit is 4096 bytes
DINGTALK_MAX_CHARS = 5000


@dataclass
class Item:
    """One finding that is news, and why."""

    finding_id: int
    finding: Finding
    reasons: list[str]            # why it is news (veto, near_veto, reopened); the first heads its section
    episode: int
    days_left: int | None = None

    @property
    def section(self) -> str:
        return "reopened" if "reopened" in self.reasons else self.reasons[0]


@dataclass
class Message:
    recipient: Recipient
    scan_id: int
    items: list[Item]
    console_url: str

    def link(self, item: Item) -> str | None:
        return f"{self.console_url.rstrip('/')}/findings/{item.finding_id}" if self.console_url else None

    @property
    def counts(self) -> dict[str, int]:
        return {r: sum(1 for i in self.items if i.section == r) for r in REASON_ORDER}

    @property
    def title(self) -> str:
        c = self.counts
        return (f"【政府网站巡检】批次{self.scan_id}：新增单项否决 {c['veto']} 条、临近单否 {c['near_veto']} 条、"
                f"复现 {c['reopened']} 条")

    def _line(self, item: Item, markdown: bool) -> str:
        f = item.finding
        spec = CHECKS.get(f.check)
        # A link's subject is its target URL, already in the evidence.
        what = f"「{f.subject}」" if f.subject and not (spec and spec.family == "links") else ""
        left = f"（还剩 {item.days_left} 天）" if item.days_left is not None else ""
        veto = "【单否】" if item.section == "reopened" and f.severity == "veto" else ""
        text = f"{f.unit} {veto}{spec.name if spec else f.check}{what}{left}：{f.evidence[:120]}"
        link = self.link(item)
        if markdown:
            return f"- {text}" + (f" [查看]({link})" if link else "")
        return f"- {text}\n  页面：{f.url}" + (f"\n  详情：{link}" if link else "")

    def text(self, markdown: bool = False) -> str:
        lines = [f"### {self.title}" if markdown else self.title, ""]
        for reason in REASON_ORDER:
            items = [i for i in self.items if i.section == reason]
            if not items:
                continue
            lines.append(f"**{REASON_ZH[reason]}（{len(items)} 条）**" if markdown else f"{REASON_ZH[reason]}（{len(items)} 条）：")
            lines += [self._line(i, markdown) for i in items]
            lines.append("")
        if self.console_url:
            lines.append(f"[打开巡检平台]({self.console_url})" if markdown else f"巡检平台：{self.console_url}")
        return "\n".join(lines).rstrip() + "\n"


@dataclass
class NotifyOutcome:
    messages: int = 0
    sent: int = 0
    failed: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if not self.messages:
            return "alerts: nothing new to tell"
        return (f"alerts: {self.sent} of {self.messages} messages sent"
                + (f"; failed: {'; '.join(self.failed)}" if self.failed else ""))


def _open_periods(session: Session, scan_id: int, ids: list[int]) -> tuple[dict[int, int], set[int]]:
    """finding → the scan that opened its current open period; and the findings re-opened by
    this very scan (seen now, found fixed by a scan after their previous sighting)."""
    last_fix: dict[int, int] = {}
    sightings: dict[int, list[int]] = defaultdict(list)
    for batch in chunks(ids, 500):
        for fid, sid in session.execute(select(FixRow.finding_id, FixRow.scan_id)
                                        .where(FixRow.finding_id.in_(batch), FixRow.scan_id < scan_id)):
            last_fix[fid] = max(sid, last_fix.get(fid, 0))
        for fid, sid in session.execute(select(SightingRow.finding_id, SightingRow.scan_id)
                                        .where(SightingRow.finding_id.in_(batch), SightingRow.scan_id <= scan_id)):
            sightings[fid].append(sid)
    episode, reopened = {}, set()
    for fid in ids:
        fix = last_fix.get(fid, 0)
        after = sorted(s for s in sightings[fid] if s > fix)
        episode[fid] = after[0] if after else scan_id
        if fix and episode[fid] == scan_id:
            reopened.add(fid)
    return episode, reopened


def news(session: Session, scan: ScanRow) -> list[Item]:
    """What scan `scan` found that is news: open vetoes, near-vetoes, and problems it re-opened."""
    # Only what reaches units counts: a review-only finding (external link, 401/403 …) becomes a
    # problem when a reviewer confirms it.
    states = [st for st in findings_at(session, scan)
              if st.status == "open" and st.last_scan_id == scan.id and st.reaches_units]
    episode, reopened = _open_periods(session, scan.id, [st.id for st in states])
    items = []
    for st in states:
        reasons = []
        if st.id in reopened:
            reasons.append("reopened")
        if st.finding.severity == "veto":
            reasons.append("veto")
        elif st.finding.severity == "warn":
            reasons.append("near_veto")
        if not reasons:
            continue
        reasons.sort(key=REASON_ORDER.index)
        items.append(Item(st.id, st.finding, reasons, episode[st.id], st.finding.detail.get("days_left")))
    items.sort(key=lambda i: (REASON_ORDER.index(i.section), i.finding.unit, i.finding.check, i.finding_id))
    return items


def plan_messages(session: Session, scan: ScanRow, notify: Notify, console_url: str) -> list[Message]:
    """One message per recipient with what it has not been told yet (empty recipients get none)."""
    items = news(session, scan)
    if not items or not notify.recipients:
        return []
    told: set[tuple[int, str, str, int]] = set()
    for batch in chunks([i.finding_id for i in items], 500):
        told |= set(session.execute(select(NotificationRow.finding_id, NotificationRow.recipient, NotificationRow.reason,
                                           NotificationRow.episode).where(NotificationRow.finding_id.in_(batch))).all())
    messages = []
    for recipient in notify.recipients:
        mine = [i for i in items if recipient.covers(i.finding.unit)
                and any((i.finding_id, recipient.key, r, i.episode) not in told for r in i.reasons)]
        if mine:
            messages.append(Message(recipient, scan.id, mine, console_url))
    return messages


# --------------------------------------------------------------------------- delivery

class DeliveryError(RuntimeError):
    pass


def send_email(message: Message, notify: Notify) -> None:
    smtp = notify.smtp
    if smtp is None:
        raise DeliveryError("no smtp: block")
    mail = EmailMessage()
    mail["Subject"] = message.title
    mail["From"] = smtp.sender
    mail["To"] = message.recipient.address
    mail["Date"] = clock.now().strftime("%a, %d %b %Y %H:%M:%S %z")
    mail.set_content(message.text())
    with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as server:
        if smtp.starttls:
            server.starttls()
        if smtp.username:
            password = os.environ.get(smtp.password_env or "", "")
            if not password:
                raise DeliveryError(f"smtp login: environment variable {smtp.password_env or '(password_env)'} is empty")
            server.login(smtp.username, password)
        server.send_message(mail)


def _truncate_bytes(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit - 30].decode("utf-8", "ignore").rsplit("\n", 1)[0] + "\n…（其余见巡检平台）"


def robot_payload(message: Message) -> dict:
    """The robot's JSON body: 企业微信 `markdown.content`, 钉钉 `markdown.title` + `.text`."""
    text = message.text(markdown=True)
    if message.recipient.kind == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": _truncate_bytes(text, WECOM_MAX_BYTES)}}
    if len(text) > DINGTALK_MAX_CHARS:
        text = text[:DINGTALK_MAX_CHARS].rsplit("\n", 1)[0] + "\n…（其余见巡检平台）"
    return {"msgtype": "markdown", "markdown": {"title": message.title, "text": text}}


def dingtalk_signed(url: str, secret: str, now_ms: int | None = None) -> str:
    """钉钉 加签: timestamp and sign = base64(HMAC-SHA256(secret, "timestamp\\nsecret")) in the URL."""
    ts = str(now_ms if now_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={sign}"


def send_robot(message: Message, resolve: dict[str, str], resolve_only: bool, timeout: float = 15.0) -> None:
    import requests

    url = message.recipient.address
    if message.recipient.kind == "dingtalk" and message.recipient.secret:
        url = dingtalk_signed(url, message.recipient.secret)
    host = host_of(url)
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if host in resolve and url.startswith("http://"):
        # The registry's resolve: map covers every request the tool makes, alerts too.
        parts = urllib.parse.urlsplit(url)
        headers["Host"] = parts.netloc
        addr = resolve[host]
        url = urllib.parse.urlunsplit(parts._replace(netloc=f"{f'[{addr}]' if ':' in addr else addr}"
                                                            f"{f':{parts.port}' if parts.port else ''}"))
    elif resolve_only and not _is_ip(host) and host not in resolve:
        raise DeliveryError(f"{host}: not in the registry's resolve: map (resolve_only)")
    reply = requests.post(url, json=robot_payload(message), headers=headers, timeout=timeout, allow_redirects=False)
    if reply.status_code != 200:
        raise DeliveryError(f"HTTP {reply.status_code}")
    try:
        body = reply.json()
    except ValueError:
        raise DeliveryError(f"not a robot reply: {reply.text[:100]!r}") from None
    if body.get("errcode", 0) != 0:
        raise DeliveryError(f"errcode {body.get('errcode')}: {body.get('errmsg')}")


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def deliver(message: Message, registry: Registry, sleep=time.sleep) -> str | None:
    """Send with retries and back-off; None when sent, else the last error (logged)."""
    notify = registry.notify
    error = None
    for attempt in range(notify.retries + 1):
        if attempt:
            sleep(notify.retry_delay * 2 ** (attempt - 1))
        try:
            if message.recipient.kind == "email":
                send_email(message, notify)
            else:
                send_robot(message, registry.resolve, registry.settings.resolve_only)
            return None
        except Exception as exc:   # network, SMTP, HTTP, robot errors alike: log, retry
            error = f"{type(exc).__name__}: {exc}"
            log.warning("alert to %s, attempt %d of %d failed: %s", message.recipient.key, attempt + 1,
                        notify.retries + 1, error)
    return error


def notify_scan(sessions: sessionmaker[Session], registry: Registry, scan_id: int | None = None) -> NotifyOutcome:
    """Tell every recipient what scan `scan_id` (default: the latest completed one) found new."""
    outcome = NotifyOutcome()
    if not registry.notify.recipients:
        return outcome
    with sessions() as session:
        q = select(ScanRow).where(ScanRow.status == "done")
        scan = session.scalar(q.where(ScanRow.id == scan_id) if scan_id else q.order_by(ScanRow.id.desc()).limit(1))
        if scan is None:
            return outcome
        messages = plan_messages(session, scan, registry.notify, registry.settings.console_url)
    outcome.messages = len(messages)
    for message in messages:
        error = deliver(message, registry)
        if error:
            outcome.failed.append(f"{message.recipient.key}: {error}")
            continue   # not recorded: the next scan's alerts carry it again
        outcome.sent += 1
        rows = [dict(finding_id=i.finding_id, recipient=message.recipient.key, reason=r, episode=i.episode,
                     scan_id=message.scan_id, sent_at=clock.now()) for i in message.items for r in i.reasons]
        with sessions.begin() as session:
            insert_ignore(session, NotificationRow, rows, ["finding_id", "recipient", "reason", "episode"])
    return outcome
