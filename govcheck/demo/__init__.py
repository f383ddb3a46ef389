"""`govcheck demo`: serve the bundled demo sites on loopback, scan them, write the findings."""

from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path

from rich.console import Console

from govcheck.loopback import LoopbackSites

DEMO_SCHEME = "national-2019"


def free_port() -> int:
    """A loopback port nobody listens on (the demo's unreachable site points here)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_demo(output: str | None, console: Console) -> Path:
    from govcheck.cli import run_and_report
    from govcheck.demo.sites import build_sites, registry_yaml, render_routes
    from govcheck.export import to_jsonl, write_xlsx
    from govcheck.registry import load_registry
    from scoring.model import load_scheme
    from scoring.report import score_registry, write_scores

    out = Path(output or f"govcheck-demo-{dt.datetime.now():%Y%m%d-%H%M%S}")
    out.mkdir(parents=True, exist_ok=True)
    sites = build_sites()
    server = LoopbackSites({})
    port = server.start()
    server.hosts = render_routes(sites, port)
    closed = free_port()
    registry_path = out / "sites.yaml"
    registry_path.write_text(registry_yaml(sites, port, closed), encoding="utf-8")
    db = out / "govcheck.db"
    console.print(f"demo sites on 127.0.0.1:{port} ({len(sites)} units + 1 unreachable); scanning into {db}")
    registry = load_registry(registry_path)
    try:
        _outcome, records = run_and_report(registry, f"sqlite:///{db}", None, None, console)
    finally:
        server.stop()
    (out / "findings.jsonl").write_text(to_jsonl(records), encoding="utf-8")
    write_xlsx(records, str(out / "findings.xlsx"))
    scheme = load_scheme(DEMO_SCHEME)
    scores, deductions = score_registry(registry, scheme, None, f"sqlite:///{db}", None)
    write_scores(str(out / f"scores-{DEMO_SCHEME}.xlsx"), scheme, scores, deductions)
    console.print(f"scored with {DEMO_SCHEME}: " + "，".join(f"{s.unit} {s.total:g}{'（单项否决）' if s.vetoed else ''}"
                                                         for s in sorted(scores, key=lambda s: (s.group, s.rank))))
    console.print(f"\n[bold green]demo output:[/] {out.resolve()}  (sites.yaml, govcheck.db, findings.jsonl, findings.xlsx, "
                  f"scores-{DEMO_SCHEME}.xlsx)")
    return out
