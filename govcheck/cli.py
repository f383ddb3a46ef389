"""`govcheck` command line (DESIGN §7). Exit 0 on success (findings are not errors), 2 on bad
input with a message naming the file/field/URL, 1 on internal failure."""

from __future__ import annotations

import datetime as dt
import logging
import sys
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console

from govcheck.registry import RegistryError, load_registry
from govcheck.store.engine import StorageError

err = Console(stderr=True)


def out_console() -> Console:
    """stdout; wide enough for the summary table when it goes to a file or a pipe."""
    console = Console()
    return console if console.is_terminal else Console(width=160)


class BadInput(click.ClickException):
    exit_code = 2

    def show(self, file=None):
        err.print(f"[red]error:[/] {self.message}", highlight=False)


def _date_option(option: str, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"{option} {value!r}: expected a date YYYY-MM-DD") from None


def _as_of(value: str | None) -> dt.date | None:
    return _date_option("--as-of", value)


def _db_option(f):
    return click.option("--db", "db_url", default=None, metavar="URL",
                        help="SQLAlchemy URL or SQLite path (default ./govcheck.db)")(f)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="log crawler activity")
def main(verbose: bool) -> None:
    """govcheck — 政府网站与政务新媒体合规巡检."""
    level = logging.INFO if verbose else logging.WARNING
    handler = logging.StreamHandler()
    # Scrapy resets the root logger's level when a crawl starts; the handler's level holds.
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logging.root.addHandler(handler)
    logging.root.setLevel(level)
    for noisy in ("scrapy", "twisted", "jieba"):
        logging.getLogger(noisy).setLevel(logging.INFO if verbose else logging.ERROR)


def _load(path: str, units: tuple[str, ...]):
    try:
        registry = load_registry(path)
        return registry.only_units(list(units)) if units else registry
    except RegistryError as exc:
        raise BadInput(str(exc)) from None


@contextmanager
def scan_errors():
    """A scan's bad input (database, wordlists) is exit 2; an interrupted crawl is exit 1
    with the previous findings untouched."""
    from govcheck.stops import ScanInterrupted, WorkersFailed
    from govcheck.store.lock import ScanLocked
    from govcheck.wordlists import WordlistError

    try:
        yield
    except (StorageError, WordlistError, ScanLocked) as exc:
        raise BadInput(str(exc)) from None
    except (ScanInterrupted, WorkersFailed) as exc:
        err.print(f"[red]scan interrupted:[/] {exc}; previous findings left unchanged")
        sys.exit(1)


@main.command()
@click.argument("sites", type=click.Path(dir_okay=False))
@_db_option
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="date ages are computed on (default: registry as_of, else today)")
@click.option("--unit", "units", multiple=True, metavar="NAME", help="scan only this unit (repeatable)")
@click.option("--max-pages", type=click.IntRange(min=1), help="pages crawled per site")
@click.option("--redis", "redis_url", default=None, metavar="URL",
              help="share the per-host limit (and Retry-After waits) with every crawl using this Redis")
@click.option("--crawl-only", is_flag=True, help="crawl and store, leave the checks to `govcheck analyse --scan ID`")
@click.option("--workers", type=click.IntRange(min=1), default=None, metavar="N",
              help="crawl with N local worker processes sharing the scan through --redis "
                   "(`govcheck worker` on other machines joins in)")
@click.option("--resume", "resume", type=int, default=None, metavar="SCAN_ID",
              help="continue an interrupted scan: finished sites and stored pages are not fetched again")
