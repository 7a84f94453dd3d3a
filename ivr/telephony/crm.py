"""The transfer's context record, posted to a flow's CRM webhook.

POST JSON with ``X-IVR-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">``
keyed with the flow's shared secret, so the receiver can check who sent it and when
(``verify``). Delivery runs on a background pool with retries and never delays a call.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import requests

log = logging.getLogger(__name__)


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, body: bytes, header: str, now: float | None = None, tolerance: int = 300) -> bool:
    """For receivers: is ``header`` a valid signature of ``body``, made within ``tolerance`` s?"""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, body, timestamp), header)


class CrmNotifier:
    def __init__(self, tries: int = 3, timeout: float = 3.0, backoff: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time):
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ivr-crm")
        self.tries, self.timeout, self.backoff = tries, timeout, backoff
        self.sleep, self.clock = sleep, clock

    def notify(self, url: str, secret: str, context: dict[str, Any]) -> Future:
        """Queue the delivery; returns at once."""
        return self.pool.submit(self._deliver, url, secret, context)

    def _deliver(self, url: str, secret: str, context: dict[str, Any]) -> bool:
        body = json.dumps(context, ensure_ascii=False, sort_keys=True).encode()
        for attempt in range(1, self.tries + 1):
            headers = {"Content-Type": "application/json", "X-IVR-Signature": sign(secret, body, int(self.clock()))}
            try:
                response = requests.post(url, data=body, headers=headers, timeout=self.timeout)
                if response.status_code < 500 and response.status_code != 429:
                    if response.status_code >= 400:
                        log.warning("CRM webhook refused the context of call %s: HTTP %s",
                                    context.get("call_sid"), response.status_code)
                    return response.status_code < 400
                problem = f"HTTP {response.status_code}"
            except requests.RequestException as exc:
                problem = type(exc).__name__
            log.warning("CRM webhook for call %s failed (%s), try %d of %d", context.get("call_sid"), problem,
                        attempt, self.tries)
            if attempt < self.tries:
                self.sleep(self.backoff * 2 ** (attempt - 1))
        return False
