"""Crawl limits and rule thresholds: the configuration checks and crawler read (part of the
core checks may import; the registry's `settings:` block fills it)."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Settings:
    """Crawl limits and rule thresholds (DESIGN: "all thresholds are configuration")."""

    max_pages: int = 100_000        # pages crawled per site: a whole portal (19号 counts links site-wide)
    max_depth: int = 4              # link hops from the homepage
    timeout: float = 15.0           # the national 15-second rule
    retries: int = 2
    retry_after_max: float = 60.0   # never sleep longer than this for a Retry-After
    concurrency_per_host: int = 4
    concurrency: int = 32
    user_agent: str = "govcheck/0.1 (+government website compliance monitoring)"
    resolve_only: bool = False      # refuse DNS for hosts missing from resolve: (tests, demo)
    check_external: bool = True     # check targets outside the site (DESIGN §2 counts them)
    max_attachment_bytes: int = 10_000_000   # attachments read for personal data (.docx/.xlsx/.pdf)
    # Budgets that keep one hostile site from stalling the nightly scan: when one ends, the
    # site's crawl stops, a scan event says why and its findings are marked partial.
    site_time_budget: float = 3600.0   # seconds of crawling per site
    max_links_per_site: int = 300_000  # distinct link targets checked per site (a whole portal: ~3 per page)
    max_links_per_page: int = 1000     # distinct link targets checked per page (the rest: a scan event)
    attachment_cpu_seconds: float = 10.0   # CPU time to read one attachment's text
    recheck_hours: float = 20.0     # link targets that worked within this many hours are not requested again
    footer_sample: int = 5          # pages whose footer is checked: the homepage and the shallowest others
    # 站点无法访问: homepage probes in every scan, judged over a window with the scheduler's probes
    probes: int = 3
    probe_interval: float = 5.0     # seconds between a scan's probes
    probe_window_days: int = 7      # 国办 rule: a week of probes, ≥ 5 % failed is a veto
    unreachable_veto: float = 0.05
    unreachable_warn: float = 0.03
    # 首页不更新 / 栏目不更新 / 空白栏目
    home_max_age_days: int = 14
    stale_veto: int = 5             # stale 2w/6m columns that make a veto
    stale_1y_veto: int = 10
    blank_veto: int = 5
    # 政务新媒体
    account_stale_days: int = 14
    account_warn_days: int = 10     # per account: warn_days in the registry
    # Screenshots of pages with open findings, problem outlined (headless Chromium, govcheck.screenshots)
    screenshots: bool = True
    screenshots_max: int = 60       # per scan: vetoes first, then the others
    screenshot_timeout: float = 10.0    # seconds to render one page
    screenshot_max_bytes: int = 3_000_000   # larger pages are not rendered
    chromium: str = "/usr/bin/chromium"     # GOVCHECK_CHROMIUM overrides (Debian's package)
    # Alerts (notify: in the registry) link each problem to the web console
    console_url: str = ""

    @classmethod
    def field_names(cls) -> set[str]:
        return {f.name for f in fields(cls)}
