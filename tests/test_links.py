"""How a link target's fetch result reads (broken, undetermined, fine). Whole-site cases — one
record per target, external and hidden links — are in tests/checks/link_*/."""

import pytest

from checks import CHECKS
from checks.links import (
    TargetResult,
    classify,
    is_soft_404,
)


def verdict(**kw):
    v = classify(TargetResult(url="http://www.ds.gov.cn/a/b.html", **kw))
    return (v.kind, v.reason) if v else None


@pytest.mark.parametrize("kw, expected", [
    (dict(status=404), ("broken", "404")),
    (dict(status=410), ("broken", "410")),
    (dict(status=500), ("broken", "500")),
    (dict(status=503), ("broken", "503")),
    (dict(error="dns"), ("broken", "dns")),
    (dict(error="refused"), ("broken", "refused")),
    (dict(error="timeout"), ("broken", "timeout")),
    (dict(error="too_many_redirects"), ("broken", "too_many_redirects")),
    (dict(status=401), ("undetermined", "401")),
    (dict(status=403), ("undetermined", "403")),
    (dict(status=429), ("undetermined", "429")),
    (dict(status=200, title="安全验证", snippet="请开启JavaScript并刷新页面"), ("undetermined", "challenge")),
    (dict(status=521, title="", snippet="__jsl_clearance 加速乐"), ("undetermined", "challenge")),
    (dict(status=200, title="页面不存在", snippet="", size=3000), ("broken", "soft404")),
    (dict(status=200, title="东胜区人民政府", snippet="对不起，您访问的页面不存在或已被删除！返回首页", size=3000), ("broken", "soft404")),
    (dict(status=200, title="404 Not Found", snippet="", size=200), ("broken", "soft404")),
    (dict(status=200, title="", snippet="error", size=40), ("broken", "soft404")),
    (dict(status=200, title="", snippet="", size=0, content_type="text/html"), ("broken", "soft404")),
    (dict(status=200, title="关于做好2024年防汛工作的通知", snippet="正文" * 300, size=20000), None),
    (dict(status=200, method="HEAD", size=0, content_type="image/png"), None),
    (dict(status=200, title="", snippet="", size=0, content_type="image/png"), None),
])
def test_classify(kw, expected):
    assert verdict(**kw) == expected


def test_long_article_mentioning_404_is_not_soft404():
    text = "国务院办公厅关于印发《政府网站发展指引》的通知，要求清理404错误页面。" + "正文" * 600
    assert is_soft_404("关于政府网站建设的通知", text, 30000) is None


def test_js_redirect_stub_is_not_an_error_page():
    # Hanweb/TRS column stubs: a tiny page whose only content is a script redirect.
    assert is_soft_404("", "", 90, "text/html") is not None  # truly empty: broken
    assert verdict(status=200, title="跳转", snippet="", size=120) is None


def test_deep_link_redirected_to_homepage_is_broken():
    r = TargetResult(url="http://www.ds.gov.cn/old/a.html", status=200, final_url="http://www.ds.gov.cn/",
                     redirects=("http://www.ds.gov.cn/old/a.html",))
    assert classify(r).reason == "redirect_home"


def test_homepage_moving_to_https_is_fine():
    r = TargetResult(url="http://www.ds.gov.cn/", status=200, final_url="https://www.ds.gov.cn/",
                     redirects=("http://www.ds.gov.cn/",))
    assert classify(r) is None
    r = TargetResult(url="http://www.ds.gov.cn/gzdt", status=200, final_url="http://www.ds.gov.cn/gzdt/",
                     redirects=("http://www.ds.gov.cn/gzdt",))
    assert classify(r) is None


def test_registry_entries_are_complete():
    for code in ("link_broken", "link_undetermined", "link_external", "link_hidden"):
        spec = CHECKS[code]
        assert spec.name and spec.rule and spec.source and not spec.key_on_url


def test_script_redirect_stub_is_not_broken():
    assert verdict(status=200, title="", snippet="（脚本跳转页）", size=90) is None


def test_network_errors_read_in_chinese():
    from checks.links import network_error_zh

    assert network_error_zh("refused: Connection was refused by other side: 111: Connection refused.") == "连接被拒绝"
    assert network_error_zh("dns: DNS lookup failed: no results for hostname lookup: www.x.gov.cn.") == "域名无法解析"
    assert network_error_zh("timeout: Getting http://x/ took longer than 15.0 seconds.", 15) == "超时（15秒）"
    assert network_error_zh("HTTP 500") == "服务器返回错误（HTTP 500）"
    assert network_error_zh("SomethingNew: boom") == "无法访问（网络错误）"
