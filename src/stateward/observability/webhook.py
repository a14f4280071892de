"""Post a Slack-compatible message when a graph run fails.

``GraphObserver(notifier=WebhookNotifier(url))`` calls the notifier once per failed
graph run (not for interrupts). The message names the graph, thread, node and error
type and carries the error's message, truncated; never state values. Delivery runs
in a background thread with bounded retries of transient failures only; a failed
delivery is logged as ``webhook_failed`` and never reaches the graph.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Final, Protocol

import httpx
import tenacity

from stateward.core.retry import is_transient_error
from stateward.observability import logging as events

MESSAGE_LIMIT: Final = 300
"""Characters of the error's message that are sent; the rest is cut."""


@dataclass(frozen=True, slots=True)
class RunFailure:
    """What is reported about a failed graph run: ids, names and the error."""

    graph: str
    thread_id: str | None
    node: str | None
    error_type: str
    error_message: str

    @classmethod
    def from_error(
        cls, graph: str, thread_id: Any, node: str | None, error: BaseException
    ) -> RunFailure:
        """The report for ``error``, its message truncated to ``MESSAGE_LIMIT``."""
        return cls(
            graph=graph,
            thread_id=None if thread_id is None else str(thread_id),
            node=node,
            error_type=type(error).__name__,
            error_message=_truncate(str(error), MESSAGE_LIMIT),
        )


class FailureNotifier(Protocol):
    """Told about each failed graph run; must return quickly and never raise."""

    def notify(self, failure: RunFailure) -> None:
        """Report ``failure``."""


class WebhookNotifier:
    """Posts a Slack-compatible JSON message (``text`` and ``blocks``) per failure.

    Args:
        url: the incoming-webhook URL. It often holds a secret, so only its host is
            ever logged.
        timeout: seconds for one HTTP attempt (connect, send and read).
        attempts: tries in total for a transient failure (connection errors,
            timeouts, HTTP 408/425/429/5xx); other failures are not retried.
    """

    def __init__(self, url: str, *, timeout: float = 5.0, attempts: int = 3) -> None:
        parsed = httpx.URL(url)  # a malformed URL fails here, at configuration time
        if parsed.scheme not in {"http", "https"} or not parsed.host:
            raise ValueError("webhook URL must be http(s) with a host")
        self._url = url
        self._host = parsed.host
        self._timeout = timeout
        self._attempts = max(1, attempts)
        self._pending: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._log = events.get_logger()

    def notify(self, failure: RunFailure) -> None:
        """Send the message in the background: the failing run is not held up."""
        thread = threading.Thread(
            target=self.send, args=(failure,), name="stateward-webhook"
        )
        with self._lock:
            self._pending = [t for t in self._pending if t.is_alive()]
            self._pending.append(thread)
        thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for messages still being sent; whether all are done."""
        with self._lock:
            pending = list(self._pending)
        for thread in pending:
            thread.join(timeout)
        return not any(t.is_alive() for t in pending)

    def send(self, failure: RunFailure) -> bool:
        """Post ``failure`` now; whether it was delivered. Never raises for a
        delivery failure: it is logged as ``webhook_failed``."""
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(is_transient_error),
            stop=tenacity.stop_after_attempt(self._attempts),
            wait=tenacity.wait_exponential(multiplier=0.1, max=2.0),
            reraise=True,
        )
        try:
            with httpx.Client(timeout=self._timeout) as client:
                for attempt in retrying:
                    with attempt:
                        response = client.post(self._url, json=slack_message(failure))
                        response.raise_for_status()
        except httpx.HTTPError as exc:
            self._log.warning(
                events.WEBHOOK_FAILED,
                host=self._host,
                graph=failure.graph,
                thread_id=failure.thread_id,
                error=type(exc).__name__,
                status=_status(exc),
                attempts=retrying.statistics.get("attempt_number", 1),
            )
            return False
        return True


def slack_message(failure: RunFailure) -> dict[str, Any]:
    """The JSON body: ``text`` for plain clients, ``blocks`` for Slack."""
    where = f" in node `{failure.node}`" if failure.node else ""
    text = (
        f"Graph run failed: {failure.graph}{where} "
        f"(thread {failure.thread_id or '-'}): {failure.error_type}"
    )
    fields = [
        ("Graph", failure.graph),
        ("Thread", failure.thread_id or "-"),
        ("Node", failure.node or "-"),
        ("Error", failure.error_type),
    ]
    return {
        "text": text,
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f":x: *{_escape(text)}*"},
            },
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*{name}*\n`{_escape(value)}`"}
                    for name, value in fields
                ],
            },
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"```{_escape(failure.error_message) or '(no message)'}```",
                },
            },
        ],
    }


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape(text: str) -> str:
    """Slack's mrkdwn control characters, escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _status(exc: httpx.HTTPError) -> int | None:
    return exc.response.status_code if isinstance(exc, httpx.HTTPStatusError) else None
