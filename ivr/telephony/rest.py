"""Twilio's REST API through the twilio SDK, with one retry policy for every call.

Errors are sorted once, here: a call that is no longer live (HTTP 404, or 400 with code
21220 "Call is not in-progress") is ``CallGone`` and never retried; overload (429), server
errors (5xx) and network failures are retried with backoff, then ``RestUnavailable``.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class CallGone(Exception):
    """The call ended; there is nothing to update."""


class RestUnavailable(Exception):
    """Twilio's API could not be reached or kept failing; the caller decides what now."""


class TwilioRest:
    def __init__(self, account_sid: str, auth_token: str, timeout: float = 5.0, tries: int = 3,
                 backoff: float = 0.2, sleep: Callable[[float], None] = time.sleep):
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        self.client = Client(account_sid or "AC00000000000000000000000000000000", auth_token or "unset",
                             http_client=TwilioHttpClient(timeout=timeout))
        self.tries = tries
        self.backoff = backoff
        self.sleep = sleep

    def _retry(self, what: str, fn: Callable[[], Any]) -> Any:
        from twilio.base.exceptions import TwilioRestException

        for attempt in range(1, self.tries + 1):
            try:
                return fn()
            except TwilioRestException as exc:
                if exc.status == 404 or exc.code == 21220:
                    raise CallGone(f"{what}: {exc.msg}") from None
                if exc.status not in (429,) and exc.status < 500:
                    raise RestUnavailable(f"{what}: HTTP {exc.status} code {exc.code}: {exc.msg}") from None
                problem = f"HTTP {exc.status}"
            except Exception as exc:  # requests' network errors, timeouts
                problem = type(exc).__name__
            log.warning("%s failed (%s), try %d of %d", what, problem, attempt, self.tries)
            if attempt < self.tries:
                self.sleep(self.backoff * (2 ** (attempt - 1)))
        raise RestUnavailable(f"{what}: failed {self.tries} times ({problem})")

    def redirect(self, call_sid: str, url: str) -> None:
        """Send the live call to ``url`` now (it interrupts the prompt that is playing)."""
        self._retry(f"redirect of {call_sid}", lambda: self.client.calls(call_sid).update(url=url, method="POST"))

    def place_call(self, to: str, from_: str, url: str, status_callback: str, timeout: int = 30) -> str:
        """Start an outbound call to ``to`` from the line's number ``from_``; Twilio fetches
        ``url`` when it is answered and posts its end to ``status_callback``. Returns its SID."""
        call = self._retry("placing a call back", lambda: self.client.calls.create(
            to=to, from_=from_, url=url, method="POST", status_callback=status_callback,
            status_callback_method="POST", status_callback_event=["completed"], timeout=timeout))
        return str(call.sid)
