"""Checks: pure functions over parsed pages and crawl results → findings, one module a family."""

from checks import links  # noqa: F401  (registers the link checks)
from checks.registry import CHECKS, CheckSpec

__all__ = ["CHECKS", "CheckSpec"]
