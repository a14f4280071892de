"""Named SQL queries, one file per dialect, loaded once.

A file is a sequence of ``-- name: <query>`` headers, each followed by one statement.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Literal

Dialect = Literal["postgres", "sqlite"]

_HEADER = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


def parse(text: str) -> dict[str, str]:
    """Split a queries file into ``{name: statement}``."""
    parts = _HEADER.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"query {name!r} is defined twice")
        queries[name] = body.strip()
    return queries


@functools.cache
def queries(dialect: Dialect) -> dict[str, str]:
    """The named queries of ``dialect``."""
    text = resources.files(__package__).joinpath(f"{dialect}.sql").read_text("utf-8")
    return parse(text)