def scan(sites: str, db_url: str | None, as_of: str | None, units: tuple[str, ...], max_pages: int | None,
         redis_url: str | None, crawl_only: bool, workers: int | None, resume: int | None) -> None:
    """Scan the sites of a registry (sites.yaml / .csv / .xlsx)."""
    from govcheck.scan import ResumeRefused
    from govcheck.summary import scan_and_summarise

    if workers and not redis_url:
        raise BadInput("--workers: the workers share the scan through Redis; give --redis URL")
    if redis_url:
        _check_redis(redis_url)
    registry = _load(sites, units)
    explicit = _as_of(as_of)
    if resume is not None:
        _require_existing_db(db_url)
        if explicit is not None:
            raise BadInput(f"--resume {resume} keeps the scan's own as-of day; leave out --as-of")
    elif explicit is None:
        _refuse_going_back(registry, db_url)
    try:
        if crawl_only:
            from govcheck.scan import run_scan

            with scan_errors():
                scan_id = run_scan(registry, db_url, explicit, max_pages, progress=True, redis_url=redis_url,
                                   analyse=False, workers=workers or 0, resume=resume)
            out_console().print(f"巡检批次 {scan_id} crawled; run `govcheck analyse --scan {scan_id}` to check it",
                                highlight=False)
            return
        with scan_errors():
            scan_and_summarise(registry, db_url, explicit, max_pages, out_console(), redis_url=redis_url,
                               workers=workers or 0, resume=resume)
    except ResumeRefused as exc:
        raise BadInput(str(exc)) from None


def _check_redis(url: str) -> None:
    from crawler.redis_queue import connect

    try:
        connect(url)
    except ValueError as exc:
        raise BadInput(str(exc)) from None


@main.command()
@_db_option
@click.option("--redis", "redis_url", required=True, metavar="URL", help="the Redis the coordinator shares scans through")
@click.option("--scan", "scan_id", type=int, default=None, metavar="ID",
              help="work on this scan only, until its crawl is complete")
def worker(db_url: str | None, redis_url: str, scan_id: int | None) -> None:
    """Crawl for the scans a coordinator (`govcheck scan --redis URL --workers N`) shares, until SIGTERM."""
    from govcheck.stops import ScanInterrupted
    from govcheck.workers import crawl_one_scan, worker_loop

    _check_redis(redis_url)
    _require_existing_db(db_url)
    with scan_errors():
        if scan_id is None:
            worker_loop(db_url, redis_url)
            return
        reason = crawl_one_scan(db_url, redis_url, scan_id)
        if reason.startswith("interrupted"):
            raise ScanInterrupted(f"worker of scan {scan_id} {reason}; its requests went back on the queue")
        if reason not in ("finished", "not_crawling"):
            err.print(f"[red]worker of scan {scan_id} stopped:[/] {reason}")
            sys.exit(1)


@main.command()
@_db_option
@click.option("--scan", "scan_id", type=int, required=True, metavar="ID", help="a scan whose crawl is complete")
@click.option("--sites", type=click.Path(dir_okay=False), default=None,
              help="registry to analyse with (default: the one the scan was started with)")
def analyse(db_url: str | None, scan_id: int, sites: str | None) -> None:
    """Run the checks on a crawled scan and merge its findings (once: a done scan is left as it is)."""
    from govcheck.export import scan_findings
    from govcheck.scan import AnalyseRefused, analyse_scan
    from govcheck.store.engine import open_db, session_factory
    from govcheck.store.queries import resolve_scan
    from govcheck.summary import print_summary

    _require_existing_db(db_url)
    with scan_errors():
        try:
            outcome = analyse_scan(db_url, scan_id, sites)
        except (AnalyseRefused, RegistryError) as exc:
            raise BadInput(str(exc)) from None
        if outcome is None:
            out_console().print(f"巡检批次 {scan_id}: already analysed, nothing changed", highlight=False)
            return
        with session_factory(open_db(db_url))() as session:
            records = scan_findings(session, resolve_scan(session, scan_id))
    print_summary(out_console(), records, outcome)


