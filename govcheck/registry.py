"""The registry of units, sites, columns and accounts (DESIGN §3) — the only loader.

A bad registry must fail before any request is made, with a message naming the file, the
line, the unit/site and the field, so that monitoring staff can fix a 200-unit sheet without
reading a traceback. ``RegistryError`` carries exactly that; the CLI turns it into exit 2.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from govcheck.config import Settings
from govcheck.keys import key_problem
from govcheck.tables import Table, TableError, read_table
from govcheck.urls import link_target

COLUMN_RULES = ("2w", "6m", "1y", "none")
PLATFORMS = ("wechat", "weibo", "douyin", "toutiao", "kuaishou", "bilibili", "app", "other")


class RegistryError(ValueError):
    def __init__(self, file: str | os.PathLike, line: int | None, where: str, message: str):
        self.file, self.line, self.where, self.message = str(file), line, where, message
        loc = f"{self.file}:{line}" if line else self.file
        super().__init__(f"{loc}: {where}: {message}" if where else f"{loc}: {message}")


@dataclass(frozen=True)
class Column:
    name: str
    url: str
    rule: str | None = None         # None: inferred from the name (issue 3)


@dataclass(frozen=True)
class Site:
    url: str
    unit: str
    site_code: str | None = None
    allow_domains: tuple[str, ...] = ()
    columns: tuple[Column, ...] = ()
    name: str | None = None


@dataclass(frozen=True)
class Account:
    platform: str
    name: str
    feed: str
    unit: str
    warn_days: int | None = None


@dataclass(frozen=True)
class Unit:
    name: str
    group: str | None = None
    sites: tuple[Site, ...] = ()
    accounts: tuple[Account, ...] = ()


@dataclass(frozen=True)
class Smtp:
    host: str
    sender: str
    port: int = 25
    starttls: bool = False
    username: str | None = None
    password_env: str | None = None   # the password comes from this environment variable, never the file
    timeout: float = 15.0


@dataclass(frozen=True)
class Recipient:
    """Who is told: an e-mail address or a robot webhook (企业微信 `wecom`, 钉钉 `dingtalk`);
    `units` empty means staff (every unit's news)."""

    kind: str                      # email | wecom | dingtalk
    address: str                   # e-mail address or webhook URL
    units: tuple[str, ...] = ()
    secret: str | None = None      # 钉钉 加签 secret

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.address}"

    def covers(self, unit: str) -> bool:
        return not self.units or unit in self.units


@dataclass(frozen=True)
class Notify:
    recipients: tuple[Recipient, ...] = ()
    smtp: Smtp | None = None
    retries: int = 3
    retry_delay: float = 2.0


@dataclass(frozen=True)
class Registry:
    path: str
    units: tuple[Unit, ...]
    as_of: dt.date | None = None
    wordlists: tuple[str, ...] = ()
    resolve: dict[str, str] = field(default_factory=dict)
    settings: Settings = field(default_factory=Settings)
    group_map: dict[str, str] = field(default_factory=dict)   # registry group → scoring scheme group
    notify: Notify = field(default_factory=Notify)

    @property
    def sites(self) -> list[Site]:
        return [s for u in self.units for s in u.sites]

    @property
    def accounts(self) -> list[Account]:
        return [a for u in self.units for a in u.accounts]

    def unit(self, name: str) -> Unit:
        for u in self.units:
            if u.name == name:
                return u
        raise KeyError(name)

    def only_units(self, names: list[str]) -> Registry:
        """Restrict to --unit NAME…; an unknown name is bad input."""
        known = {u.name for u in self.units}
        for n in names:
            if n not in known:
                raise RegistryError(self.path, None, "--unit", f"no unit named {n!r} (known: {', '.join(sorted(known))})")
        return replace(self, units=tuple(u for u in self.units if u.name in names))


# --------------------------------------------------------------------------- YAML with lines

