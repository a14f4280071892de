"""Drop-in LangGraph checkpoint savers: change the import, nothing else.

>>> from stateward.checkpoint import PostgresSaver  # was langgraph.checkpoint.postgres
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stateward.checkpoint.sqlite import AsyncSqliteSaver, SqliteSaver

if TYPE_CHECKING:
    from stateward.checkpoint.postgres import AsyncPostgresSaver, PostgresSaver

__all__ = ["AsyncPostgresSaver", "AsyncSqliteSaver", "PostgresSaver", "SqliteSaver"]


def __getattr__(name: str) -> Any:
    # The Postgres savers need the `postgres` extra; import it only when asked.
    if name in ("PostgresSaver", "AsyncPostgresSaver"):
        from stateward.checkpoint import postgres  # noqa: PLC0415 - optional extra

        return getattr(postgres, name)
    raise AttributeError(name)
