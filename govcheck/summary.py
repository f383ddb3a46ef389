"""The one-screen summary printed after a scan: vetoes and near-vetoes first, then counts per
unit and check."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from checks import CHECKS
from checks.links import network_error_zh
from govcheck.findings import GRAVE, SEVERITY_ORDER, SEVERITY_ZH


def scan_and_summarise(registry, db_url: str | None, as_of, max_pages: int | None, console: Console,
                       redis_url: str | None = None, workers: int = 0, resume: int | None = None):
    """Run a scan and print its one-screen summary; (outcome, finding records)."""
    from govcheck.export import scan_findings
    from govcheck.scan import run_scan
    from govcheck.store.engine import open_db, session_factory
    from govcheck.store.queries import resolve_scan

    outcome = run_scan(registry, db_url, as_of=as_of, max_pages=max_pages, progress=True,   # a bar on a terminal, plain lines elsewhere
                       redis_url=redis_url, workers=workers, resume=resume)
    with session_factory(open_db(db_url))() as session:
        records = scan_findings(session, resolve_scan(session, outcome.scan_id))
    print_summary(console, records, outcome)
    return outcome, records


def print_summary(console: Console, records: list[dict], outcome) -> None:
    current = [r for r in records if r["status"] == "open"]
    fixed = [r for r in records if r["status"] == "fixed"]
    reopened = [r for r in current if r.get("reopened")]
    console.print(f"[bold]巡检批次 {outcome.scan_id}[/]  as of {outcome.as_of}  "
                  f"{sum(outcome.site_pages.values())} pages in {outcome.duration:.1f}s  "
                  f"findings: {len(current)} (new {outcome.merge.new}, fixed {len(fixed)})  复现 {len(reopened)}")
    shots = getattr(outcome, "screenshots", None)
    if shots is not None:
        console.print(shots.describe(), highlight=False)
    for site, err in sorted(outcome.site_errors.items()):
        console.print(f"[red]首页无法打开[/] {site}：{network_error_zh(err)}（{err}）", highlight=False)
    for site, report in sorted(getattr(outcome, "reports", {}).items()):
        if report.partial:
            console.print(f"[yellow]部分巡检[/] {site}: {report.partial}（该站问题标记为 partial）", highlight=False)
    if getattr(outcome, "events", None):
        console.print(f"巡检事件 {len(outcome.events)} 条（见 scans.stats.events）", highlight=False)
    _print_vetoes(console, current)
    _print_reopened(console, reopened)
    _print_accounts(console, getattr(outcome, "accounts", []))
    if not current:
        console.print("no open findings")
        return
    table = Table(title="问题统计（按单位、检查项）")
    table.add_column("单位", no_wrap=True)
    table.add_column("单否", justify="right")
    table.add_column("合计", justify="right")
    table.add_column("各检查项（数量）")
    counts = Counter((r["unit"], r["check"]) for r in current)
    vetoes = Counter(r["unit"] for r in current if r["severity"] == "veto")
    totals = Counter(r["unit"] for r in current)
    order = {c: (SEVERITY_ORDER.get(spec.severity, 9), i) for i, (c, spec) in enumerate(CHECKS.items())}
    for unit in sorted(totals, key=lambda u: (-vetoes[u], -totals[u], u)):
        parts = [f"{CHECKS[c].name} {n}" for (u, c), n in sorted(counts.items(), key=lambda kv: order[kv[0][1]]) if u == unit]
        table.add_row(unit, str(vetoes[unit]) if vetoes[unit] else "·", str(totals[unit]), " · ".join(parts))
    console.print(table)


def _print_vetoes(console: Console, current: list[dict]) -> None:
    grave = [r for r in current if r["severity"] in GRAVE]
    if not grave:
        return
    grave.sort(key=lambda r: (SEVERITY_ORDER[r["severity"]], r["unit"], r["check"]))
    for severity in GRAVE:
        rows = [r for r in grave if r["severity"] == severity]
        if not rows:
            continue
        console.print(f"[bold red]{SEVERITY_ZH[severity]}[/] ({len(rows)})")
        for r in rows:
            name = CHECKS[r["check"]].name
            # A link's subject is its target URL, already in the evidence.
            what = f"「{r['subject']}」" if r["subject"] and CHECKS[r["check"]].family != "links" else ""
            # Whole, wrapped by the console: a veto line cut mid-text reads as a different problem.
            console.print(f"  {r['unit']}  {name}{what}：{r['evidence']}", highlight=False, overflow="fold")


def _print_reopened(console: Console, reopened: list[dict]) -> None:
    """Problems seen again after a scan found them fixed (复现): the 书面整改 notices warn about."""
    if not reopened:
        return
    console.print(f"[bold yellow]复现[/] ({len(reopened)})")
    for r in sorted(reopened, key=lambda r: (r["unit"], r["check"], r["id"])):
        what = f"「{r['subject']}」" if r["subject"] else ""
        console.print(f"  {r['unit']}  {CHECKS[r['check']].name}{what}  #{r['id']}", highlight=False)


def account_standing(verdict: str) -> tuple[int, str]:
    """(sort order, label) of an account's verdict: the code of its feed finding, named and
    ranked as the catalogue says; then accounts not judged, then those in order."""
    if verdict == "ok":
        return len(SEVERITY_ORDER) + 1, "正常"
    if verdict not in CHECKS:
        return len(SEVERITY_ORDER), "[yellow]未判定[/]"
    spec = CHECKS[verdict]
    colour = "red" if spec.severity == "veto" else "yellow"
    return SEVERITY_ORDER[spec.severity], f"[{colour}]{spec.name}（{SEVERITY_ZH[spec.severity]}）[/]"


def _print_accounts(console: Console, states) -> None:
    """政务新媒体 by days since the last post: vetoes and near-vetoes first."""
    if not states:
        return
    table = Table(title="政务新媒体（按距最新发布天数）")
    for name in ("单位", "账号", "平台", "最新发布", "天数", "状态"):
        table.add_column(name, justify="right" if name == "天数" else "left")
    for s in sorted(states, key=lambda s: (account_standing(s.verdict)[0],
                                           -(s.age_days if s.age_days is not None else 10**6))):
        table.add_row(s.unit, s.name, s.platform, f"{s.newest:%Y-%m-%d %H:%M}" if s.newest else "—",
                      str(s.age_days) if s.age_days is not None else "—", account_standing(s.verdict)[1])
    console.print(table)
