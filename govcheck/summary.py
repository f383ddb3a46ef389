"""The one-screen summary printed after a scan: vetoes and near-vetoes first, then counts per
unit and check."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from checks import CHECKS

SEVERITY_ORDER = {"veto": 0, "warn": 1, "deduct": 2, "review": 3}
SEVERITY_ZH = {"veto": "单项否决", "warn": "预警（临近单否）"}


def print_summary(console: Console, records: list[dict], outcome) -> None:
    current = [r for r in records if r["status"] != "fixed"]
    fixed = [r for r in records if r["status"] == "fixed"]
    console.print(f"[bold]巡检批次 {outcome.scan_id}[/]  as of {outcome.as_of}  "
                  f"{sum(outcome.site_pages.values())} pages in {outcome.duration:.1f}s  "
                  f"findings: {len(current)} (new {outcome.merge.new}, fixed {len(fixed)})")
    for site, err in sorted(outcome.site_errors.items()):
        console.print(f"[red]首页无法打开[/] {site}: {err}")
    _print_vetoes(console, current)
    checks = sorted({r["check"] for r in current}, key=lambda c: (SEVERITY_ORDER.get(CHECKS[c].severity, 9), c))
    if not checks:
        console.print("no open findings")
        return
    table = Table(title="问题统计（按单位、检查项）")
    table.add_column("单位", no_wrap=True)
    for c in checks:
        table.add_column(CHECKS[c].name, justify="right")
    table.add_column("合计", justify="right")
    counts = Counter((r["unit"], r["check"]) for r in current)
    units = sorted({r["unit"] for r in current}, key=lambda u: -sum(v for (uu, _), v in counts.items() if uu == u))
    for unit in units:
        row = [counts.get((unit, c), 0) for c in checks]
        table.add_row(unit, *[str(v) if v else "·" for v in row], str(sum(row)))
    console.print(table)
    console.print("检查项代码: " + ", ".join(f"{CHECKS[c].name}={c}" for c in checks), style="dim")


def _print_vetoes(console: Console, current: list[dict]) -> None:
    grave = [r for r in current if r["severity"] in SEVERITY_ZH]
    if not grave:
        return
    grave.sort(key=lambda r: (SEVERITY_ORDER[r["severity"]], r["unit"], r["check"]))
    for severity in ("veto", "warn"):
        rows = [r for r in grave if r["severity"] == severity]
        if not rows:
            continue
        console.print(f"[bold red]{SEVERITY_ZH[severity]}[/] ({len(rows)})")
        for r in rows:
            name = CHECKS[r["check"]].name
            what = f"「{r['subject']}」" if r["subject"] and not r["check"].startswith("link_") else ""
            console.print(f"  {r['unit']}  {name}{what}：{r['evidence'][:90]}", highlight=False)
