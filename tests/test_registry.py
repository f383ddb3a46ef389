"""The registry: validated before any request, errors name file, line, unit/site and field."""

import datetime as dt

import pytest
from conftest import govcheck

from govcheck.registry import RegistryError, load_registry

GOOD = """\
as_of: 2024-04-19
resolve:
  www.ds.gov.cn: 127.0.0.1
settings: {max_pages: 50, timeout: 10}
units:
  - name: 东胜区人民政府
    group: 旗区
    sites:
      - url: http://www.ds.gov.cn:8080/
        site_code: "1506020001"
        allow_domains: [ordos.gov.cn]
        columns:
          - {name: 工作动态, url: http://www.ds.gov.cn:8080/gzdt/, rule: 2w}
          - {name: 机构职能, url: http://www.ds.gov.cn:8080/jgzn/}
    accounts:
      - {platform: wechat, name: 东胜发布, feed: http://feeds.example:1200/wechat/ds.xml, warn_days: 7}
  - name: 鄂尔多斯市生态环境局
    group: 部门
    sites:
      - url: http://sthjj.ordos.gov.cn/
"""


def write(tmp_path, text, name="sites.yaml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_good_registry(tmp_path):
    reg = load_registry(write(tmp_path, GOOD))
    assert reg.as_of == dt.date(2024, 4, 19)
    assert reg.resolve == {"www.ds.gov.cn": "127.0.0.1"}
    assert reg.settings.max_pages == 50 and reg.settings.timeout == 10.0
    ds = reg.unit("东胜区人民政府")
    site = ds.sites[0]
    assert site.url == "http://www.ds.gov.cn:8080/" and site.site_code == "1506020001"
    assert site.allow_domains == ("ordos.gov.cn",)
    assert [(c.name, c.rule) for c in site.columns] == [("工作动态", "2w"), ("机构职能", None)]
    assert ds.accounts[0].warn_days == 7 and ds.accounts[0].platform == "wechat"
    assert [s.unit for s in reg.sites] == ["东胜区人民政府", "鄂尔多斯市生态环境局"]


@pytest.mark.parametrize("old, new, line, fragments", [
    ("    group: 旗区\n", "    group: 旗区\n    grop: x\n", 8, ["units[0] (东胜区人民政府).grop", "unknown key 'grop'"]),
    ("http://sthjj.ordos.gov.cn/", "htp//sthjj", 20, ["units[1] (鄂尔多斯市生态环境局).sites[0].url", "not an absolute http(s) URL"]),
    ("  - name: 鄂尔多斯市生态环境局", "  - name: 东胜区人民政府", 17, ["duplicate unit '东胜区人民政府'"]),
    ("rule: 2w}", "rule: 2weeks}", 13, ["columns[0].rule", "unknown rule '2weeks'"]),
    ("www.ds.gov.cn: 127.0.0.1", "www.ds.gov.cn: localhost.example", 3, ["resolve.www.ds.gov.cn", "not an IP address"]),
    ("platform: wechat", "platform: myspace", 16, ["accounts[0].platform", "unknown platform"]),
    ("warn_days: 7", "warn_days: soon", 16, ["accounts[0].warn_days"]),
    ("as_of: 2024-04-19", "as_of: yesterday", 1, ["as_of", "not a date"]),
    ("settings: {max_pages: 50, timeout: 10}", "settings: {max_pages: many}", 4, ["settings.max_pages"]),
    ("settings: {max_pages: 50, timeout: 10}", "settings: {speed: 9}", 4, ["settings.speed", "unknown key"]),
])
def test_bad_registry_names_file_line_and_field(tmp_path, old, new, line, fragments):
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(RegistryError) as exc:
        load_registry(path)
    message = str(exc.value)
    assert message.startswith(f"{path}:{line}:"), message
    for fragment in fragments:
        assert fragment in message


def test_duplicate_site_and_missing_fields(tmp_path):
    dup = GOOD.replace("http://sthjj.ordos.gov.cn/", "http://www.ds.gov.cn:8080/")
    with pytest.raises(RegistryError, match="already registered under 东胜区人民政府"):
        load_registry(write(tmp_path, dup))
    with pytest.raises(RegistryError, match="missing required field 'units'"):
        load_registry(write(tmp_path, "as_of: 2024-04-19\n"))
    with pytest.raises(RegistryError, match="not valid YAML"):
        load_registry(write(tmp_path, "units: [\n  - name: x\n"))
    with pytest.raises(RegistryError, match="file not found"):
        load_registry(tmp_path / "nope.yaml")
    with pytest.raises(RegistryError, match="wordlist file 'missing.txt' not found"):
        load_registry(write(tmp_path, "wordlists: [missing.txt]\n" + GOOD))


CSV = """单位,分组,网站地址,网站标识码,栏目名称,栏目地址,更新规则,平台,账号名称,订阅地址
东胜区人民政府,旗区,http://www.ds.gov.cn/,1506020001,,,,,,
东胜区人民政府,旗区,http://www.ds.gov.cn/,,工作动态,http://www.ds.gov.cn/gzdt/,2w,,,
东胜区人民政府,旗区,,,,,,wechat,东胜发布,http://127.0.0.1:1200/ds.xml
康巴什区人民政府,旗区,http://www.kbs.gov.cn/,1506030001,,,,,,
"""


def test_csv_import(tmp_path):
    reg = load_registry(write(tmp_path, CSV, "sites.csv"))
    ds = reg.unit("东胜区人民政府")
    assert ds.sites[0].site_code == "1506020001"
    assert [(c.name, c.rule) for c in ds.sites[0].columns] == [("工作动态", "2w")]
    assert ds.accounts[0].name == "东胜发布"
    assert reg.unit("康巴什区人民政府").sites[0].url == "http://www.kbs.gov.cn/"


def test_csv_gbk_and_bad_row(tmp_path):
    p = tmp_path / "sites.csv"
    p.write_bytes(CSV.encode("gb18030"))
    assert len(load_registry(p).units) == 2
    bad = CSV.replace("http://www.kbs.gov.cn/", "www.kbs")
    with pytest.raises(RegistryError) as exc:
        load_registry(write(tmp_path, bad, "bad.csv"))
    assert ":5:" in str(exc.value) and "url" in str(exc.value)
    with pytest.raises(RegistryError, match="column '网址2': unknown column"):
        load_registry(write(tmp_path, "单位,网址2\nx,y\n", "cols.csv"))


def test_xlsx_import(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    for row in CSV.strip().splitlines():
        wb.active.append([c or None for c in row.split(",")])
    wb.save(tmp_path / "sites.xlsx")
    reg = load_registry(tmp_path / "sites.xlsx")
    assert [u.name for u in reg.units] == ["东胜区人民政府", "康巴什区人民政府"]
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    with pytest.raises(RegistryError, match="not a readable XLSX"):
        load_registry(tmp_path / "broken.xlsx")


def test_cli_exit_2_before_any_request(tmp_path, serve):
    server = serve({"www.ds.gov.cn": {}})
    text = GOOD.replace("    group: 旗区\n", "    group: 旗区\n    colour: red\n").replace(":8080", f":{server.port}")
    path = write(tmp_path, text)
    proc = govcheck("scan", str(path), "--db", str(tmp_path / "g.db"), check=False)
    assert proc.returncode == 2
    assert f"{path}:8" in proc.stderr and "colour" in proc.stderr
    assert server.requests == []          # failed before any request
    assert not (tmp_path / "g.db").exists()


def test_unknown_unit_filter(tmp_path):
    proc = govcheck("scan", str(write(tmp_path, GOOD)), "--unit", "不存在的单位", "--db", str(tmp_path / "g.db"), check=False)
    assert proc.returncode == 2 and "no unit named '不存在的单位'" in proc.stderr
