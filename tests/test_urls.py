"""URL normalisation and site membership: one spelling per target, the 外链 boundary."""

import pytest

from govcheck.urls import is_external, is_homepage_path, normalize_url


@pytest.mark.parametrize("raw, base, expected", [
    ("/a/b.html", "http://www.ds.gov.cn/", "http://www.ds.gov.cn/a/b.html"),
    ("../c.html#top", "http://www.ds.gov.cn/a/b/index.html", "http://www.ds.gov.cn/a/c.html"),
    ("HTTP://WWW.DS.GOV.CN:80/x", None, "http://www.ds.gov.cn/x"),
    ("https://www.ds.gov.cn:443/", None, "https://www.ds.gov.cn/"),
    ("http://www.ds.gov.cn:8080", None, "http://www.ds.gov.cn:8080/"),
    ("./t20240419_1.html", "http://www.ds.gov.cn/gzdt/", "http://www.ds.gov.cn/gzdt/t20240419_1.html"),
    ("/list.jsp?b=2&a=1", "http://www.ds.gov.cn/", "http://www.ds.gov.cn/list.jsp?a=1&b=2"),
    ("/政务公开/", "http://www.ds.gov.cn/", "http://www.ds.gov.cn/%E6%94%BF%E5%8A%A1%E5%85%AC%E5%BC%80/"),
    ("\\gzdt\\1.html", "http://www.ds.gov.cn/", "http://www.ds.gov.cn/gzdt/1.html"),
])
def test_normalize(raw, base, expected):
    assert normalize_url(raw, base) == expected


@pytest.mark.parametrize("raw", ["javascript:void(0)", "mailto:a@b.cn", "#", "tel:0477", "", "ftp://x/", "data:image/png;base64,AA"])
def test_not_fetchable(raw):
    assert normalize_url(raw, "http://www.ds.gov.cn/") is None


def test_external_boundary():
    site = "http://www.ds.gov.cn/"
    assert is_external("http://www.baidu.com/", site)
    assert not is_external("http://www.gov.cn/", site)
    assert not is_external("http://www.nmg.gov.cn/x", site)
    assert not is_external("http://www.ds.gov.cn/a", site)
    assert not is_external("http://news.ordos.com.cn/", site, ["ordos.com.cn"])
    assert is_external("http://evilordos.com.cn/", site, ["ordos.com.cn"])


def test_homepage_paths():
    assert is_homepage_path("http://x.gov.cn/")
    assert is_homepage_path("http://x.gov.cn/index.html")
    assert is_homepage_path("http://x.gov.cn/index.shtml")
    assert not is_homepage_path("http://x.gov.cn/gzdt/index.html")


@pytest.mark.parametrize("base", [
    "http://www.ds.gov.cn/a/b/index.html?page=2", "http://www.ds.gov.cn", "https://www.ds.gov.cn:8443/a;p/b;q",
    "http://www.ds.gov.cn/a/b/", "http://[::1]:8080/x/y.html",
])
def test_link_resolver_gives_what_link_target_gives(base):
    # The resolver shares one computation between pages by resolving a link against the part
    # of the base it depends on: for every kind of link the answer must be link_target's.
    from govcheck.urls import LinkResolver, link_target
    hrefs = ["/a/../c.html", "c.html", "./d/e.html?x=1", "../../up.html", "?page=3", ";jsessionid=1", "", "  /sp.html ",
             "//other.gov.cn/x", "HTTP://WWW.DS.GOV.CN:80/y", "http:rel.html", "a.html?u=http://x.cn/", "x.html#top",
             "javascript:void(0)", "mailto:a@b.cn", "#", "\\gzdt\\1.html", "http://bad host/", "http://x.cn:99999/",
             "http://[::1/", "/" + "a" * 2100, ".", "..", "a:b/c", None]
    resolve = LinkResolver(base)
    for _ in range(2):  # the second round is answered from the cache
        for href in hrefs:
            assert resolve(href) == link_target(href, base), (href, base)
