"""个人隐私: valid and invalid checksums, masked evidence, attachments. Page cases (masked forms,
document numbers, landlines, labelled card numbers) are in tests/checks/privacy_leak/."""

import datetime as dt
import io

from checks.privacy import (
    check_privacy,
    find_personal_data,
    id_card_valid,
    luhn_valid,
    mask,
)
from govcheck.attachments import attachment_text
from govcheck.demo.sites import fake_id

ID = fake_id("15060219780823301")   # valid checksum, born 1978-08-23
TODAY = dt.date(2024, 4, 19)


def kinds(text):
    return {k: [n for n, _ in v] for k, v in find_personal_data(text, TODAY).items()}


def test_id_card_checksum_and_birth_date():
    assert id_card_valid(ID, TODAY)
    wrong = ID[:17] + ("0" if ID[17] != "0" else "1")
    assert not id_card_valid(wrong, TODAY)
    assert not id_card_valid(fake_id("15060230000101001"), TODAY)  # born in 3000
    assert not id_card_valid(fake_id("15060219781323301"), TODAY)  # month 13
    assert kinds(f"身份证号：{ID}") == {"id_card": [mask("id_card", ID)]}
    assert kinds(f"身份证号：{wrong}") == {}


def test_bank_card_numbers_pass_luhn():
    # A labelled card number that passes fires (tests/checks/privacy_leak/fire-bank-card-with-its-label.yaml).
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert luhn_valid("6222020200112233446") and not luhn_valid("6222020200112233445")

def test_evidence_is_masked_even_around_other_numbers():
    text = f"张某某 {ID} 13947710001 李某某"
    [idf, mobile] = sorted(check_privacy("http://x/a.html", text, TODAY), key=lambda f: f.subject)
    for f in (idf, mobile):
        assert ID not in f.evidence and ID[6:14] not in f.evidence and "13947710001" not in f.evidence
    assert idf.detail["serious"] is True and mobile.detail["serious"] is False


def test_attachments_are_read():
    from docx import Document
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["姓名", "身份证号码"])
    wb.active.append(["张某某", ID])
    buf = io.BytesIO()
    wb.save(buf)
    assert ID in attachment_text("http://x/a.xlsx", buf.getvalue())
    doc = Document()
    doc.add_paragraph(f"当事人身份证号：{ID}")
    buf = io.BytesIO()
    doc.save(buf)
    [f] = check_privacy("http://x/a.docx", attachment_text("http://x/a.docx", buf.getvalue()), TODAY, where="附件")
    assert f.subject == "id_card" and f.evidence.startswith("附件")
    assert attachment_text("http://x/a.pdf", b"not a pdf") is None
    assert attachment_text("http://x/a.doc", b"\xd0\xcf\x11\xe0") is None


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF showing `text` in Helvetica (ASCII only), with a correct xref table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_pdf_attachment():
    text = attachment_text("http://x/list.pdf", minimal_pdf(f"ID {ID} TEL 13947710001"))
    assert ID in text
    assert {f.subject for f in check_privacy("http://x/list.pdf", text, TODAY)} == {"id_card", "mobile"}


# Real forms of numbers that are not personal data although a digit run inside looks like one.
NOT_PERSONAL = [
    "公安机关备案号：15081599004-00001",               # old-style 公安备案 (the issue's page)
    "蒙公网安备 15060213912345号",                      # 14-digit registration ending like a mobile
    "统一社会信用代码：91150602MA13912345",              # credit code: letters then digits
    f"统一社会信用代码 {ID}",                            # an all-digit code that passes the ID checksum
    "索引号：11150600MB1539474X/2024-13912345678",      # 索引号 with a digit group after "-"
    "东政发〔2024〕13912345678号",                       # 文号 with an absurd serial
    "订单号：13912345678-0001",                          # order line
    "项目代码：2024-150602-13912345678",                 # 项目代码 groups
    "编号：13912345678",
    "版本 v13912345678",
    "ICP备13912345678号",
]


def test_numbers_that_continue_or_are_labelled_are_not_personal_data():
    for text in NOT_PERSONAL:
        assert kinds(text) == {}, text


def test_real_personal_data_next_to_separators_still_found():
    assert kinds("联系人：王某，电话：13947712345。") == {"mobile": ["139****2345"]}
    assert kinds("手机13947712345/13947712346") == {"mobile": ["139****2345", "139****2346"]}
    assert kinds(f"身份证号：{ID}，住址：东胜区") == {"id_card": [mask("id_card", ID)]}
    assert kinds(f"（{ID}）") == {"id_card": [mask("id_card", ID)]}
