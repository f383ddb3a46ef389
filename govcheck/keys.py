"""The one key validator for YAML mappings (registry, scoring schemes): an unknown key or a
missing required one is bad input, reported by the caller with its file and line."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class KeyProblem:
    key: str | None      # the offending key (None: the node is not a mapping, or a key is missing)
    message: str


def key_problem(node: Any, allowed: Iterable[str], required: Iterable[str] = ()) -> KeyProblem | None:
    """The first problem with a mapping's keys, in the file's order; None when it is fine."""
    allowed = set(allowed)
    if not isinstance(node, dict):
        return KeyProblem(None, f"expected a mapping, got {type(node).__name__}")
    for k in node:
        if k not in allowed:
            return KeyProblem(str(k), f"unknown key {k!r} (allowed: {', '.join(sorted(allowed))})")
    for k in required:
        if node.get(k) in (None, ""):
            return KeyProblem(None, f"missing required field {k!r}")
    return None