@main.command("scans")
@_db_option
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="the newest N scans")
def scans_list(db_url: str | None, limit: int) -> None:
    """List scans, newest first, tab-separated: id, started, as-of, status, units. A scan left
    `running` by a process that died (its heartbeat stopped) shows as interrupted, with the
    command that resumes it."""
    from sqlalchemy import select

    from govcheck.heartbeat import coordinator_alive, describe, wall_now
    from govcheck.store.engine import open_db, session_factory
    from govcheck.store.lock import scan_lock_held
    from govcheck.store.schema import ScanRow

    _require_existing_db(db_url)
    try:
        engine = open_db(db_url, create=False)
    except StorageError as exc:
        raise BadInput(str(exc)) from None
    held = scan_lock_held(engine)
    with session_factory(engine)() as session:
        rows = list(session.scalars(select(ScanRow).order_by(ScanRow.id.desc()).limit(limit)))
    now = wall_now()
    done_after = None   # the newest completed scan: nothing older may be resumed
    for row in rows:
        status = describe(row, now, held)
        why = (row.stats or {}).get("failed_reason") if row.status == "failed" else None
        status += f" ({why})" if why else ""
        if row.status in ("running", "failed") and not coordinator_alive(row, now, held) and done_after is None:
            status += f" — resume: govcheck scan {row.registry_path or 'SITES'} --resume {row.id}"
        elif row.status == "crawled":
            status += f" — analyse: govcheck analyse --scan {row.id}"
        if row.status == "done" and done_after is None:
            done_after = row.id
        click.echo(f"{row.id}\t{row.started_at:%Y-%m-%d %H:%M:%S}\t{row.as_of}\t{status}\t{'、'.join(row.units or [])}")


def _refuse_going_back(registry, db_url: str | None) -> None:
    """A scan dated (by the registry's as_of:, or today) before the last completed scan of one
    of its units would judge the past as if it were new and re-open what was fixed since: only an
    explicit --as-of may do that."""
    from govcheck import clock
    from govcheck.history import last_completed_as_of
    from govcheck.store.engine import missing_sqlite_file, open_db, session_factory

    if missing_sqlite_file(db_url):
        return
    as_of = registry.as_of or clock.now().date()
    with scan_errors(), session_factory(open_db(db_url))() as session:
        last = last_completed_as_of(session, [u.name for u in registry.units])
    if last and as_of < last[0]:
        source = f"as_of: in {registry.path}" if registry.as_of else "today"
        raise BadInput(f"{registry.path}: as_of {as_of} ({source}) is earlier than the last completed scan of "
                       f"{last[2]} (scan {last[1]}, as of {last[0]}); give --as-of {as_of} to scan as of that day "
                       "on purpose, or remove as_of: from the registry")


@main.command()
@_db_option
@click.option("--scan", "scan_ref", default="latest", metavar="latest|ID", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "xlsx"]), default="jsonl", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="file to write (default stdout; required for xlsx)")
def findings(db_url: str | None, scan_ref: str, fmt: str, output: str | None) -> None:
    """Export the findings of a scan."""
    from govcheck.export import scan_findings, to_csv, to_jsonl, write_xlsx
    from govcheck.store.engine import open_db, session_factory
    from govcheck.store.queries import resolve_scan

    _require_existing_db(db_url)
    try:
        engine = open_db(db_url)
    except StorageError as exc:
        raise BadInput(str(exc)) from None
    with session_factory(engine)() as session:
        scan_row = resolve_scan(session, scan_ref)
        if scan_row is None:
            raise BadInput(f"--scan {scan_ref}: no such completed scan in {engine.url}")
        records = scan_findings(session, scan_row)
    if fmt == "xlsx":
        if not output:
            raise BadInput("--format xlsx needs -o FILE")
        write_xlsx(records, output)
    else:
        text = to_jsonl(records) if fmt == "jsonl" else to_csv(records)
        if output:
            Path(output).write_text(text, encoding="utf-8-sig" if fmt == "csv" else "utf-8")
        else:
            sys.stdout.write(text)
    if output:
        err.print(f"{len(records)} findings of scan {scan_row.id} → {output}")


def _require_existing_db(db_url: str | None) -> None:
    from govcheck.store.engine import missing_sqlite_file

    path = missing_sqlite_file(db_url)
    if path:
        raise BadInput(f"--db {db_url or path}: database file {path!r} does not exist (run `govcheck scan` first)")


