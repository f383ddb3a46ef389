"""Checks: pure functions over parsed pages and crawl results → findings, one module a family."""

from checks import accounts, footer, freshness, links, privacy, words  # noqa: F401  (registers each family's checks)
from checks.registry import CHECKS, CheckSpec

__all__ = ["CHECKS", "CheckSpec"]
