"""`govcheck demo`: serve the bundled demo sites on loopback, scan them, write findings,
scores and reports. Run it again on the same folder and the units have rectified some
problems (and made a new one) 17 days later: the summary shows what is new and what is fixed.
"""

from __future__ import annotations

import socket
from pathlib import Path

from rich.console import Console

from govcheck.demo.loopback import LoopbackSites

DEMO_SCHEME = "national-2019"
DEFAULT_FOLDER = "govcheck-demo"


def free_port() -> int:
    """A loopback port nobody listens on (the demo's unreachable site points here)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _saved_ports(path: Path) -> list[int]:
    try:
        return [int(x) for x in path.read_text().split()]
    except (OSError, ValueError):
        return []


def _start(server: LoopbackSites, path: Path) -> int:
    """The demo's sites keep their port from round to round: the port is part of every URL,
    and URLs are part of a finding's identity."""
    saved = _saved_ports(path)
    try:
        port = server.start(saved[0] if saved else 0)
    except OSError:
        port = server.start()   # taken by something else: findings will look new this round
    path.write_text(f"{port} {saved[1] if len(saved) > 1 else free_port()}\n")
    return port


def _closed_port(path: Path) -> int:
    return _saved_ports(path)[1]


def completed_scans(db: Path) -> int:
    if not db.exists():
        return 0
    from sqlalchemy import func, select

    from govcheck.store.engine import open_db, session_factory
    from govcheck.store.schema import ScanRow

    with session_factory(open_db(f"sqlite:///{db}"))() as session:
        return session.scalar(select(func.count()).select_from(ScanRow).where(ScanRow.status == "done")) or 0


def run_demo(output: str | None, console: Console) -> Path:
    from govcheck.demo.sites import build_sites, registry_yaml, render_routes
    from govcheck.export import to_jsonl, write_xlsx
    from govcheck.registry import load_registry
    from govcheck.reports import write_reports
    from govcheck.store.engine import open_db, session_factory
    from govcheck.store.queries import resolve_scan
    from govcheck.summary import scan_and_summarise
    from scoring.model import in_rank_order, load_scheme
    from scoring.report import score_registry, write_scores

    out = Path(output or DEFAULT_FOLDER)
    out.mkdir(parents=True, exist_ok=True)
    db = out / "govcheck.db"
    round_no = completed_scans(db) + 1
    sites = build_sites(round_no)
    server = LoopbackSites({})
    port = _start(server, out / ".demo-ports")
    server.hosts = render_routes(sites, port, round_no)
    registry_path = out / "sites.yaml"
    registry_path.write_text(registry_yaml(sites, port, _closed_port(out / ".demo-ports"), round_no), encoding="utf-8")
    registry = load_registry(registry_path)
    what = "first scan" if round_no == 1 else f"round {round_no}: the units rectified since the last scan"
    console.print(f"demo sites on 127.0.0.1:{port} ({len(sites)} units + 1 unreachable), {what}; scanning into {db}")
    try:
        outcome, records = scan_and_summarise(registry, f"sqlite:///{db}", None, None, console)
    finally:
        server.stop()
    (out / "findings.jsonl").write_text(to_jsonl(records), encoding="utf-8")
    write_xlsx(records, str(out / "findings.xlsx"))
    scheme = load_scheme(DEMO_SCHEME)
    scores, deductions = score_registry(registry, scheme, None, f"sqlite:///{db}", None)
    write_scores(str(out / f"scores-{DEMO_SCHEME}.xlsx"), scheme, scores, deductions)
    console.print(f"scored with {DEMO_SCHEME}: " + "，".join(f"{s.unit} {s.total_text(scheme.round)}"
                                                         for g in scheme.groups
                                                         for s in in_rank_order(s for s in scores if s.group == g)))
    with session_factory(open_db(f"sqlite:///{db}"))() as session:
        write_reports(session, resolve_scan(session, outcome.scan_id), out / "reports", scores=scores, scheme=scheme)
    console.print(f"\n[bold green]demo output:[/] {out.resolve()}  (sites.yaml, govcheck.db, findings.jsonl, findings.xlsx, "
                  f"scores-{DEMO_SCHEME}.xlsx, reports/)")
    if round_no == 1:
        console.print("run the demo again on this folder to see the units' rectification: new and fixed findings")
    return out