@main.command()
@click.argument("sites", type=click.Path(dir_okay=False))
@_db_option
def probe(sites: str, db_url: str | None) -> None:
    """Probe every homepage once (the scheduler runs this ~20 times a day)."""
    from govcheck.scan import run_probes

    registry = _load(sites, ())
    try:
        total, failures = run_probes(registry, db_url)
    except StorageError as exc:
        raise BadInput(str(exc)) from None
    out_console().print(f"{total} homepage probes, {failures} failed")


@main.command()
@click.argument("sites", type=click.Path(dir_okay=False))
@_db_option
@click.option("--scan", "scan_ref", default="latest", metavar="latest|ID", show_default=True)
def notify(sites: str, db_url: str | None, scan_ref: str) -> None:
    """Send the registry's notify: recipients the new vetoes, near-vetoes and re-opened problems
    of a scan (the scheduler runs this after each nightly scan). Failures to send are logged."""
    from govcheck.notify import notify_scan
    from govcheck.store.engine import open_db, session_factory

    registry = _load(sites, ())
    _require_existing_db(db_url)
    try:
        sessions = session_factory(open_db(db_url))
    except StorageError as exc:
        raise BadInput(str(exc)) from None
    scan_id = None
    if scan_ref != "latest":
        try:
            scan_id = int(scan_ref)
        except ValueError:
            raise BadInput(f"--scan {scan_ref!r}: expected latest or a scan number") from None
    outcome = notify_scan(sessions, registry, scan_id)
    out_console().print(outcome.describe() if registry.notify.recipients else "alerts: no notify: recipients in the registry",
                        highlight=False)


@main.command()
@click.argument("finding_ids", type=int, nargs=-1, required=True, metavar="FINDING_ID...")
@click.option("--ignore", "actions", flag_value="ignore", multiple=True,
              help="a false positive: never reported or deducted again")
@click.option("--confirm", "actions", flag_value="confirm", multiple=True,
              help="a real problem (review-only findings count from now; withdraws an ignore)")
@click.option("--reopen", "actions", flag_value="reopen", multiple=True,
              help="withdraw an ignore, or say a finding a scan called fixed is still there")
@click.option("--note", default=None, help="the reviewer's reason (kept in the trail and the exports)")
@click.option("--by", "by", default=None, metavar="NAME", help="who reviews (default: the login name)")
@_db_option
def review(finding_ids: tuple[int, ...], actions: tuple[str, ...], note: str | None, by: str | None,
           db_url: str | None) -> None:
    """Record a reviewer's decision on one or more findings (a new row in the review trail)."""
    from govcheck.review import ReviewError, record_review
    from govcheck.store.engine import open_db, session_factory

    chosen = sorted(set(actions))
    if len(chosen) != 1:
        raise BadInput("review: give exactly one of --ignore, --confirm, --reopen"
                       + (f" (got {', '.join('--' + a for a in chosen)})" if chosen else ""))
    _require_existing_db(db_url)
    try:
        with session_factory(open_db(db_url)).begin() as session:
            outcomes = record_review(session, list(finding_ids), chosen[0], note=note, by=by)
    except (ReviewError, StorageError) as exc:
        raise BadInput(str(exc)) from None
    console = out_console()
    for o in outcomes:
        console.print(f"finding {o.finding_id} ({o.check} {o.subject or ''}) {o.action} → {o.status}"
                      + (f"（{note}）" if note else ""), highlight=False)


SCORE_OUTPUTS = (".xlsx", ".csv")


def _output_suffix(option: str, path: str | None, allowed: tuple[str, ...]) -> None:
    """Refuse an output whose extension says a format we do not write, before any work."""
    if path and Path(path).suffix.lower() not in allowed:
        raise BadInput(f"{option} {path}: unknown output type {Path(path).suffix or '(none)'!r} "
                       f"(expected {' or '.join(allowed)})")