class _Map(dict):
    """A mapping that remembers the line of each key (1-based) and its own."""

    line: int = 0
    key_lines: dict


class _LineLoader(yaml.SafeLoader):
    pass


class DuplicateKey(yaml.YAMLError):
    def __init__(self, key: str, line: int, first: int):
        self.key, self.line, self.first = key, line, first
        super().__init__(f"duplicate key {key!r} (first at line {first}); YAML would silently keep only the last")


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> _Map:
    seen: dict[Any, int] = {}
    for k, _ in node.value:
        key = getattr(k, "value", None)
        if key in seen:
            raise DuplicateKey(str(key), k.start_mark.line + 1, seen[key])
        seen[key] = k.start_mark.line + 1
    mapping = _Map(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {k.value: k.start_mark.line + 1 for k, _ in node.value if hasattr(k, "value")}
    return mapping


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)


def _construct_timestamp(loader: _LineLoader, node: yaml.ScalarNode):
    # PyYAML turns anything shaped like a date into one and raises on 2024-13-45: keep such a
    # value as text, so the field's own check names the file, line and field (exit 2).
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


# YAML 1.1 reads 2024-04-19 as a date but also "on"/"yes" as booleans; keep dates, since
# as_of is one, and nothing in the registry is a yes/no word.
def _line(m: Any, key: str | None = None) -> int | None:
    if isinstance(m, _Map):
        return m.key_lines.get(key, m.line) if key else m.line
    return None


# --------------------------------------------------------------------------- validation

class _Checker:
    def __init__(self, path: str):
        self.path = path

    def fail(self, node: Any, key: str | None, where: str, message: str):
        raise RegistryError(self.path, _line(node, key), where, message)

    def keys(self, node: Any, allowed: set[str], where: str, required: tuple[str, ...] = ()):
        problem = key_problem(node, allowed, required)
        if problem is not None:
            k = problem.key
            self.fail(node, k, (f"{where}.{k}" if where else k) if k else where, problem.message)

    def text(self, node: Any, key: str, where: str, required: bool = False) -> str | None:
        value = node.get(key)
        if value is None or value == "":
            if required:
                self.fail(node, key, where, f"missing required field {key!r}")
            return None
        if isinstance(value, (dict, list)):
            self.fail(node, key, f"{where}.{key}", f"expected text, got {type(value).__name__}")
        return str(value).strip()

    def url(self, node: Any, key: str, where: str, required: bool = True) -> str | None:
        raw = self.text(node, key, where, required)
        if raw is None:
            return None
        norm, problem = link_target(raw)
        if problem:
            self.fail(node, key, f"{where}.{key}", f"{raw[:200]!r} is not a valid URL: {problem}")
        if norm is None or "://" not in raw:
            self.fail(node, key, f"{where}.{key}", f"{raw[:200]!r} is not an absolute http(s) URL")
        return norm

    def str_list(self, node: Any, key: str, where: str) -> tuple[str, ...]:
        value = node.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [v for v in value.replace(";", ",").replace("，", ",").split(",")]
        if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
            self.fail(node, key, f"{where}.{key}", "expected a list of text values")
        return tuple(str(v).strip() for v in value if str(v).strip())


def _where_unit(i: int, name: str | None) -> str:
    return f"units[{i}]" + (f" ({name})" if name else "")


def _parse_settings(c: _Checker, node: Any) -> Settings:
    if node is None:
        return Settings()
    c.keys(node, Settings.field_names(), "settings")
    defaults = Settings()
    values = {}
    for k, v in node.items():
        expected = type(getattr(defaults, k))
        try:
            if expected is bool:
                if not isinstance(v, bool):
                    raise ValueError
                values[k] = v
            else:
                values[k] = expected(v)
                if expected in (int, float) and values[k] < 0:
                    raise ValueError
        except (TypeError, ValueError):
            c.fail(node, k, f"settings.{k}", f"expected a {'non-negative ' if expected in (int, float) else ''}{expected.__name__}, got {v!r}")
    for k, minimum in SETTINGS_MINIMUM.items():
        if k in values and values[k] < minimum:
            c.fail(node, k, f"settings.{k}", f"must be at least {minimum:g}, got {node[k]!r}"
                   + (" (0 would never fetch anything: the scan would hang)" if minimum >= 1 else ""))
    return Settings(**values)


