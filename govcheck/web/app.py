"""`govcheck serve`: the monitoring desk in the browser (Starlette + Jinja2, served by uvicorn).

Security model, in one place:
- signed session cookie (HttpOnly, SameSite=Lax) holding the user id, a stamp of the password
  hash (a password change ends older sessions) and the CSRF token;
- every POST checks the form's CSRF token against the session's (403 otherwise, nothing done);
- every read goes through a Viewer (queries.py): a unit user gets 404 for anything of another
  unit, exactly as for something that does not exist;
- crawled text is only ever rendered through Jinja autoescape; page snapshots are served from
  their own path with a CSP that forbids scripts (and `sandbox`), shown in sandboxed iframes;
  the console's own pages load only its own static files.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import tempfile
from pathlib import Path
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from checks import CHECKS
from govcheck.findings import SEVERITY_ZH, STATUS_ZH
from govcheck.reports import DEFAULT_DEADLINE, highlight, line_chart
from govcheck.review import ReviewError
from govcheck.store.engine import open_db, session_factory
from govcheck.store.queries import load_snapshot, screenshots_of
from govcheck.store.schema import UserRow
from govcheck.web import queries as q
from govcheck.web.reviews import ACTIONS, review, review_events
from govcheck.web.users import ROLE_ZH, audit, authenticate, session_stamp, signing_key

HERE = Path(__file__).parent
SESSION_COOKIE = "govcheck_session"
SESSION_MAX_AGE = 12 * 3600
PAGE_SIZE = 200
# The console's own pages: nothing but its own files, never framed by another site.
CONSOLE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
               "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'")
# A stored page: read, never run — no script, no request, and a unique origin (sandbox).
SNAPSHOT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"
ACTION_ZH = {"login": "登录", "login_failed": "登录失败", "login_throttled": "登录被限制", "logout": "退出",
             "feedback": "整改反馈", "review": "复核", "user_add": "新增用户", "user_passwd": "修改密码"}


def create_app(db_url: str | None = None, deadline: int = DEFAULT_DEADLINE, secret_key: str | None = None) -> Starlette:
    import os

    engine = open_db(db_url)
    sessions = session_factory(engine)
    with sessions.begin() as s:
        key = secret_key or os.environ.get("GOVCHECK_SECRET_KEY") or signing_key(s)
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
    env.filters["highlight"] = highlight
    env.filters["dt"] = lambda v: "" if v is None else (v.strftime("%Y-%m-%d %H:%M") if isinstance(v, dt.datetime) else str(v))
    env.globals.update(CHECKS=CHECKS, STATUS_ZH=STATUS_ZH, SEVERITY_ZH=SEVERITY_ZH, ROLE_ZH=ROLE_ZH, ACTIONS=ACTIONS,
                       ACTION_ZH=ACTION_ZH, FEEDBACK_ZH=q.FEEDBACK_ZH, quote=lambda s: quote(s, safe=""),
                       urlencode=urlencode)
    app_db_url = str(engine.url.render_as_string(hide_password=False))

    # ------------------------------------------------------------------ plumbing

    def render(request: Request, name: str, status_code: int = 200, **ctx) -> HTMLResponse:
        ctx.setdefault("viewer", getattr(request.state, "viewer", None))
        ctx["csrf"] = csrf_token(request)
        ctx["flash"] = request.session.pop("flash", None)
        ctx["request"] = request
        return HTMLResponse(env.get_template(name).render(**ctx), status_code=status_code)

    def csrf_token(request: Request) -> str:
        token = request.session.get("csrf")
        if not token:
            token = request.session["csrf"] = secrets.token_urlsafe(32)
        return token

    async def checked_form(request: Request) -> FormData:
        form = await request.form()
        sent, expected = str(form.get("csrf") or ""), request.session.get("csrf") or ""
        if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
            raise HTTPException(403, "表单已失效或来源不明（CSRF 校验失败），请刷新页面后重试")
        return form

    def client(request: Request) -> str | None:
        return request.client.host if request.client else None

    def viewer_of(request: Request, db: Session) -> q.Viewer | None:
        uid = request.session.get("uid")
        if uid is None:
            return None
        user = db.get(UserRow, uid)
        if user is None or request.session.get("stamp") != session_stamp(user):
            request.session.pop("uid", None)
            return None
        return q.Viewer(user.name, user.role, user.unit)

    def login_required(handler, roles: tuple[str, ...] = ("staff", "assessor", "unit")):
        async def endpoint(request: Request):
            with sessions() as db:
                viewer = viewer_of(request, db)
                if viewer is None:
                    if request.method == "GET":
                        return RedirectResponse("/login?" + urlencode({"next": request.url.path + (
                            "?" + request.url.query if request.url.query else "")}), status_code=303)
                    raise HTTPException(403, "请先登录")
                if viewer.role not in roles:
                    raise HTTPException(404 if viewer.role == "unit" else 403, "没有权限")
                request.state.viewer = viewer
                return await handler(request, db, viewer)
        return endpoint

    def scan_or_404(db: Session, request: Request):
        scan = q.pick_scan(db, request.query_params.get("scan"))
        if scan is None and request.query_params.get("scan") not in (None, "", "latest"):
            raise HTTPException(404, "没有这个巡检批次")
        return scan

    def back(request: Request, form: FormData, default: str) -> str:
        target = str(form.get("next") or default)
        return target if target.startswith("/") and not target.startswith("//") else default

    # ------------------------------------------------------------------ login

    async def login_page(request: Request):
        if request.method == "GET":
            return render(request, "login.html", next=request.query_params.get("next", "/"))
        form = await checked_form(request)
        with sessions.begin() as db:
            user, reason = authenticate(db, str(form.get("username") or ""), str(form.get("password") or ""), client(request))
            if user is not None:
                uid, stamp = user.id, session_stamp(user)
        if user is None:
            return render(request, "login.html", status_code=401 if "错误" in reason else 429, error=reason,
                          username=str(form.get("username") or ""), next=str(form.get("next") or "/"))
        request.session.clear()   # a fresh session (and CSRF token) after login
        request.session.update(uid=uid, stamp=stamp, csrf=secrets.token_urlsafe(32))
        return RedirectResponse(back(request, form, "/"), status_code=303)

    async def logout(request: Request):
        await checked_form(request)
        with sessions.begin() as db:
            viewer = viewer_of(request, db)
            if viewer:
                audit(db, viewer.name, "logout", unit=viewer.unit, client=client(request))
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # ------------------------------------------------------------------ pages

    async def home(request: Request, db: Session, viewer: q.Viewer):
        scan = scan_or_404(db, request)
        if scan is None:
            return render(request, "empty.html")
        ov = q.overview(db, viewer, scan, deadline)
        charts_units = {u: line_chart(points, width=360, height=150) for u, points in ov.trend_units.items()}
        charts_families = {f: line_chart(points, width=360, height=150) for f, points in ov.trend_families.items()}
        return render(request, "overview.html", ov=ov, scans=q.done_scans(db, 30), scan=scan,
                      charts_units=charts_units, charts_families=charts_families)

    async def finding_list(request: Request, db: Session, viewer: q.Viewer):
        scan = scan_or_404(db, request)
        if scan is None:
            return render(request, "empty.html")
        filters = q.Filters.from_query(request.query_params)
        if not viewer.sees_all:
            filters.unit = ""
        data = q.scan_data(db, viewer, scan, deadline)
        rows = q.sort_records(filters.apply(data.records))
        try:
            page = max(1, int(request.query_params.get("page", "1")))
        except ValueError:
            page = 1
        shown = rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        options = {
            "units": sorted({r["unit"] for r in data.records}),
            "sites": sorted({r["target"] for r in data.records if not filters.unit or r["unit"] == filters.unit}),
            "checks": [c for c in CHECKS if any(r["check"] == c for r in data.records)],
        }
        return render(request, "findings.html", scan=scan, scans=q.done_scans(db, 30), rows=shown, total=len(rows),
                      page=page, pages=max(1, (len(rows) + PAGE_SIZE - 1) // PAGE_SIZE), filters=filters,
                      options=options, here=request.url.path + ("?" + request.url.query if request.url.query else ""))

    def finding_or_404(db: Session, viewer: q.Viewer, request: Request):
        try:
            fid = int(request.path_params["finding_id"])
        except ValueError:
            raise HTTPException(404, "没有这条问题") from None
        row = q.finding_for(db, viewer, fid)
        if row is None:
            raise HTTPException(404, "没有这条问题")
        return row

    async def finding_page(request: Request, db: Session, viewer: q.Viewer):
        row = finding_or_404(db, viewer, request)
        scan = q.pick_scan(db, None)
        record = None
        if scan is not None:
            record = next((r for r in q.scan_data(db, viewer, scan, deadline).records if r["id"] == row.id), None)
        feedback = q.feedback_states(db, [row.id]).get(row.id)
        trail = review_events(db, finding_id=row.id)
        if viewer.role == "unit":   # a unit sees decisions, not who in the monitoring office made them
            trail = [dict(e, user="监测人员") for e in trail]
        events = sorted(trail + [{"at": a.at, "user": a.user, "action": a.action, "note": a.note}
                                 for a in q.finding_audit(db, row.id) if a.action == "feedback"],
                        key=lambda e: e["at"])
        spec = CHECKS.get(row.check)
        return render(request, "finding.html", f=row, spec=spec, record=record, feedback=feedback,
                      sightings=q.sightings(db, row), events=events, snapshot=q.has_snapshot(db, row),
                      screenshot=screenshots_of(db, [row.id]).get(row.id), reopened=(row.detail or {}).get("reopened"))

    async def finding_snapshot(request: Request, db: Session, viewer: q.Viewer):
        """The evidence copy units receive (banner, evidence marked, personal data masked:
        govcheck.evidence); staff may ask for the page exactly as fetched (?raw=1)."""
        from govcheck.evidence import unit_snapshot

        row = finding_or_404(db, viewer, request)
        headers = {"Content-Security-Policy": SNAPSHOT_CSP, "X-Content-Type-Options": "nosniff",
                   "Referrer-Policy": "no-referrer", "Cache-Control": "private, max-age=3600"}
        if request.query_params.get("raw") == "1" and viewer.sees_all:
            snap = q.snapshot_for(db, row)
            if snap is None:
                raise HTTPException(404, "没有页面快照")
            body, content_type, encoding = snap
            kind = (content_type or "").split(";")[0].strip().lower()
            if kind and "html" not in kind and not kind.startswith("text/"):
                # An attachment (PDF, DOCX…): downloaded, never rendered inside the console.
                headers["Content-Disposition"] = f"attachment; filename=snapshot-{row.id}"
                return Response(body, media_type="application/octet-stream", headers=headers)
            return Response(body, media_type=f"text/html; charset={encoding or 'utf-8'}", headers=headers)
        spec = CHECKS.get(row.check)
        record = {"id": row.id, "check": row.check, "check_name": spec.name if spec else row.check, "url": row.url,
                  "subject": row.subject, "evidence": row.evidence, "detail": row.detail or {}}
        evidence = unit_snapshot(db, record, row.snapshot_hash) if row.snapshot_hash else None
        if evidence is None:
            raise HTTPException(404, "没有页面快照")
        return Response(evidence.body, media_type=evidence.content_type, headers=headers)

    async def finding_screenshot(request: Request, db: Session, viewer: q.Viewer):
        row = finding_or_404(db, viewer, request)
        shot = screenshots_of(db, [row.id]).get(row.id)
        png = load_snapshot(db, shot.image_hash) if shot else None
        if png is None:
            raise HTTPException(404, "没有页面截图")
        return Response(png, media_type="image/png", headers={
            "Content-Security-Policy": "default-src 'none'", "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=3600"})

    async def review_post(request: Request, db: Session, viewer: q.Viewer):
        form = await checked_form(request)
        action = str(form.get("action") or "")
        if action not in ACTIONS:
            raise HTTPException(400, "未知的复核操作")
        ids = _ids(form)
        if not ids:
            request.session["flash"] = "没有选中任何问题"
            return RedirectResponse(back(request, form, "/findings"), status_code=303)
        note = str(form.get("note") or "").strip() or None
        try:
            with sessions.begin() as tx:
                done = review(tx, ids, action, note, viewer.name)
        except ReviewError:
            raise HTTPException(404, "没有这条问题") from None
        request.session["flash"] = f"已{ACTIONS[action]} {len(done)} 条问题" + (f"（{note}）" if note else "")
        return RedirectResponse(back(request, form, "/findings"), status_code=303)

    async def feedback_post(request: Request, db: Session, viewer: q.Viewer):
        form = await checked_form(request)
        ids = _ids(form)
        note = str(form.get("note") or "").strip()
        if not ids:
            request.session["flash"] = "没有选中任何问题"
            return RedirectResponse(back(request, form, "/"), status_code=303)
        if not note:
            request.session["flash"] = "请填写整改说明"
            return RedirectResponse(back(request, form, "/"), status_code=303)
        with sessions.begin() as tx:
            try:
                done = q.add_feedback(tx, viewer, ids, note, client(request))
            except LookupError:
                raise HTTPException(404, "没有这条问题") from None
        request.session["flash"] = f"已反馈 {len(done)} 条问题已整改，待下次巡检复查"
        return RedirectResponse(back(request, form, "/"), status_code=303)

    async def units_page(request: Request, db: Session, viewer: q.Viewer):
        if not viewer.sees_all:
            return RedirectResponse("/units/" + quote(viewer.unit or "", safe=""), status_code=303)
        scan = scan_or_404(db, request)
        data = q.scan_data(db, viewer, scan, deadline) if scan else None
        counts = {}
        for r in (data.records if data else []):
            c = counts.setdefault(r["unit"], {"open": 0, "veto": 0, "overdue": 0, "pending": 0})
            if r["status"] == "open":
                c["open"] += 1
                c["veto"] += r["severity"] == "veto"
                c["overdue"] += bool(r.get("overdue"))
                c["pending"] += (r.get("feedback") or {}).get("state") == "pending"
        units = q.unit_groups(db, q.unit_names(db, viewer))
        return render(request, "units.html", scan=scan, units=units, counts=counts)

    async def unit_page(request: Request, db: Session, viewer: q.Viewer):
        name = request.path_params["unit"]
        if name not in q.unit_names(db, viewer):
            raise HTTPException(404, "没有这个单位")
        scan = scan_or_404(db, request)
        rows = []
        if scan is not None:
            rows = [r for r in q.scan_data(db, viewer, scan, deadline).records if r["unit"] == name]
        rows = q.sort_records(rows)
        sites: dict[str, list[dict]] = {}
        for r in rows:
            sites.setdefault(r["target"], []).append(r)
        return render(request, "unit.html", unit=name, scan=scan, sites=sites, rows=rows,
                      grave=[r for r in rows if r["status"] == "open" and r["severity"] in ("veto", "warn")],
                      here=request.url.path)

    async def downloads_page(request: Request, db: Session, viewer: q.Viewer):
        from scoring.model import SCHEMES

        scan = scan_or_404(db, request)
        schemes = sorted(p.stem for p in SCHEMES.glob("*.yaml"))
        return render(request, "downloads.html", scan=scan, scans=q.done_scans(db, 30),
                      units=q.unit_names(db, viewer) if scan is None else
                      [u for u in q.unit_names(db, viewer) if u in (scan.units or [])], schemes=schemes)

    async def download(request: Request, db: Session, viewer: q.Viewer):
        from govcheck.export import write_xlsx
        from govcheck.reports import build_notice, write_notice, write_summary, write_unit_lists

        what = request.path_params["what"]
        scan = scan_or_404(db, request)
        if scan is None:
            raise HTTPException(404, "还没有完成的巡检")
        unit = request.query_params.get("unit") or None
        staff_only = what in ("summary.html", "notice.docx", "scores.xlsx")
        if (staff_only and not viewer.sees_all) or (unit and unit not in q.unit_names(db, viewer)):
            raise HTTPException(404, "没有这个文件")
        if not viewer.sees_all:
            unit = viewer.unit
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            data = q.scan_data(db, viewer, scan, deadline)
            if unit:
                data.records = [r for r in data.records if r["unit"] == unit]
            if what == "findings.xlsx":
                path = out / "findings.xlsx"
                write_xlsx(data.records, str(path))
                name = f"问题清单-批次{scan.id}" + (f"-{unit}" if unit else "") + ".xlsx"
            elif what in ("unit.xlsx", "unit.html"):
                if not unit:
                    raise HTTPException(404, "请选择单位")
                written = write_unit_lists(data, out)
                path = next((p for p in written if p.suffix == "." + what.split(".")[1]), None)
                if path is None:   # no finding at all for this unit in this scan
                    raise HTTPException(404, "该单位本批次没有问题")
                name = path.name
            elif what == "summary.html":
                path = write_summary(data, out)
                name = f"巡检概况-批次{scan.id}.html"
            elif what == "notice.docx":
                scores, scheme = _scores(db, request, scan, viewer) if request.query_params.get("scheme") else (None, None)
                path = [p for p in write_notice(build_notice(data, scores, scheme), out) if p.suffix == ".docx"][0]
                name = f"通报初稿-批次{scan.id}.docx"
            elif what == "scores.xlsx":
                from scoring.report import write_scores

                scores, scheme, deductions = _scores(db, request, scan, viewer, with_deductions=True)
                path = Path(write_scores(str(out / "scores.xlsx"), scheme, scores, deductions)[0])
                name = f"评分-{scheme.name}-批次{scan.id}.xlsx"
            else:
                raise HTTPException(404, "没有这个文件")
            body = path.read_bytes()
        media = {".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                 ".html": "text/html; charset=utf-8"}[path.suffix]
        headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
                   "X-Content-Type-Options": "nosniff"}
        if path.suffix == ".html":
            headers["Content-Security-Policy"] = SNAPSHOT_CSP
        return Response(body, media_type=media, headers=headers)

    def _scores(db: Session, request: Request, scan, viewer: q.Viewer, with_deductions: bool = False):
        from scoring.model import SchemeError, load_scheme
        from scoring.report import score_units

        try:
            scheme = load_scheme(request.query_params.get("scheme") or "national-2019")
            scores, deductions = score_units(q.unit_groups(db, list(scan.units or [])), "数据库中的单位", scheme, None,
                                             app_db_url, str(scan.id))
        except SchemeError as exc:
            raise HTTPException(400, f"评分方案不可用：{exc}") from None
        return (scores, scheme, deductions) if with_deductions else (scores, scheme)

    async def scores_page(request: Request, db: Session, viewer: q.Viewer):
        from scoring.model import SCHEMES

        scan = scan_or_404(db, request)
        if scan is None:
            return render(request, "empty.html")
        schemes = sorted(p.stem for p in SCHEMES.glob("*.yaml"))
        error = None
        try:
            scores, scheme, deductions = _scores(db, request, scan, viewer, with_deductions=True)
        except HTTPException as exc:
            scores, scheme, deductions, error = [], None, [], exc.detail
        tables = []
        for group in (scheme.groups if scheme else []):
            members = sorted((s for s in scores if s.group == group), key=lambda s: s.rank)
            if members:
                tables.append((group, members, [c for c in scheme.categories if group not in c.not_applicable]))
        return render(request, "scores.html", tables=tables, scan=scan, scans=q.done_scans(db, 30), schemes=schemes, scheme=scheme,
                      scores=scores, deductions=deductions, error=error,
                      chosen=request.query_params.get("scheme") or "national-2019")

    async def audit_page(request: Request, db: Session, viewer: q.Viewer):
        user = request.query_params.get("user", "").strip()
        action = request.query_params.get("action", "").strip()
        return render(request, "audit.html", events=q.audit_trail(db, user, action), user=user, action=action)

    async def not_found(request: Request, exc: HTTPException):
        return render(request, "error.html", status_code=exc.status_code, status=exc.status_code, message=exc.detail)

    everyone = ("staff", "assessor", "unit")
    routes = [
        Route("/login", login_page, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/", login_required(home, everyone)),
        Route("/findings", login_required(finding_list, everyone)),
        Route("/findings/{finding_id}", login_required(finding_page, everyone)),
        Route("/findings/{finding_id}/snapshot", login_required(finding_snapshot, everyone)),
        Route("/findings/{finding_id}/screenshot", login_required(finding_screenshot, everyone)),
        Route("/review", login_required(review_post, ("staff",)), methods=["POST"]),
        Route("/feedback", login_required(feedback_post, ("unit",)), methods=["POST"]),
        Route("/units", login_required(units_page, everyone)),
        Route("/units/{unit:path}", login_required(unit_page, everyone)),
        Route("/downloads", login_required(downloads_page, everyone)),
        Route("/downloads/{what}", login_required(download, everyone)),
        Route("/scores", login_required(scores_page, ("staff", "assessor"))),
        Route("/audit", login_required(audit_page, ("staff", "assessor"))),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [Middleware(BaseHTTPMiddleware, dispatch=security_headers),
                  Middleware(SessionMiddleware, secret_key=key, session_cookie=SESSION_COOKIE, max_age=SESSION_MAX_AGE,
                             same_site="lax", https_only=os.environ.get("GOVCHECK_SECURE_COOKIES") == "1")]
    app = Starlette(routes=routes, middleware=middleware, exception_handlers={HTTPException: not_found})

    app.state.sessions = sessions
    return app


async def security_headers(request: Request, call_next):
    response = await call_next(request)
    response.headers.setdefault("Content-Security-Policy", CONSOLE_CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if "text/html" in response.headers.get("content-type", ""):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _ids(form: FormData) -> list[int]:
    out = []
    for v in form.getlist("ids"):
        try:
            out.append(int(v))
        except (TypeError, ValueError):
            raise HTTPException(400, "问题编号无效") from None
    return sorted(set(out))