def _group_map(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for v in values:
        src, sep, dst = v.partition("=")
        if not sep or not src.strip() or not dst.strip():
            raise BadInput(f"--group-map {v!r}: expected REGISTRY_GROUP=SCHEME_GROUP (镇街=部门)")
        out[src.strip()] = dst.strip()
    return out


@main.command()
@click.argument("sites", type=click.Path(dir_okay=False))
@click.option("--scheme", "scheme_ref", required=True, metavar="NAME|FILE",
              help="bundled scheme (ordos-2022, national-2019, otq-2020-detail, info-adoption) or a YAML file")
@click.option("--manual", type=click.Path(dir_okay=False), help="manual scores (CSV/XLSX: 单位, 项目, 得分, 次数, 满分)")
@click.option("--scan", "scan_ref", default=None, metavar="latest|ID",
              help="score this scan (default: each unit from the latest completed scan that covered it)")
@click.option("--period", default=None, metavar="FROM..TO",
              help="score every completed scan with an as-of day in FROM..TO (a finding counted once)")
@click.option("--group-map", "group_map", multiple=True, metavar="A=B",
              help="score registry group A as scheme group B (repeatable; adds to the registry's group_map:)")
@_db_option
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="write totals and deduction records (.xlsx or .csv)")
@click.option("--template", type=click.Path(dir_okay=False), help="write a manual-score template for the scheme and exit")
def score(sites, scheme_ref, manual, scan_ref, period, group_map, db_url, output, template) -> None:
    """Score units with a scheme: automatic deductions from findings plus manual scores."""
    from scoring.model import SchemeError, in_rank_order, load_scheme
    from scoring.report import manual_warning, parse_period, score_registry, write_scores, write_template

    _output_suffix("-o", output, SCORE_OUTPUTS)
    _output_suffix("--template", template, SCORE_OUTPUTS)
    if scan_ref and period:
        raise BadInput("give --scan or --period, not both")
    mapping = _group_map(group_map)
    registry = _load(sites, ())
    console = out_console()
    try:
        span = parse_period(period) if period else None
        scheme = load_scheme(scheme_ref)
        if template:
            n = write_template(template, scheme, registry)
            console.print(f"manual-score template: {n} rows → {template}")
            return
        scores, deductions = score_registry(registry, scheme, manual, db_url, scan_ref, span, mapping)
    except (SchemeError, StorageError) as exc:
        raise BadInput(str(exc)) from None
    from rich.table import Table

    warning = manual_warning(scheme, manual)
    if warning:
        err.print(f"[yellow]{warning}[/]", highlight=False)
    for group in scheme.groups:
        members = in_rank_order(s for s in scores if s.group == group)
        if not members:
            continue
        table = Table(title=f"{scheme.title} — {group}")
        for col in ("排名", "名称", *[c.name for c in scheme.categories if group not in c.not_applicable], "总分", "备注"):
            table.add_column(col, overflow="fold")
        for s in members:
            cells = ["——" if s.categories.get(c.name) is None else f"{s.categories[c.name]:.{scheme.round}f}"
                     for c in scheme.categories if group not in c.not_applicable]
            table.add_row(s.rank_text, s.unit, *cells, s.total_text(scheme.round), s.status)
        console.print(table)
    unchecked = [s.unit for s in scores if s.unchecked]
    if unchecked:
        err.print(f"[yellow]未检查（没有覆盖的巡检）：{'、'.join(unchecked)}[/]", highlight=False)
    automatic = [d for d in deductions if d.finding_ids]
    console.print(f"{len(deductions)} deduction records ({len(automatic)} automatic, from "
                  f"{sum(len(d.finding_ids) for d in automatic)} findings)")
    if output:
        for path in write_scores(output, scheme, scores, deductions):
            console.print(f"→ {path}")


