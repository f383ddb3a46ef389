"""The scoring model (DESIGN §5): schemes, automatic deductions, manual scores, totals, ranks.

A scheme has groups of units, categories with a maximum per group, and indicators inside the
categories. An indicator is either `manual` (an assessor's score) or a rule that turns
findings — or counts an assessor enters — into points:

  per_occurrence       points − per × count, never below 0 (扣完为止)
  per_occurrence_over  the same, counting only occurrences past `over`
  percent              each occurrence takes `percent` % off the unit's total (通报批评 −20 %)
  veto                 any occurrence is a single veto (the scheme's `veto:` says: fail or zero)
  bonus                per × count, or a manual value; added after normalisation (may be negative)

Not-applicable categories or indicators ("——", for a group or one unit) are left out and the
total normalised: total = applicable_sum × full / applicable_max + bonus. That reproduces the
2022 rule (×100/参评指标分值) and the 2020 rule (×20/17 plus 附加指标). Every automatic point
is a Deduction record naming the findings behind it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from govcheck.findings import FindingState
from govcheck.keys import key_problem
from govcheck.tables import TableError, read_table

SCHEMES = Path(__file__).resolve().parent / "schemes"
RULES = ("per_occurrence", "per_occurrence_over", "percent", "veto", "bonus")
NOT_APPLICABLE = ("——", "—", "--", "/", "不适用", "n/a", "N/A")


class SchemeError(ValueError):
    """A bad scheme or manual-score file: names the file, the line or field (exit 2)."""


# --------------------------------------------------------------------------- scheme

@dataclass(frozen=True)
class Indicator:
    name: str
    category: str
    kind: str                          # manual | per_occurrence | per_occurrence_over | percent | veto | bonus
    points: dict[str, float]           # group → points ({} for percent/veto/bonus)
    checks: tuple[str, ...] = ()       # findings counted (empty: counts come from the manual file)
    where: dict[str, tuple] = field(default_factory=dict)  # detail field → accepted values
    target_kind: str | None = None     # site | account
    per: float = 0.0
    over: int = 0
    percent: float = 0.0
    not_applicable: tuple[str, ...] = ()  # groups

    def points_for(self, group: str) -> float:
        return self.points.get(group, self.points.get("*", 0.0))


@dataclass(frozen=True)
class Category:
    name: str
    max: dict[str, float] | None       # group → maximum; None: no maximum, not normalised
    indicators: tuple[Indicator, ...]
    not_applicable: tuple[str, ...] = ()

    def max_for(self, group: str) -> float | None:
        if self.max is None:
            return None
        return self.max.get(group, self.max.get("*"))


@dataclass(frozen=True)
class Scheme:
    name: str
    title: str
    groups: tuple[str, ...]
    categories: tuple[Category, ...]
    full: float | None                 # None: totals are plain sums
    veto: str                          # veto_effect: fail (不合格, ranked after all who passed) | zero
    round: int
    manual_default: str                # zero | full: a manual indicator nobody scored
    source: str
    path: str

    @property
    def indicators(self) -> list[Indicator]:
        return [i for c in self.categories for i in c.indicators]

    @property
    def needs_manual_input(self) -> bool:
        """Whether totals mean nothing without an assessor's file: manual indicators nobody
        scored count as zero, or indicators count only what the file enters (信息采用)."""
        for ind in self.indicators:
            if ind.kind == "manual" and self.manual_default == "zero":
                return True
            if ind.kind != "manual" and not ind.checks:
                return True
        return False

    @property
    def automatic(self) -> bool:
        """Whether any indicator is judged from findings (so a unit no scan covered is 未检查)."""
        return any(ind.checks for ind in self.indicators)

    def item(self, name: str) -> Category | Indicator | None:
        for c in self.categories:
            if c.name == name:
                return c
            for i in c.indicators:
                if i.name == name:
                    return i
        return None


def _by_group(value: Any, groups: tuple[str, ...], where: str, path: str) -> dict[str, float]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"*": float(value)}
    if isinstance(value, dict):
        out = {}
        for g, v in value.items():
            if g != "*" and g not in groups:
                raise SchemeError(f"{path}: {where}: unknown group {g!r} (groups: {', '.join(groups)})")
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                raise SchemeError(f"{path}: {where}.{g}: expected a number, got {v!r}")
            out[str(g)] = float(v)
        return out
    raise SchemeError(f"{path}: {where}: expected a number or a mapping of group → number, got {value!r}")


def _keys(node: Any, allowed: set[str], where: str, path: str) -> dict:
    problem = key_problem(node, allowed)
    if problem is not None:
        raise SchemeError(f"{path}: {where}: {problem.message}")
    return node


def load_scheme(name_or_path: str) -> Scheme:
    path = Path(name_or_path)
    if not path.suffix:
        path = SCHEMES / f"{name_or_path}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in SCHEMES.glob("*.yaml")))
        raise SchemeError(f"{name_or_path}: no such scheme file or bundled scheme (bundled: {known})")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SchemeError(f"{path}: not valid YAML: {exc}") from None
    p = str(path)
    doc = _keys(doc, {"name", "title", "groups", "categories", "full", "veto", "veto_effect", "round", "manual_default",
                      "source"}, "scheme", p)
    groups = tuple(str(g) for g in doc.get("groups") or [])
    if not groups:
        raise SchemeError(f"{p}: groups: expected a non-empty list of unit groups")
    # `veto_effect` (the older spelling `veto` still read): what a single veto does to the unit.
    veto_key = "veto_effect" if "veto_effect" in doc else "veto"
    veto = doc.get(veto_key, "zero")
    if veto not in ("fail", "zero"):
        raise SchemeError(f"{p}: {veto_key}: expected 'fail' or 'zero', got {veto!r}")
    manual_default = doc.get("manual_default", "zero")
    if manual_default not in ("zero", "full"):
        raise SchemeError(f"{p}: manual_default: expected 'zero' or 'full', got {manual_default!r}")
    from checks import CHECKS

    categories, seen = [], set()
    for ci, c in enumerate(doc.get("categories") or []):
        cw = f"categories[{ci}]"
        c = _keys(c, {"name", "max", "indicators", "not_applicable"}, cw, p)
        cname = str(c.get("name") or "")
        if not cname or cname in seen:
            raise SchemeError(f"{p}: {cw}.name: missing or duplicate name {cname!r}")
        seen.add(cname)
        cmax = _by_group(c["max"], groups, f"{cw}.max", p) if c.get("max") is not None else None
        indicators = []
        for ii, ind in enumerate(c.get("indicators") or [{"name": cname, "manual": True}]):
            iw = f"{cw}.indicators[{ii}] ({ind.get('name') if isinstance(ind, dict) else '?'})"
            ind = _keys(ind, {"name", "points", "manual", "rule", "not_applicable"}, iw, p)
            iname = str(ind.get("name") or "")
            if not iname or (iname in seen and iname != cname):
                raise SchemeError(f"{p}: {iw}.name: missing or duplicate name {iname!r}")
            seen.add(iname)
            points = _by_group(ind["points"], groups, f"{iw}.points", p) if "points" in ind else (cmax or {})
            na = tuple(ind.get("not_applicable") or ())
            if ind.get("manual"):
                indicators.append(Indicator(iname, cname, "manual", points, not_applicable=na))
                continue
            rule = _keys(ind.get("rule"), {"type", "checks", "where", "target_kind", "per", "over", "percent"}, f"{iw}.rule", p)
            kind = rule.get("type")
            if kind not in RULES:
                raise SchemeError(f"{p}: {iw}.rule.type: expected one of {', '.join(RULES)}, got {kind!r}")
            checks = tuple(rule.get("checks") or ())
            for code in checks:
                if code not in CHECKS:
                    raise SchemeError(f"{p}: {iw}.rule.checks: unknown check code {code!r}")
            where = {k: tuple(v if isinstance(v, list) else [v]) for k, v in (rule.get("where") or {}).items()}
            if kind in ("per_occurrence", "per_occurrence_over") and not points:
                raise SchemeError(f"{p}: {iw}.points: a {kind} indicator needs points (its maximum deduction)")
            indicators.append(Indicator(iname, cname, kind, points if kind not in ("percent", "veto", "bonus") else {},
                                        checks, where, rule.get("target_kind"), float(rule.get("per") or 0),
                                        int(rule.get("over") or 0), float(rule.get("percent") or 0), na))
        categories.append(Category(cname, cmax, tuple(indicators), tuple(c.get("not_applicable") or ())))
    if not categories:
        raise SchemeError(f"{p}: categories: expected a non-empty list")
    return Scheme(str(doc.get("name") or path.stem), str(doc.get("title") or path.stem), groups, tuple(categories),
                  float(doc["full"]) if doc.get("full") is not None else None, veto, int(doc.get("round", 1)),
                  manual_default, str(doc.get("source") or ""), p)


# --------------------------------------------------------------------------- manual scores

@dataclass
class ManualEntry:
    score: float | None = None        # None with not_applicable
    count: float | None = None
    max: float | None = None          # per-unit applicable maximum
    not_applicable: bool = False


MANUAL_HEADERS = {"unit": ("unit", "单位", "名称"), "item": ("item", "项目", "指标", "类别"),
                  "score": ("score", "得分", "分数"), "count": ("count", "次数", "条数", "数量"),
                  "max": ("max", "满分", "适用满分", "参评分值")}


def _number(text: str, where: str) -> float | None:
    text = (text or "").strip()
    if text == "":
        return None
    try:
        return float(text)
    except ValueError:
        raise SchemeError(f"{where}: expected a number or ——, got {text!r}") from None


def load_manual(path: str, scheme: Scheme, units: dict[str, str | None] | set[str]) -> dict[tuple[str, str], ManualEntry]:
    """(unit, category or indicator) → entry, from CSV or XLSX with a header row.

    `units`: unit → group (a score above the item's points for that group is refused)."""
    groups = units if isinstance(units, dict) else dict.fromkeys(units)
    try:
        table = read_table(path, MANUAL_HEADERS, required=("unit", "item"), unknown="ignore")
    except TableError as exc:
        raise SchemeError(str(exc)) from None
    out: dict[tuple[str, str], ManualEntry] = {}
    for lineno, row in table.rows:
        get = lambda k, row=row: row.get(k, "").strip()  # noqa: E731
        unit, item = get("unit"), get("item")
        if not unit and not item:
            continue
        where = f"{path}:{lineno}"
        if unit not in units:
            raise SchemeError(f"{where}: unit {unit!r} is not in the registry")
        target = scheme.item(item)
        if target is None:
            raise SchemeError(f"{where}: {item!r} is neither a category nor an indicator of scheme {scheme.name}")
        score_text = get("score")
        entry = ManualEntry(not_applicable=score_text in NOT_APPLICABLE)
        if not entry.not_applicable:
            entry.score = _number(score_text, f"{where} score")
        entry.count = _number(get("count"), f"{where} count")
        entry.max = _number(get("max"), f"{where} max")
        limit = _item_points(target, groups.get(unit) or "")
        if entry.max is not None and limit is not None and entry.max > limit:
            raise SchemeError(f"{where}: {unit} {item}: 满分 {entry.max:g} is above the item's {limit:g} points")
        limit = entry.max if entry.max is not None else limit
        if entry.score is not None and limit is not None and entry.score > limit:
            raise SchemeError(f"{where}: {unit} {item}: score {entry.score:g} is above the item's {limit:g} points")
        if entry.score is not None and entry.score < 0 and not (isinstance(target, Indicator) and target.kind == "bonus"):
            raise SchemeError(f"{where}: {unit} {item}: score {entry.score:g} is below 0")
        if entry.count is not None and entry.count < 0:
            raise SchemeError(f"{where}: {unit} {item}: count {entry.count:g} is below 0")
        out[(unit, item)] = entry
    return out


def _item_points(item: Category | Indicator, group: str) -> float | None:
    """The most a manual score may give an item: a category's maximum, a manual or per-occurrence
    indicator's points; None where a scheme sets no ceiling (bonus, percent, veto)."""
    if isinstance(item, Category):
        return item.max_for(group)
    if item.kind in ("manual", "per_occurrence", "per_occurrence_over"):
        return item.points_for(group)
    return None


# --------------------------------------------------------------------------- scoring

@dataclass
class Deduction:
    unit: str
    scheme: str
    category: str
    indicator: str
    kind: str
    points: float             # points taken (negative for a bonus that adds)
    occurrences: int
    period: str
    finding_ids: list[int]
    note: str = ""


@dataclass
class UnitScore:
    unit: str
    group: str
    categories: dict[str, float | None]        # None: not applicable (——)
    maxima: dict[str, float | None]
    applicable_sum: float = 0.0
    applicable_max: float = 0.0
    bonus: float = 0.0
    percent_off: float = 0.0
    vetoed: bool = False
    total: float = 0.0
    rank: int | None = 0
    unscored: list[str] = field(default_factory=list)   # manual indicators nobody scored
    veto_items: list[str] = field(default_factory=list)  # the indicators that vetoed the unit
    veto_effect: str = "zero"
    score_before_veto: float = 0.0                       # what the deductions alone give
    unchecked: bool = False      # 未检查: no scan covered the unit (an automatic scheme scores nothing)
    unrated: bool = False        # 未评: the scheme needs manual input that was not given
    period: str = ""

    @property
    def standing(self) -> int:
        """Ranking class: passed, then vetoed (不合格/0), then 未评, then 未检查."""
        return 3 if self.unchecked else 2 if self.unrated else 1 if self.vetoed else 0

    @property
    def veto_text(self) -> str:
        return "单项否决：" + "、".join(self.veto_items) if self.veto_items else ""

    @property
    def status(self) -> str:
        """The 备注 note: why a total is what it is."""
        if self.unchecked:
            return "未检查：没有覆盖该单位的巡检"
        if self.unrated:
            return "未评：方案需要人工评分（--manual）"
        if self.vetoed:
            return f"{self.veto_text}（扣分后 {self.score_before_veto:g} 分，不计入）"
        return ""

    def total_text(self, digits: int = 1) -> str:
        """The 总分 as published: never a plain number for a vetoed, unchecked or unrated unit."""
        if self.unchecked:
            return "未检查"
        if self.unrated:
            return "未评"
        if self.vetoed and self.veto_effect == "fail":
            return f"不合格（{self.veto_text}）"
        number = f"{self.total:.{digits}f}"
        return f"{number}（{self.veto_text}）" if self.vetoed else number

    @property
    def rank_text(self) -> str:
        return "——" if self.rank is None else str(self.rank)


def _matches(ind: Indicator, state: FindingState) -> bool:
    f = state.finding
    if f.check not in ind.checks or (ind.target_kind and f.target_kind != ind.target_kind):
        return False
    # `where` reads the finding's detail; `severity` is the finding's own field.
    return all(str(f.severity if k == "severity" else f.detail.get(k)) in {str(v) for v in vals}
               for k, vals in ind.where.items())


def score_unit(scheme: Scheme, unit: str, group: str, findings: list[FindingState],
               manual: dict[tuple[str, str], ManualEntry], period: str) -> tuple[UnitScore, list[Deduction]]:
    us = UnitScore(unit, group, {}, {})
    deductions: list[Deduction] = []

    def count_of(ind: Indicator) -> tuple[int, list[int]]:
        entry = manual.get((unit, ind.name))
        if entry is not None and entry.count is not None:
            return int(entry.count), []
        hits = [f for f in findings if _matches(ind, f)]
        return len(hits), [st.id for st in hits]

    for cat in scheme.categories:
        centry = manual.get((unit, cat.name))
        if group in cat.not_applicable or (centry and centry.not_applicable):
            us.categories[cat.name], us.maxima[cat.name] = None, None
            continue
        value, ind_max, cat_bonus = 0.0, 0.0, 0.0
        for ind in cat.indicators:
            ientry = manual.get((unit, ind.name))
            if group in ind.not_applicable or (ientry and ientry.not_applicable):
                continue
            points = ind.points_for(group)
            if ind.kind == "manual":
                ind_max += points
                if ientry and ientry.score is not None:
                    value += ientry.score
                elif scheme.manual_default == "full":
                    value += points
                else:
                    us.unscored.append(ind.name)
                continue
            n, ids = count_of(ind)
            if ind.kind in ("per_occurrence", "per_occurrence_over"):
                ind_max += points
                counted = n if ind.kind == "per_occurrence" else max(0, n - ind.over)
                taken = min(points, ind.per * counted)
                value += points - taken
                if counted:
                    note = f"每次扣{ind.per:g}分" + (f"，超过{ind.over}次后计" if ind.over else "") + f"，最多扣{points:g}分"
                    deductions.append(Deduction(unit, scheme.name, cat.name, ind.name, ind.kind, round(taken, 4), n,
                                                period, ids, note))
            elif ind.kind == "bonus":
                amount = ind.per * n if ind.per else (ientry.score or 0.0) if ientry else 0.0
                cat_bonus += amount
                if amount:
                    deductions.append(Deduction(unit, scheme.name, cat.name, ind.name, "bonus", round(-amount, 4), n,
                                                period, ids, "加分" if amount > 0 else "附加扣分"))
            elif ind.kind == "percent" and n:
                us.percent_off += ind.percent * n
                deductions.append(Deduction(unit, scheme.name, cat.name, ind.name, "percent", 0.0, n, period, ids,
                                            f"每次扣总分的{ind.percent:g}%"))
            elif ind.kind == "veto" and n:
                us.vetoed = True
                us.veto_items.append(ind.name)
                deductions.append(Deduction(unit, scheme.name, cat.name, ind.name, "veto", 0.0, n, period, ids,
                                            "单项否决：" + ("不合格" if scheme.veto == "fail" else "总分计0")))
        if centry and centry.score is not None:   # an assessor scored the category as a whole
            value = centry.score
        cmax = centry.max if centry and centry.max is not None else cat.max_for(group)
        if cmax is None and cat.max is not None:
            cmax = ind_max
        us.bonus += cat_bonus
        if cmax is not None:
            # Normalised categories: capped at their maximum; bonus indicators are shown here
            # but added after normalisation.
            value = min(value, cmax)
            us.applicable_sum += value
            us.applicable_max += cmax
        else:
            us.bonus += value   # a category without a maximum simply adds (信息采用)
        us.categories[cat.name] = round(value + cat_bonus, 4)
        us.maxima[cat.name] = cmax
    if scheme.full is not None and us.applicable_max > 0:
        base = us.applicable_sum * scheme.full / us.applicable_max
    else:
        base = us.applicable_sum
    total = base * max(0.0, 1 - us.percent_off / 100) + us.bonus
    # Deductions are computed whatever the veto: fixing the veto item changes nothing else.
    us.veto_effect = scheme.veto
    us.score_before_veto = _round(total, scheme.round)
    if us.vetoed:
        total = 0.0
    us.total = _round(total, scheme.round)
    return us, deductions


def _round(value: float, digits: int) -> float:
    """Half-up rounding as published tables do (Python's round() rounds half to even)."""
    q = 10 ** digits
    return math.floor(value * q + 0.5 + 1e-9) / q


def in_rank_order(scores) -> list[UnitScore]:
    """Passed units by rank, then vetoed ones (most veto items last), then 未评, then 未检查."""
    return sorted(scores, key=lambda s: (s.standing, s.rank if s.rank is not None else 0, len(s.veto_items), s.unit))


def rank(scores: list[UnitScore]) -> None:
    """Ranks per group, ties ranked equally (1, 2, 2, 4). Vetoed units all share the rank after
    every unit that passed (不合格 / 0 is not ordered by the deductions a veto made moot, and an
    unreachable site, where nothing could be judged, must not look best); 未评 and 未检查 units
    get no rank (——)."""
    by_group: dict[str, list[UnitScore]] = defaultdict(list)
    for s in scores:
        by_group[s.group].append(s)
    for members in by_group.values():
        ordered = sorted(members, key=lambda s: (s.standing, -s.total if s.standing == 0 else 0))
        for i, s in enumerate(ordered):
            prev = ordered[i - 1] if i else None
            if s.standing >= 2:
                s.rank = None
            elif prev is not None and prev.standing == s.standing and (s.standing == 1 or prev.total == s.total):
                s.rank = prev.rank
            else:
                s.rank = i + 1
