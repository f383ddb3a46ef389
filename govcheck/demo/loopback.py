"""A loopback HTTP server that plays many government sites at once (demo, tests, benchmarks).

Sites are told apart by the Host header, so pages keep realistic *.gov.cn names and the
registry's `resolve:` map sends them all to 127.0.0.1. Routes can answer with any status,
delay (for the 15-second rule), redirect, or a body in any encoding. It also measures what
politeness promises are about: the most requests in flight at once per host.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Route:
    status: int = 200
    body: bytes | str = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    redirect: str | None = None       # Location; status defaults to 302
    encoding: str = "utf-8"           # how a str body is encoded
    head_status: int | None = None    # answer HEAD differently (servers that mishandle HEAD)

    def payload(self) -> bytes:
        return self.body.encode(self.encoding) if isinstance(self.body, str) else self.body


NOT_FOUND = Route(404, "<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1></body></html>")


class LoopbackSites:
    """hosts: {"www.ds.gov.cn": {"/": Route(...), "/a.html": Route(...)}}; paths include the query."""

    def __init__(self, hosts: dict[str, dict[str, Route]], default_delay: float = 0.0):
        self.hosts = {h.lower(): routes for h, routes in hosts.items()}
        self.default_delay = default_delay
        self.lock = threading.Lock()
        self.in_flight: dict[str, int] = defaultdict(int)
        self.max_in_flight: dict[str, int] = defaultdict(int)
        self.requests: list[tuple[str, str, str]] = []  # (host, method, path)
        self.request_times: list[float] = []             # monotonic time of each request above
        self.conditional: list[tuple[str, str]] = []     # (host, path) asked with If-None-Match
        self.user_agents: set[str] = set()
        self.server: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self, port: int = 0) -> int:
        sites = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                sites._serve(self, head=False)

            def do_HEAD(self):
                sites._serve(self, head=True)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self.server.server_address[1]

    def count(self, host: str, path: str, method: str | None = None) -> int:
        return sum(1 for h, m, p in self.requests if h == host and p == path and (method is None or m == method))

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    # ------------------------------------------------------------------ serving

    def _serve(self, h: BaseHTTPRequestHandler, head: bool) -> None:
        host = (h.headers.get("Host") or "").split(":")[0].lower()
        path = h.path if h.path.startswith("/") else urlsplit(h.path).path or "/"
        with self.lock:
            self.requests.append((host, h.command, path))
            self.request_times.append(time.monotonic())
            self.user_agents.add(h.headers.get("User-Agent") or "")
            if h.headers.get("If-None-Match"):
                self.conditional.append((host, path))
            self.in_flight[host] += 1
            self.max_in_flight[host] = max(self.max_in_flight[host], self.in_flight[host])
        try:
            route = self._route(host, path)
            delay = route.delay or self.default_delay
            if delay:
                time.sleep(delay)
            self._respond(h, route, head)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with self.lock:
                self.in_flight[host] -= 1

    def _route(self, host: str, path: str) -> Route:
        routes = self.hosts.get(host)
        if routes is None:
            return NOT_FOUND
        if path in routes:
            return routes[path]
        bare = path.split("?")[0]
        if bare in routes:
            return routes[bare]
        if bare.endswith("/") and bare + "index.html" in routes:
            return routes[bare + "index.html"]
        return routes.get("*", NOT_FOUND)

    def _respond(self, h: BaseHTTPRequestHandler, route: Route, head: bool) -> None:
        body = route.payload()
        status = route.status
        if head and route.head_status:
            status = route.head_status
        if route.redirect and status == 200:
            status = 302
        etag = '"' + hashlib.md5(body).hexdigest()[:16] + '"'  # noqa: S324 - cache validator, not security
        if status == 200 and h.headers.get("If-None-Match") == etag:
            h.send_response(304)
            h.send_header("ETag", etag)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        h.send_response(status)
        if route.redirect:
            h.send_header("Location", route.redirect)
        if route.content_type:
            h.send_header("Content-Type", route.content_type)
        if status == 200:
            h.send_header("ETag", etag)
        for k, v in route.headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if not head:
            h.wfile.write(body)