@main.command()
@_db_option
@click.option("--scan", "scan_ref", default="latest", metavar="latest|ID", show_default=True)
@click.option("--unit", "unit", default=None, metavar="NAME", help="only this unit's 问题清单")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False), help="folder to write the reports into")
@click.option("--deadline", type=click.IntRange(min=1), default=15, show_default=True,
              help="days after first notice before an open finding is overdue (未按时整改)")
@click.option("--scheme", "scheme_ref", default=None, metavar="NAME|FILE", help="add the score tables to the 通报 draft")
@click.option("--manual", type=click.Path(dir_okay=False), help="manual scores for --scheme")
@click.option("--date", "notice_date", metavar="YYYY-MM-DD", help="the 通报's date (default: the scan's as-of day)")
@click.option("--group-map", "group_map", multiple=True, metavar="A=B", help="score registry group A as scheme group B")
def report(db_url, scan_ref, unit, output, deadline, scheme_ref, manual, notice_date, group_map) -> None:
    """Write 问题清单 (per unit, XLSX + HTML), the scan summary page and the 通报 draft."""
    from pathlib import Path

    from govcheck.reports import write_reports
    from govcheck.store.engine import open_db, session_factory
    from govcheck.store.queries import resolve_scan
    from govcheck.store.schema import UnitRow
    from scoring.model import SchemeError, load_scheme
    from scoring.report import score_units

    when = _date_option("--date", notice_date)
    mapping = _group_map(group_map)
    _require_existing_db(db_url)
    engine = open_db(db_url)
    with session_factory(engine)() as session:
        scan = resolve_scan(session, scan_ref)
        if scan is None:
            raise BadInput(f"--scan {scan_ref}: no such completed scan in {engine.url}")
        if unit and unit not in (scan.units or []):
            raise BadInput(f"--unit {unit!r}: not a unit of scan {scan.id} ({', '.join(scan.units or [])})")
        scores = scheme = None
        if scheme_ref:
            try:
                scheme = load_scheme(scheme_ref)
                units = [(u.name, u.group) for u in session.scalars(select_units(UnitRow, scan.units or []))]
                scores, _ = score_units(units, str(engine.url), scheme, manual, db_url, str(scan.id), group_map=mapping)
            except SchemeError as exc:
                raise BadInput(str(exc)) from None
        written = write_reports(session, scan, Path(output), unit, deadline, scores, scheme, notice_date=when)
    out_console().print(f"{len(written)} report files for scan {scan.id} → {Path(output).resolve()}")


def select_units(model, names):
    from sqlalchemy import select

    return select(model).where(model.name.in_(names)).order_by(model.id)


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@_db_option
def db_upgrade(db_url: str | None) -> None:
    """Upgrade the database schema to this version's (Alembic migrations); creates a new one."""
    from sqlalchemy.exc import OperationalError

    from govcheck.store.engine import make_engine
    from govcheck.store.migrate import upgrade

    try:
        engine = make_engine(db_url)
        shown = engine.url.render_as_string(hide_password=True)
        before, after = upgrade(engine)
    except OperationalError as exc:
        raise BadInput(f"--db {shown!r}: cannot open the database ({exc.orig})") from None
    except StorageError as exc:
        raise BadInput(str(exc)) from None
    if before is None:
        out_console().print(f"{shown}: new database created at schema revision {after}", highlight=False)
    elif before == after:
        out_console().print(f"{shown}: schema already at revision {after}", highlight=False)
    else:
        out_console().print(f"{shown}: schema upgraded from revision {before} to {after}", highlight=False)


@db.command("prune")
@_db_option
@click.option("--keep-scans", type=click.IntRange(min=1), required=True, metavar="N",
              help="keep the crawl data of the newest N completed scans")
