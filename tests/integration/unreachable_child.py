"""A child process for test_restart.py: one saver call against a database that is down.

Usage: ``python unreachable_child.py DSN ATTEMPTS DEADLINE``. Opens a PostgresSaver
with ``StorageRetry(attempts=ATTEMPTS, deadline=DEADLINE)``, calls ``get_tuple`` and
prints one JSON line: whether it raised StorageUnavailableError, the error's class
and message, and the seconds it took.
"""

from __future__ import annotations

import json
import sys
import time

from stateward import errors
from stateward.checkpoint import PostgresSaver
from stateward.core.retry import StorageRetry


def main(argv: list[str]) -> int:
    dsn, attempts, deadline = argv[0], int(argv[1]), float(argv[2])
    started = time.monotonic()
    report: dict[str, object] = {"raised": None}
    try:
        with PostgresSaver.from_conn_string(
            dsn, pool_size=1, retry=StorageRetry(attempts=attempts, deadline=deadline)
        ) as saver:
            saver.get_tuple({"configurable": {"thread_id": "t"}})
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        report = {
            "raised": f"{type(exc).__module__}.{type(exc).__qualname__}",
            "unavailable": isinstance(exc, errors.StorageUnavailableError),
            "message": str(exc),
        }
    report["elapsed"] = time.monotonic() - started
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
