"""Security practice (DESIGN §2): 未启用HTTPS.

Not a 19号 indicator: a best practice (and the direction of the later 政府网站安全 guidance)
that monitoring teams list for review rather than deduct.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from checks.inputs import HomepageInput
from checks.registry import register, runs
from govcheck.findings import Finding

SITE_HTTPS = register(
    "site_https", "未启用HTTPS", "review",
    "首页未通过HTTPS提供：登记地址为http且访问时未跳转到https。",
    "政府网站安全防护最佳实践（非国办秘函〔2019〕19号检查指标）", key_on_url=False, family="security",
    inputs=("homepage",), notice="security")


@runs(SITE_HTTPS, on="homepage")
def check_https(home: HomepageInput, _resources) -> list[Finding]:
    # Judged on where the homepage ended up: an http address that redirects to https is fine.
    if urlsplit(home.final_url).scheme == "https":
        return []
    return [Finding(SITE_HTTPS.code, home.home_url, None, f"首页 {home.final_url} 未使用HTTPS",
                    {"final_url": home.final_url})]