def db_prune(db_url: str | None, keep_scans: int) -> None:
    """Remove crawl data (pages, links, target results, crawl outcomes, snapshots) only older scans used.
    Findings, their history, reviews and the snapshots they show are always kept."""
    from govcheck.store.engine import missing_sqlite_file, open_db
    from govcheck.store.prune import prune

    missing = missing_sqlite_file(db_url)
    if missing:
        raise BadInput(f"--db {missing!r}: no such database file")
    try:
        result = prune(open_db(db_url), keep_scans)
    except StorageError as exc:
        raise BadInput(str(exc)) from None
    if result.cutoff is None:
        out_console().print(f"fewer than {keep_scans} completed scans: nothing pruned", highlight=False)
        return
    out_console().print(f"kept scans from #{result.cutoff} on; removed {result.pages} page versions, {result.links} links, "
                        f"{result.targets} target results, {result.attachments} attachments, "
                        f"{result.feed_fetches} feed fetches, {result.site_outcomes} site outcomes, "
                        f"{result.crawl_events} crawl events, {result.snapshots} snapshots", highlight=False)


@main.command()
@click.option("-o", "--output", type=click.Path(file_okay=False), help="folder for the demo database and findings")
def demo(output: str | None) -> None:
    """Serve the bundled demo sites on loopback, scan them and write the findings."""
    from govcheck.demo import run_demo

    with scan_errors():
        run_demo(output, out_console())


@main.command()
@_db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--deadline", type=click.IntRange(min=1), default=15, show_default=True,
              help="days after first notice before an open finding is overdue (未按时整改)")
def serve(db_url: str | None, host: str, port: int, deadline: int) -> None:
    """The web console (监测台): review findings, units' 整改反馈, downloads, audit trail."""
    import uvicorn

    from govcheck.web.app import create_app

    _require_existing_db(db_url)
    try:
        app = create_app(db_url, deadline=deadline)
    except StorageError as exc:
        raise BadInput(str(exc)) from None
    err.print(f"govcheck 监测台: http://{host}:{port}/  (Ctrl-C to stop)", highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)


@main.group()
def user() -> None:
    """Console users (staff 监测人员, assessor 考核人员, unit 被考核单位)."""


def _user_session(db_url: str | None):
    from govcheck.store.engine import open_db, session_factory

    _require_existing_db(db_url)
    try:
        return session_factory(open_db(db_url))
    except StorageError as exc:
        raise BadInput(str(exc)) from None


def _password_option(f):
    return click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
                        help="the password (prompted when not given; read from stdin when piped)")(f)


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["staff", "assessor", "unit"]), required=True)
@click.option("--unit", "unit", default=None, metavar="单位名", help="for --role unit: the unit whose findings the user sees")
@_password_option
@_db_option
def user_add(name: str, role: str, unit: str | None, password: str, db_url: str | None) -> None:
    """Add a console user."""
    from govcheck.web.users import UserError, add_user

    try:
        with _user_session(db_url).begin() as session:
            add_user(session, name, role, unit, password)
    except UserError as exc:
        raise BadInput(str(exc)) from None
    out_console().print(f"user {name} ({role}{' · ' + unit if unit else ''}) added", highlight=False)


@user.command("passwd")
@click.argument("name")
@_password_option
@_db_option
def user_passwd(name: str, password: str, db_url: str | None) -> None:
    """Set a console user's password (their open sessions end)."""
    from govcheck.web.users import UserError, set_password

    try:
        with _user_session(db_url).begin() as session:
            set_password(session, name, password)
    except UserError as exc:
        raise BadInput(str(exc)) from None
    out_console().print(f"password of {name} changed", highlight=False)


@user.command("list")
@_db_option
def user_list(db_url: str | None) -> None:
    """List console users."""
    from govcheck.web.users import ROLE_ZH, list_users

    with _user_session(db_url)() as session:
        rows = list_users(session)
    if not rows:
        click.echo("no console users (add one with `govcheck user add NAME --role staff`)")
    for r in rows:   # tab-separated, for scripts
        click.echo(f"{r.name}\t{r.role}\t{ROLE_ZH[r.role]}\t{r.unit or ''}\t{r.created_at:%Y-%m-%d %H:%M}")


if __name__ == "__main__":  # pragma: no cover
    main()