# Settings where 0 is not "off" but a scan that can never make progress.
SETTINGS_MINIMUM = {"concurrency_per_host": 1, "concurrency": 1, "max_pages": 1, "timeout": 0.1,
                    "probe_window_days": 1, "max_links_per_page": 1, "max_links_per_site": 1,
                    "site_time_budget": 1, "attachment_cpu_seconds": 0.1}


def _parse_resolve(c: _Checker, node: Any) -> dict[str, str]:
    if node is None:
        return {}
    if not isinstance(node, dict):
        c.fail(node, None, "resolve", "expected a mapping of host → address")
    out = {}
    for host, entry in node.items():
        where = f"resolve.{host}"
        allow_public = False
        addr = entry
        if isinstance(entry, dict):
            c.keys(entry, {"address", "allow_public"}, where, required=("address",))
            addr, allow_public = entry["address"], entry.get("allow_public", False)
            if not isinstance(allow_public, bool):
                c.fail(entry, "allow_public", f"{where}.allow_public", f"expected true or false, got {allow_public!r}")
        try:
            ip = ipaddress.ip_address(str(addr))
        except ValueError:
            c.fail(node, host, where, f"{addr!r} is not an IP address")
        if ip.is_unspecified or ip.is_multicast:
            c.fail(node, host, where, f"{addr} is not an address a request can be sent to")
        # resolve: pins hosts for tests, intranet mirrors and RSSHub bridges. Anything beyond
        # loopback and private ranges (public hosts, link-local such as the 169.254.169.254
        # cloud metadata service) must be asked for explicitly.
        private = ip.is_loopback or (ip.is_private and not ip.is_link_local)
        if not private and not allow_public:
            c.fail(node, host, where, f"{addr} is outside loopback/private ranges; write "
                   f"{{address: {addr}, allow_public: true}} if this is intended")
        name = str(host).lower().strip("[]")
        out[name] = str(ip)
    return out


def _parse_as_of(c: _Checker, node: Any) -> dt.date | None:
    value = node.get("as_of")
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        c.fail(node, "as_of", "as_of", f"{value!r} is not a date (YYYY-MM-DD)")


