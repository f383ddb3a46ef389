"""`python -m checks`: the catalogue as the README's markdown table."""

import sys

import checks  # noqa: F401  (registers every family)
from checks.registry import markdown_table

sys.stdout.write(markdown_table())
