"""Politeness is a promise measured at the server: requests in flight per host never exceed
the configured limit (DESIGN §8 — Scrapy's asyncio reactor broke this; the epoll reactor holds)."""

import pytest
from conftest import Route, govcheck, html, write_registry


def slow_site(n_pages: int) -> dict[str, Route]:
    links = "".join(f'<a href="/p{i}.html">第{i}篇</a><img src="/i{i}.png">' for i in range(n_pages))
    routes = {"/": Route(body=html("首页", links))}
    for i in range(n_pages):
        routes[f"/p{i}.html"] = Route(body=html(f"第{i}篇", "<p>正文</p>"))
        routes[f"/i{i}.png"] = Route(body=b"\x89PNG", content_type="image/png")
    return routes


@pytest.mark.parametrize("limit", [2, 4])
def test_per_host_concurrency_holds_at_the_server(tmp_path, serve, limit):
    hosts = {"www.a.gov.cn": slow_site(30), "www.b.gov.cn": slow_site(30)}
    server = serve(hosts, default_delay=0.15)
    registry = write_registry(tmp_path / "sites.yaml", [
        {"name": "甲单位", "sites": [{"url": f"http://www.a.gov.cn:{server.port}/"}]},
        {"name": "乙单位", "sites": [{"url": f"http://www.b.gov.cn:{server.port}/"}]},
    ], resolve={h: "127.0.0.1" for h in hosts}, settings={"concurrency_per_host": limit, "concurrency": 32})
    govcheck("scan", str(registry), "--db", str(tmp_path / "g.db"))
    assert len(server.requests) >= 2 * 61
    for host in hosts:
        assert server.max_in_flight[host] <= limit, dict(server.max_in_flight)
    # Two hosts are crawled side by side: the limit is per host, not global.
    assert max(server.max_in_flight.values()) >= 2


def test_user_agent_is_clear(tmp_path, serve):
    server = serve({"www.a.gov.cn": {"/": Route(body=html("首页"))}})
    registry = write_registry(tmp_path / "sites.yaml", [{"name": "甲", "sites": [{"url": f"http://www.a.gov.cn:{server.port}/"}]}],
                              resolve={"www.a.gov.cn": "127.0.0.1"})
    govcheck("scan", str(registry), "--db", str(tmp_path / "g.db"))
    assert server.user_agents and all(ua.startswith("govcheck/") for ua in server.user_agents)
