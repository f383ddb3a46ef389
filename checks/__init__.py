"""Checks: pure functions over parsed pages and crawl results → findings, one module a family.

Every module of this package is imported here, which registers its checks in the catalogue
(checks.registry): a new family module needs no edit anywhere else.
"""

import importlib
import pkgutil

from checks.registry import CHECKS, FAMILIES, CheckSpec

_SUPPORT = {"registry", "inputs", "__main__"}
for _module in pkgutil.iter_modules(__path__):
    if _module.name not in _SUPPORT and not _module.name.startswith("_"):
        importlib.import_module(f"checks.{_module.name}")
# Catalogue order (summaries, README table): by family as FAMILIES lists them, then as declared.
_ORDER = list(FAMILIES)
_sorted = sorted(CHECKS.values(), key=lambda spec: _ORDER.index(spec.family))
CHECKS.clear()
CHECKS.update((spec.code, spec) for spec in _sorted)

__all__ = ["CHECKS", "CheckSpec"]
