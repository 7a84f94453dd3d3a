"""A signed notification per new worklist item (a voicemail left, a callback promised),
posted to ``IVR_WORKLIST_WEBHOOK_URL``.

The body is JSON: ``{"event": "worklist.voicemail" | "worklist.callback", "item": {id,
kind, call_sid, flow, created_at, due_at, duration_s, status}, "console_url": ...}`` and
never the caller's number, the recording or its transcript (a signed-in agent opens
``console_url``). The header ``X-IVR-Signature: t=<unix seconds>,v1=<hex>`` is the
HMAC-SHA256 of ``"<t>.<body>"`` under ``IVR_WORKLIST_WEBHOOK_SECRET``, the same scheme as
the CRM webhook: a receiver checks it with ``ivr.telephony.crm.verify`` (or three lines
of its own) and refuses old timestamps. ``X-IVR-Delivery`` names the item and kind, the
same on every retry, so a receiver can drop a repeat.

Rules of this file: ``notify`` returns at once; each try runs on the line's background
pool (``submit``), never on a caller's webhook. A refused delivery (HTTP 4xx other than
429) is not retried; a failed one (5xx, 429, network) is retried ``tries`` times with
backoff, and then logged.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import requests

from .crm import sign

__all__ = ["WorklistNotifier", "SIGNATURE_HEADER", "DELIVERY_HEADER"]

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-IVR-Signature"
DELIVERY_HEADER = "X-IVR-Delivery"


class WorklistNotifier:
    """Posts each new worklist item, signed, to one URL (see the module docstring)."""

    def __init__(self, url: str, secret: str, submit: Callable[..., None], *, tries: int = 4,
                 timeout: float = 5.0, backoff: float = 1.0, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"IVR_WORKLIST_WEBHOOK_URL={url!r} must be an http(s) URL")
        if not secret:
            raise ValueError("IVR_WORKLIST_WEBHOOK_SECRET is not set: worklist notifications are signed with it")
        self.url, self.secret, self.submit = url, secret, submit
        self.tries, self.timeout, self.backoff, self.sleep, self.clock = tries, timeout, backoff, sleep, clock

    def notify(self, item: dict[str, Any], console_url: str = "") -> None:
        """Queue the notification of ``item`` (``WorkItem.public()``); returns at once."""
        body = json.dumps({"event": f"worklist.{item['kind']}", "item": item, "console_url": console_url},
                          ensure_ascii=False, sort_keys=True).encode()
        delivery = f"{item['kind']}-{item['id']}"
        self.submit(f"notifying worklist item {delivery}", self.deliver, body, delivery)

    def deliver(self, body: bytes, delivery: str) -> bool:
        """Post ``body`` until it is taken; True when the receiver took it (2xx or 3xx)."""
        problem = ""
        for attempt in range(1, self.tries + 1):
            headers = {"Content-Type": "application/json", "User-Agent": "ivr-worklists",
                       SIGNATURE_HEADER: sign(self.secret, body, int(self.clock())), DELIVERY_HEADER: delivery}
            try:
                response = requests.post(self.url, data=body, headers=headers, timeout=self.timeout,
                                         allow_redirects=False)
                if response.status_code < 400:
                    return True
                if response.status_code < 500 and response.status_code != 429:
                    log.warning("worklist webhook refused %s: HTTP %s (not retried)", delivery, response.status_code)
                    return False
                problem = f"HTTP {response.status_code}"
            except requests.RequestException as exc:
                problem = type(exc).__name__
            log.warning("worklist webhook for %s failed (%s), try %d of %d", delivery, problem, attempt, self.tries)
            if attempt < self.tries:
                self.sleep(self.backoff * 2 ** (attempt - 1))
        log.error("worklist webhook gave up on %s after %d tries (%s)", delivery, self.tries, problem)
        return False