def _parse_units(c: _Checker, units: Any, top: Any) -> tuple[Unit, ...]:
    if not isinstance(units, list) or not units:
        c.fail(top, "units", "units", "expected a non-empty list of units")
    seen_units: dict[str, int] = {}
    seen_sites: dict[str, str] = {}
    out = []
    for i, u in enumerate(units):
        where = _where_unit(i, u.get("name") if isinstance(u, dict) else None)
        c.keys(u, {"name", "group", "sites", "accounts"}, where, required=("name",))
        name = c.text(u, "name", where, required=True)
        if name in seen_units:
            c.fail(u, "name", f"{where}.name", f"duplicate unit {name!r} (first at units[{seen_units[name]}])")
        seen_units[name] = i
        sites = []
        for j, s in enumerate(u.get("sites") or []):
            sw = f"{where}.sites[{j}]"
            c.keys(s, {"url", "name", "site_code", "allow_domains", "columns"}, sw, required=("url",))
            url = c.url(s, "url", sw)
            if url in seen_sites:
                c.fail(s, "url", f"{sw}.url", f"site {url} is already registered under {seen_sites[url]}")
            seen_sites[url] = name
            site_code = c.text(s, "site_code", sw)
            columns = []
            for k, col in enumerate(s.get("columns") or []):
                cw = f"{sw}.columns[{k}]"
                c.keys(col, {"name", "url", "rule"}, cw, required=("name", "url"))
                rule = c.text(col, "rule", cw)
                if rule is not None and rule not in COLUMN_RULES:
                    c.fail(col, "rule", f"{cw}.rule", f"unknown rule {rule!r} (allowed: {', '.join(COLUMN_RULES)})")
                columns.append(Column(c.text(col, "name", cw, True), c.url(col, "url", cw), rule))
            sites.append(Site(url=url, unit=name, site_code=site_code, name=c.text(s, "name", sw),
                              allow_domains=c.str_list(s, "allow_domains", sw), columns=tuple(columns)))
        accounts = []
        for j, a in enumerate(u.get("accounts") or []):
            aw = f"{where}.accounts[{j}]"
            c.keys(a, {"platform", "name", "feed", "warn_days"}, aw, required=("platform", "name", "feed"))
            platform = c.text(a, "platform", aw, True).lower()
            if platform not in PLATFORMS:
                c.fail(a, "platform", f"{aw}.platform", f"unknown platform {platform!r} (allowed: {', '.join(PLATFORMS)})")
            warn = a.get("warn_days")
            if warn is not None and (not isinstance(warn, int) or isinstance(warn, bool) or warn < 1):
                c.fail(a, "warn_days", f"{aw}.warn_days", f"expected a positive whole number of days, got {warn!r}")
            account_name = c.text(a, "name", aw, True)
            if any(x.name == account_name for x in accounts):
                c.fail(a, "name", f"{aw}.name", f"duplicate account {account_name!r} in unit {name!r}")
            accounts.append(Account(platform, account_name, c.url(a, "feed", aw), name, warn))
        out.append(Unit(name=name, group=c.text(u, "group", where), sites=tuple(sites), accounts=tuple(accounts)))
    return tuple(out)


EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
WEBHOOK_KINDS = ("wecom", "dingtalk")


def _parse_recipient(c: _Checker, node: Any, line: int | None, where: str, units: tuple[str, ...]) -> Recipient:
    if isinstance(node, str):   # a plain address; a list item has no line of its own: its key's
        node_ = _Map(email=node)
        node_.line, node_.key_lines = line or 0, {}
        node = node_
    c.keys(node, {"email", "wecom", "dingtalk", "secret"}, where)
    kinds = [k for k in ("email", *WEBHOOK_KINDS) if node.get(k)]
    if len(kinds) != 1:
        c.fail(node, None, where, "give exactly one of email, wecom (企业微信 robot URL), dingtalk (钉钉 robot URL)")
    kind = kinds[0]
    address = c.text(node, kind, where, required=True)
    if kind == "email":
        if not EMAIL.match(address):
            c.fail(node, kind, f"{where}.email", f"{address!r} is not an e-mail address")
        if node.get("secret"):
            c.fail(node, "secret", f"{where}.secret", "secret is for 钉钉 robots only")
    else:
        c.url(node, kind, where)
        if node.get("secret") and kind != "dingtalk":
            c.fail(node, "secret", f"{where}.secret", "secret is for 钉钉 robots only")
    return Recipient(kind, address, units, c.text(node, "secret", where))


