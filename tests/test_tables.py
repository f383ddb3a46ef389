"""The one table importer (govcheck.tables) behind registry sheets and manual scores: CSV in
UTF-8, UTF-16 or GBK, XLSX with numbers typed into cells, English or Chinese headers."""

import pytest
from openpyxl import Workbook

from govcheck.registry import load_registry
from govcheck.tables import TableError, read_table
from scoring.model import load_manual, load_scheme

HEADERS = {"unit": ("unit", "单位"), "code": ("site_code", "网站标识码")}


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "gbk", "gb18030"])
def test_csv_in_the_encodings_excel_writes(tmp_path, encoding):
    path = tmp_path / "t.csv"
    path.write_bytes("单位,网站标识码\n东胜区人民政府,1506020001\n".encode(encoding))
    table = read_table(path, HEADERS, required=("unit",))
    assert table.rows == [(2, {"unit": "东胜区人民政府", "code": "1506020001"})]


def test_xlsx_numbers_stay_codes(tmp_path):
    wb = Workbook()
    wb.active.append(["单位", "网站标识码"])
    wb.active.append(["东胜区人民政府", 1506020001.0])
    wb.active.append([None, None])
    wb.save(tmp_path / "t.xlsx")
    assert read_table(tmp_path / "t.xlsx", HEADERS).rows == [(2, {"unit": "东胜区人民政府", "code": "1506020001"})]


def test_unknown_and_missing_columns_name_the_file_and_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("单位,备注\n甲,x\n", encoding="utf-8")
    with pytest.raises(TableError, match=r"t\.csv:1: column '备注': unknown column"):
        read_table(path, HEADERS)
    assert read_table(path, HEADERS, unknown="ignore").rows == [(2, {"unit": "甲"})]
    path.write_text("备注\nx\n", encoding="utf-8")
    with pytest.raises(TableError, match=r"t\.csv:1: header: missing the unit column \(unit / 单位\)"):
        read_table(path, HEADERS, required=("unit",), unknown="ignore")


def test_registry_and_manual_scores_read_gbk_sheets(tmp_path):
    reg = tmp_path / "sites.csv"
    reg.write_bytes("单位,分组,网站地址\n东胜区人民政府,旗区,http://www.ds.gov.cn/\n".encode("gbk"))
    registry = load_registry(reg)
    assert [(u.name, u.group, u.sites[0].url) for u in registry.units] == [("东胜区人民政府", "旗区", "http://www.ds.gov.cn/")]
    scheme = load_scheme("ordos-2022")
    manual = tmp_path / "manual.csv"
    item = next(i.name for i in scheme.indicators if i.kind == "manual")
    manual.write_bytes(f"单位,项目,得分\n东胜区人民政府,{item},3\n".encode("gbk"))
    entries = load_manual(str(manual), scheme, {"东胜区人民政府": "旗区"})
    assert entries[("东胜区人民政府", item)].score == 3.0
