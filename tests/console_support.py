"""Shared by the console tests: databases made by the real commands (the demo's two rounds, a
scan of a hostile site), users added with `govcheck user add`, and a live console server."""

from __future__ import annotations

import shutil
import socket
import sqlite3
import threading
import time
from pathlib import Path

import uvicorn
from conftest import Route, govcheck, html, write_registry

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "console"
PASSWORDS = {"staff1": "staff-pass-1", "assessor1": "assessor-pass-1", "ds": "unit-pass-ds", "kbs": "unit-pass-kbs"}
DS, KBS = "东胜区人民政府", "康巴什区人民政府"
HOSTILE_UNIT = "测试<b>区</b>人民政府"
HOSTILE_HOST = "www.hostile.gov.cn"
EVIL_HOST = "www.evil-portal.com"

_built: dict[str, Path] = {}


def copy_db(src: Path, dst: Path) -> Path:
    """SQLite's own backup (the WAL included), so each test gets an independent database."""
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    return dst


def cli(*args: str, input: str | None = None):
    """The real command line in-process (commands that run no crawl need no fresh reactor)."""
    from click.testing import CliRunner

    from govcheck.cli import main

    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def add_users(db: Path, units: dict[str, str] | None = None) -> None:
    url = f"sqlite:///{db}"
    for name, role, unit in [("staff1", "staff", None), ("assessor1", "assessor", None),
                             *((n, "unit", u) for n, u in (units or {}).items())]:
        done = cli("user", "add", name, "--role", role, *(["--unit", unit] if unit else []), "--db", url,
                   "--password", PASSWORDS[name])
        assert done.exit_code == 0, done.output


def demo_db(cache: Path, rounds: int = 2) -> Path:
    """The demo's database after 1 or 2 runs of `govcheck demo`, with console users (the
    first round's state is kept aside while the second is made)."""
    if "demo2" not in _built:
        folder, first = cache / "demo2", cache / "demo1"
        govcheck("demo", "-o", str(folder), timeout=300)
        add_users(folder / "govcheck.db", {"ds": DS, "kbs": KBS})
        first.mkdir()
        copy_db(folder / "govcheck.db", first / "govcheck.db")
        if (folder / ".demo-ports").exists():   # the demo's ports, so round 2 serves the same URLs
            shutil.copy(folder / ".demo-ports", first / ".demo-ports")
        govcheck("demo", "-o", str(folder), timeout=300)
        _built.update(demo1=first, demo2=folder)
    return _built[f"demo{rounds}"] / "govcheck.db"


def demo_folder(cache: Path, rounds: int = 1) -> Path:
    return demo_db(cache, rounds).parent


# Text planted to break out of markup and attributes wherever crawled text is shown.
SCRIPT_TITLE = '<script>alert("title")</script>"><img src=x onerror=alert(1)>'
SCRIPT_ANCHOR = "\"'><script>alert('anchor')</script><b onmouseover=alert(2)>旅游"
SCRIPT_CONTEXT = "<script>x</script>"   # 18 characters: inside the ±20 of context


def hostile_site(port: int) -> dict[str, Route]:
    body = (f'<p>{SCRIPT_CONTEXT.replace("<", "&lt;").replace(">", "&gt;")}请按装最新版本的客户端</p>'
            f'<a href="http://{EVIL_HOST}:{port}/">{SCRIPT_ANCHOR.replace("<", "&lt;").replace(">", "&gt;")}</a>'
            '<script>document.title = "snapshot-script-ran"; parent.document.title = "snapshot-script-ran";</script>'
            '<a href="/gone.html">已删除</a>')
    title = SCRIPT_TITLE.replace("<", "&lt;").replace(">", "&gt;")
    return {"/": Route(body=html(title, body)), "/gone.html": Route(404, "not found")}


def hostile_db(cache: Path, serve) -> Path:
    if "hostile" not in _built:
        folder = cache / "hostile"
        folder.mkdir(parents=True, exist_ok=True)
        server = serve({})
        server.hosts = {HOSTILE_HOST: hostile_site(server.port),
                        EVIL_HOST: {"/": Route(body=html("portal", "欢迎"))}}
        registry = write_registry(folder / "sites.yaml", [
            {"name": HOSTILE_UNIT, "group": "旗区", "sites": [{"url": f"http://{HOSTILE_HOST}:{server.port}/"}]},
        ], resolve={HOSTILE_HOST: "127.0.0.1", EVIL_HOST: "127.0.0.1"}, as_of="2024-04-19")
        govcheck("scan", str(registry), "--db", str(folder / "govcheck.db"))
        add_users(folder / "govcheck.db")
        _built["hostile"] = folder
    return _built["hostile"] / "govcheck.db"


class LiveConsole:
    """`govcheck serve`'s app under uvicorn in a thread, on a free loopback port."""

    def __init__(self, db: Path):
        from govcheck.web.app import create_app

        self.db = db
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(f"sqlite:///{db}"), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveConsole:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("console did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def fresh(src: Path, tmp_path: Path) -> Path:
    return copy_db(src, tmp_path / "console.db")


__all__ = ["ARTIFACTS", "PASSWORDS", "DS", "KBS", "LiveConsole", "demo_db", "hostile_db", "fresh", "cli",
           "HOSTILE_UNIT", "SCRIPT_TITLE", "SCRIPT_ANCHOR", "SCRIPT_CONTEXT"]