def _parse_notify(c: _Checker, node: Any, unit_names: set[str]) -> Notify:
    if node is None:
        return Notify()
    c.keys(node, {"smtp", "staff", "units", "retries", "retry_delay"}, "notify")
    smtp = None
    if node.get("smtp") is not None:
        sm = node["smtp"]
        c.keys(sm, {"host", "port", "starttls", "sender", "username", "password_env", "timeout"}, "notify.smtp",
               required=("host", "sender"))
        port = sm.get("port", 25)
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            c.fail(sm, "port", "notify.smtp.port", f"expected a port number, got {port!r}")
        starttls = sm.get("starttls", False)
        if not isinstance(starttls, bool):
            c.fail(sm, "starttls", "notify.smtp.starttls", f"expected true or false, got {starttls!r}")
        sender = c.text(sm, "sender", "notify.smtp", required=True)
        if not EMAIL.match(sender):
            c.fail(sm, "sender", "notify.smtp.sender", f"{sender!r} is not an e-mail address")
        timeout = sm.get("timeout", 15)
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
            c.fail(sm, "timeout", "notify.smtp.timeout", f"expected seconds, got {timeout!r}")
        smtp = Smtp(c.text(sm, "host", "notify.smtp", required=True), sender, port, starttls,
                    c.text(sm, "username", "notify.smtp"), c.text(sm, "password_env", "notify.smtp"), float(timeout))
    recipients = []
    staff = node.get("staff") or []
    if not isinstance(staff, list):
        c.fail(node, "staff", "notify.staff", "expected a list of recipients")
    for i, r in enumerate(staff):
        recipients.append(_parse_recipient(c, r, _line(node, "staff"), f"notify.staff[{i}]", ()))
    per_unit = node.get("units") or {}
    if not isinstance(per_unit, dict):
        c.fail(node, "units", "notify.units", "expected a mapping of unit name → recipients")
    for unit, rs in per_unit.items():
        if unit not in unit_names:
            c.fail(per_unit, unit, f"notify.units.{unit}", f"no unit named {unit!r} in units:")
        if not isinstance(rs, list):
            c.fail(per_unit, unit, f"notify.units.{unit}", "expected a list of recipients")
        for i, r in enumerate(rs):
            recipients.append(_parse_recipient(c, r, _line(per_unit, unit), f"notify.units.{unit}[{i}]", (str(unit),)))
    if any(r.kind == "email" for r in recipients) and smtp is None:
        c.fail(node, None, "notify", "e-mail recipients need an smtp: block (host, port, sender)")
    retries = node.get("retries", 3)
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        c.fail(node, "retries", "notify.retries", f"expected a whole number, got {retries!r}")
    delay = node.get("retry_delay", 2.0)
    if not isinstance(delay, (int, float)) or isinstance(delay, bool) or delay < 0:
        c.fail(node, "retry_delay", "notify.retry_delay", f"expected seconds, got {delay!r}")
    return Notify(tuple(recipients), smtp, retries, float(delay))


def _from_mapping(path: str, top: Any) -> Registry:
    c = _Checker(path)
    c.keys(top, {"as_of", "wordlists", "resolve", "units", "settings", "group_map", "notify"}, "", required=("units",))
    base = Path(path).resolve().parent
    wordlists = []
    for w in c.str_list(top, "wordlists", "wordlists"):
        p = (base / w) if not Path(w).is_absolute() else Path(w)
        if not p.is_file():
            c.fail(top, "wordlists", "wordlists", f"wordlist file {w!r} not found (looked in {p})")
        wordlists.append(str(p))
    settings = _parse_settings(c, top.get("settings"))
    if os.environ.get("GOVCHECK_RESOLVE_ONLY") == "1":
        settings = replace(settings, resolve_only=True)
    units = _parse_units(c, top.get("units"), top)
    return Registry(path=path, units=units, as_of=_parse_as_of(c, top),
                    wordlists=tuple(wordlists), resolve=_parse_resolve(c, top.get("resolve")), settings=settings,
                    group_map=_parse_group_map(c, top), notify=_parse_notify(c, top.get("notify"), {u.name for u in units}))



def _parse_group_map(c: _Checker, top: Any) -> dict[str, str]:
    """`group_map: {镇街: 部门}`: a registry group scored as a scheme group."""
    node = top.get("group_map")
    if node is None:
        return {}
    if not isinstance(node, dict):
        c.fail(top, "group_map", "group_map", "expected a mapping of registry group → scheme group")
    out = {}
    for k, v in node.items():
        if not isinstance(v, str) or not str(k).strip() or not v.strip():
            c.fail(node, k, f"group_map.{k}", f"expected a group name, got {v!r}")
        out[str(k)] = v.strip()
    return out


