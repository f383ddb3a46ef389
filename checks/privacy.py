"""个人隐私泄露 (DESIGN §2): unmasked 身份证号, 手机号, 银行卡号 in page text and attachments.

Numbers must be real to count: an ID card passes the GB 11643 checksum and carries a
plausible birth date, a bank card passes Luhn and sits next to 卡号/账号, a mobile number is
not part of a longer number. Masked forms (138****1234, 150102********1234) are what units
are told to publish and never fire. Evidence is stored masked: the finding must not leak
what it reports.
"""

from __future__ import annotations

import datetime as dt
import re

from checks.inputs import TextInput
from checks.registry import register, runs
from govcheck.findings import Finding

PRIVACY_LEAK = register("privacy_leak", "隐私泄露", "deduct",
                        "页面或附件公开了未脱敏的个人信息：身份证号（校验位正确）、手机号、银行卡号（Luhn校验正确）。"
                        "脱敏形式（如138****1234）不算。身份证号、银行卡号为严重问题。",
                        "《政府网站与政务新媒体检查指标》、《个人信息保护法》及政府信息公开个人信息保护要求",
                        key_on_url=True, family="privacy", inputs=("page", "attachment"), notice="privacy", shown_on_page=True)
KINDS = {"id_card": "身份证号", "mobile": "手机号", "bank_card": "银行卡号"}

# A number is personal data only on its own: not touching a letter or digit, not followed by 号
# (a registration or file number), and not continued by a separator and another group (15081599004-00001 is an old 公安备案号, 91150602MA0N…
# a 统一社会信用代码, 13912345678-02 an order line) — the boundaries real pages need. A slash
# or comma lists numbers (13947712345/13947712346 are two mobiles).
_BEFORE = r"(?<![0-9A-Za-z*])(?<![0-9A-Za-z][-_~－])"
_AFTER = r"(?![0-9A-Za-z*])(?![-_~－]\d)(?!号)"
ID_CARD = re.compile(_BEFORE + r"([1-8]\d{16}[\dXx])" + _AFTER)
MOBILE = re.compile(_BEFORE + r"(1[3-9]\d{9})" + _AFTER)
BANK_CARD = re.compile(_BEFORE + r"(\d{16,19})" + _AFTER)
# Labels that say what a number is when it is not a person's: registrations, codes, file and
# order numbers. (身份证号 is a person's, so 证号 alone is not a decoy.)
NOT_PERSONAL_LABEL = re.compile(r"(备案|信用代码|机构代码|登记号|注册号|许可证|批准号|文号|案号|索引号|编号|编码|订单|单号|流水号|"
                                r"合同号|项目号|项目代码|识别码|标识码|税号|纳税人识别号|邮编|条码)[号码]?\s*[:：]?\s*$|[〔\[［(（]\d{4}[〕\]］)）]\s*$")
BANK_LABEL = re.compile(r"(卡号|账号|帐号|银行卡|账户|帐户|开户行)[^。；;\n]{0,15}$")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def id_card_valid(number: str, today: dt.date | None = None) -> bool:
    """GB 11643-1999 checksum and a birth date between 1900 and today."""
    if not re.fullmatch(r"\d{17}[\dXx]", number):
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], ID_WEIGHTS))
    if ID_CHECK[total % 11] != number[17].upper():
        return False
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return dt.date(1900, 1, 1) <= born <= (today or dt.date.today())


def luhn_valid(number: str) -> bool:
    digits = [int(d) for d in number][::-1]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits))
    return total % 10 == 0


def mask(kind: str, number: str) -> str:
    if kind == "id_card":
        return number[:6] + "*" * 8 + number[-4:]
    if kind == "mobile":
        return number[:3] + "****" + number[-4:]
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def scrub(context: str) -> str:
    """Mask every long digit run in a context: a window may cut into a neighbouring number
    (the next column of a roster) that is personal data too."""
    return re.sub(r"\d{6,}[\dXx]?", lambda m: m.group()[:2] + "*" * (len(m.group()) - 4) + m.group()[-2:], context)


def find_personal_data(text: str, today: dt.date | None = None,
                       spans: list[tuple[int, int, str]] | None = None) -> dict[str, list[tuple[str, str]]]:
    """kind → [(masked number, masked context)]; `spans` (if given) receives (start, end, kind)
    of every number found."""
    found: dict[str, list[tuple[str, str]]] = {}
    taken: set[tuple[int, int]] = set()

    def add(kind: str, m: re.Match) -> None:
        number = m.group(1)
        if spans is not None:
            spans.append((m.start(1), m.end(1), kind))
        lo, hi = max(0, m.start() - 15), m.end() + 10
        context = scrub(text[lo:m.start()]) + mask(kind, number) + scrub(text[m.end():hi])
        found.setdefault(kind, []).append((mask(kind, number), re.sub(r"\s+", " ", context)))
        taken.add((m.start(1), m.end(1)))

    def labelled_otherwise(m: re.Match) -> bool:
        return bool(NOT_PERSONAL_LABEL.search(text[max(0, m.start() - 12):m.start()]))

    for m in ID_CARD.finditer(text):
        if id_card_valid(m.group(1), today) and not labelled_otherwise(m):
            add("id_card", m)
    for m in BANK_CARD.finditer(text):
        if (m.start(1), m.end(1)) in taken or not luhn_valid(m.group(1)) or labelled_otherwise(m):
            continue
        if BANK_LABEL.search(text[max(0, m.start() - 25):m.start()]):
            add("bank_card", m)
    for m in MOBILE.finditer(text):
        if not labelled_otherwise(m):
            add("mobile", m)
    return found


def mask_personal_data(text: str, today: dt.date | None = None) -> str:
    """The text with every personal number this check would report masked (snapshots handed to
    units must not leak what the finding reports)."""
    spans: list[tuple[int, int, str]] = []
    find_personal_data(text, today, spans)
    for start, end, kind in sorted(spans, reverse=True):
        text = text[:start] + mask(kind, text[start:end]) + text[end:]
    return text


def check_privacy(url: str, text: str, today: dt.date | None = None, where: str = "页面") -> list[Finding]:
    findings = []
    for kind, hits in find_personal_data(text, today).items():
        serious = kind in ("id_card", "bank_card")
        findings.append(Finding(PRIVACY_LEAK.code, url, kind,
                                f"{where}公开了 {len(hits)} 处未脱敏{KINDS[kind]}，如：…{hits[0][1]}…",
                                {"kind": kind, "name": KINDS[kind], "count": len(hits), "serious": serious,
                                 "samples": [h[0] for h in hits[:5]], "contexts": [h[1] for h in hits[:3]]}))
    return findings


@runs(PRIVACY_LEAK, on="page")
@runs(PRIVACY_LEAK, on="attachment")
def privacy_checks(doc: TextInput, _resources) -> list[Finding]:
    return check_privacy(doc.url, doc.text, doc.as_of, where=doc.where)
