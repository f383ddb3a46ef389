"""The 通报 as one document model, rendered to Markdown and to DOCX from the same blocks.

The DOCX is written with python-docx directly (never parsed back from Markdown) in the layout
of GB/T 9704-2012《党政机关公文格式》: A4, margins 37 mm top / 35 mm bottom / 28 mm left /
26 mm right, title in 方正小标宋简体 二号, body in 仿宋_GB2312 三号 with fixed 28.95 pt lines
(22 lines a page), first-level headings in 黑体 三号, second-level in 楷体_GB2312 三号, tables in
仿宋_GB2312 四号, page numbers "— 1 —" in 宋体 四号 at the foot. Machines without those fonts
substitute them; the names are what an office's templates use, so the file opens right there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

TITLE_FONT, BODY_FONT, HEADING_FONT, SUBHEADING_FONT, PAGE_FONT = "方正小标宋简体", "仿宋_GB2312", "黑体", "楷体_GB2312", "宋体"
ER_HAO, SAN_HAO, SI_HAO = 22, 16, 14     # 二号, 三号, 四号 in points


@dataclass
class Block:
    kind: str                      # title | heading | subheading | para | table | closing
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)   # table: header first


@dataclass
class Notice:
    blocks: list[Block] = field(default_factory=list)

    def add(self, kind: str, text: str = "", rows: list[list[str]] | None = None) -> None:
        self.blocks.append(Block(kind, text, rows or []))

    def markdown(self) -> str:
        out: list[str] = []
        for b in self.blocks:
            if b.kind == "title":
                out += [f"# {b.text}", ""]
            elif b.kind == "heading":
                out += [f"## {b.text}", ""]
            elif b.kind == "subheading":
                out += [f"### {b.text}", ""]
            elif b.kind == "table":
                head, *body = b.rows
                out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
                out += ["| " + " | ".join(r) + " |" for r in body]
                out.append("")
            elif b.kind == "closing":
                out.append(b.text)
            else:
                out += [b.text, ""]
        return "\n".join(out).rstrip("\n") + "\n"

    def docx(self, path: Path) -> None:
        from docx import Document
        from docx.enum.section import WD_ORIENT
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
        from docx.shared import Mm, Pt

        doc = Document()
        section = doc.sections[0]
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
        section.left_margin, section.right_margin = Mm(28), Mm(26)
        section.footer_distance = Mm(28) - Mm(7)   # page number 7 mm below the text block
        normal = doc.styles["Normal"]
        _font(normal.font, normal.element, BODY_FONT, SAN_HAO)
        fmt = normal.paragraph_format
        fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(28.95)
        fmt.space_before = fmt.space_after = Pt(0)

        for b in self.blocks:
            if b.kind == "table":
                head, *body = b.rows
                table = doc.add_table(rows=1 + len(body), cols=len(head))
                table.style = "Table Grid"
                table.alignment = WD_TABLE_ALIGNMENT.CENTER
                for i, row in enumerate([head, *body]):
                    for j, value in enumerate(row):
                        cell = table.cell(i, j)
                        p = cell.paragraphs[0]
                        p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
                        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
                        run = p.add_run(value)
                        _font(run.font, run._element, HEADING_FONT if i == 0 else BODY_FONT, SI_HAO)
                continue
            p = doc.add_paragraph()
            font, size = BODY_FONT, SAN_HAO
            if b.kind == "title":
                font, size = TITLE_FONT, ER_HAO
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
                p.paragraph_format.line_spacing = Pt(36)
            elif b.kind == "heading":
                font = HEADING_FONT
                p.paragraph_format.first_line_indent = Pt(SAN_HAO * 2)
            elif b.kind == "subheading":
                font = SUBHEADING_FONT
                p.paragraph_format.first_line_indent = Pt(SAN_HAO * 2)
            elif b.kind == "closing":
                p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                p.paragraph_format.right_indent = Pt(SAN_HAO * 4)
            else:
                p.paragraph_format.first_line_indent = Pt(SAN_HAO * 2)   # 首行缩进两字
            run = p.add_run(b.text)
            _font(run.font, run._element, font, size)
        _page_numbers(section, WD_ALIGN_PARAGRAPH.CENTER)
        doc.save(str(path))


def _font(font, element, name: str, size: float) -> None:
    """Set a font for Latin and East Asian text alike (Word reads CJK from w:eastAsia)."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    font.name, font.size = name, Pt(size)
    rpr = element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, rfonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), name)


def _page_numbers(section, center) -> None:
    """"— N —" in the footer, a PAGE field (GB/T 9704 7.5: 4号半角宋体阿拉伯数字, 一字线)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    p = section.footer.paragraphs[0]
    p.alignment = center

    def run(text: str | None = None):
        r = p.add_run(text or "")
        _font(r.font, r._element, PAGE_FONT, SI_HAO)
        return r

    run("— ")
    for kind, instr in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        r = run()
        if kind:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            r._element.append(fld)
        elif instr == "1":
            r.text = "1"
        else:
            it = OxmlElement("w:instrText")
            it.set(qn("xml:space"), "preserve")
            it.text = instr
            r._element.append(it)
    run(" —")


__all__ = ["Notice", "Block"]