# --------------------------------------------------------------------------- tabular import

# One row per site, column or account; the unit name repeats on every row. Headers may be
# the English field names or the Chinese ones used in assessment sheets.
TABLE_HEADERS = {
    "unit": ("unit", "单位", "单位名称"),
    "group": ("group", "分组", "类别"),
    "url": ("url", "site_url", "网站地址", "网址"),
    "site_code": ("site_code", "网站标识码"),
    "allow_domains": ("allow_domains", "允许域名"),
    "column": ("column", "栏目", "栏目名称"),
    "column_url": ("column_url", "栏目地址"),
    "rule": ("rule", "更新规则"),
    "platform": ("platform", "平台"),
    "account": ("account", "账号", "账号名称"),
    "feed": ("feed", "订阅地址"),
    "warn_days": ("warn_days", "预警天数"),
}


def _rows_to_mapping(table: Table) -> _Map:
    path = table.path
    units: dict[str, _Map] = {}
    top = _Map(units=[])
    top.line, top.key_lines = 1, {"units": 1}
    for lineno, rec in table.rows:
        def mk(d: dict, lineno: int = lineno) -> _Map:
            m = _Map({k: v for k, v in d.items() if v not in ("", None)})
            m.line, m.key_lines = lineno, {}
            return m
        name = rec.get("unit", "")
        if not name:
            raise RegistryError(path, lineno, "unit", "missing required field 'unit'")
        unit = units.get(name)
        if unit is None:
            unit = units[name] = mk({"name": name, "group": rec.get("group")})
            unit["sites"], unit["accounts"] = [], []
            top["units"].append(unit)
        if rec.get("url"):
            site = next((s for s in unit["sites"] if s["url"] == rec["url"]), None)
            if site is None:
                site = mk({"url": rec["url"], "site_code": rec.get("site_code"), "allow_domains": rec.get("allow_domains")})
                site["columns"] = []
                unit["sites"].append(site)
            if rec.get("column") or rec.get("column_url"):
                site["columns"].append(mk({"name": rec.get("column"), "url": rec.get("column_url"), "rule": rec.get("rule")}))
        elif rec.get("column"):
            raise RegistryError(path, lineno, f"unit {name}", "a column row needs the site url")
        if rec.get("account") or rec.get("feed") or rec.get("platform"):
            acc = mk({"platform": rec.get("platform"), "name": rec.get("account"), "feed": rec.get("feed")})
            if rec.get("warn_days"):
                try:
                    acc["warn_days"] = int(float(rec["warn_days"]))
                except ValueError:
                    raise RegistryError(path, lineno, f"unit {name}", f"warn_days {rec['warn_days']!r} is not a number") from None
            unit["accounts"].append(acc)
    return top


def _load_table(path: str) -> _Map:
    try:
        return _rows_to_mapping(read_table(path, TABLE_HEADERS, required=("unit",)))
    except TableError as exc:
        raise RegistryError(exc.path, exc.line, exc.where, exc.message) from None


def load_registry(path: str | os.PathLike) -> Registry:
    path = str(path)
    if not os.path.isfile(path):
        raise RegistryError(path, None, "", "file not found")
    suffix = Path(path).suffix.lower()
    if suffix in (".csv", ".xlsx", ".xlsm"):
        top = _load_table(path)
    else:
        try:
            with open(path, encoding="utf-8") as fh:
                top = yaml.load(fh, Loader=_LineLoader)  # noqa: S506 — SafeLoader subclass
        except DuplicateKey as exc:
            raise RegistryError(path, exc.line, exc.key, str(exc)) from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise RegistryError(path, mark.line + 1 if mark else None, "", f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
        except UnicodeDecodeError:
            raise RegistryError(path, None, "", "not UTF-8 text") from None
        if not isinstance(top, dict):
            raise RegistryError(path, 1, "", "expected a mapping with a 'units' list at the top")
    return _from_mapping(path, top)
