"""Open a saver from a database URL: ``postgresql://...`` or a SQLite path.

SQLite is the embedded default: ``sqlite:///path/to/state.db``, ``sqlite:///:memory:``
or a plain file path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from stateward import errors
from stateward.checkpoint._base import StatewardSaver

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
SQLITE_SCHEME = "sqlite:///"


_CONNINFO = re.compile(r"^\s*\w+\s*=")


def is_postgres(url: str) -> bool:
    """Whether ``url`` names a PostgreSQL database (a URL or libpq ``key=value``)."""
    return url.startswith(POSTGRES_SCHEMES) or bool(_CONNINFO.match(url))


def sqlite_path(url: str) -> str:
    """The file path (or ``:memory:``) of a SQLite URL or plain path."""
    if url.startswith(SQLITE_SCHEME):
        return url[len(SQLITE_SCHEME) :]
    if "://" in url:
        raise errors.InvalidInputError(
            f"unsupported database URL scheme in {redact(url)!r}: use postgresql://... "
            "or sqlite:///path (or a plain file path)"
        )
    return url


_CONNINFO_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)")


def redact(url: str) -> str:
    """``url`` with any password replaced, safe to print or log."""
    if _CONNINFO.match(url):
        return _CONNINFO_PASSWORD.sub(r"\1***", url)
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")  # password may itself contain "@"
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else url


@contextmanager
def open_saver(url: str, **kwargs: Any) -> Iterator[StatewardSaver]:
    """A sync saver for ``url``, with its schema migrated, closed on exit."""
    if is_postgres(url):
        from stateward.checkpoint.postgres import PostgresSaver  # noqa: PLC0415 - extra

        with PostgresSaver.from_conn_string(url, **kwargs) as saver:
            saver.setup()
            yield saver
        return
    from stateward.checkpoint.sqlite import SqliteSaver  # noqa: PLC0415 - symmetry

    path = sqlite_path(url)
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    with SqliteSaver.from_conn_string(path, **kwargs) as saver:
        yield saver
