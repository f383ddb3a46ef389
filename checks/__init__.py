"""Checks: pure functions over parsed pages and crawl results → findings, one module a family."""

from checks import freshness, links  # noqa: F401  (registers the checks of each family)
from checks.registry import CHECKS, CheckSpec

__all__ = ["CHECKS", "CheckSpec"]
