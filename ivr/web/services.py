"""``Services``: the parts of one running support line, built once by ``create_app``.

Every web module reaches the line's parts through ``services()`` (the current app's) or
``services(app)``: settings, the flow library, the session store, the ``Line`` around the
engine, the signature guard, local speech, warm transfer (None without the REST API),
the flow reloader, the agents file, the background worker for REST work, and the clock.

``clock`` is the one moment every webhook reads (``Services.now``); tests replace it::

    services(app).clock = lambda: datetime(2026, 3, 4, 15, 0, tzinfo=timezone.utc)

``Background`` runs work that talks to Twilio's REST API (agent legs, cancels, redirects,
the CRM notice) after a webhook has decided its answer, on a small thread pool owned by
the line, so a slow or failing API never holds a caller's webhook.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, request

from ivr import twiml
from ivr.flows.library import FlowLibrary, NoFlow
from ivr.flows.nodes.transfer import TransferNode
from ivr.settings import Settings
from ivr.store import SessionStore

from .line import Line, now

if TYPE_CHECKING:
    from .admin import Reloader
    from .agents import AgentsFile
    from .defence import LimitedGuard
    from .keeper import RecordKeeper
    from .media import LocalSpeech
    from .transfer import WarmTransfer

__all__ = ["Background", "Services", "services"]

log = logging.getLogger(__name__)
EXTENSION = "ivr"


class Background:
    """Work that must not run on a webhook's thread (REST calls to Twilio, with their
    retries), on ``workers`` threads. A job's failure is logged with what it was doing
    and never reaches a caller. ``wait_idle`` returns when every job submitted so far has
    finished (tests, and a clean shutdown)."""

    def __init__(self, workers: int = 8, name: str = "ivr-rest") -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._pending: set[Future[None]] = set()
        self._idle = threading.Condition()

    def submit(self, what: str, job: Callable[..., object], *args: Any) -> None:
        """Run ``job(*args)`` soon, off this thread; ``what`` names it in the log."""

        def run() -> None:
            try:
                job(*args)
            except Exception:
                log.exception("background job failed: %s", what)

        with self._idle:
            future = self._pool.submit(run)
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[None]) -> None:
        with self._idle:
            self._pending.discard(future)
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no job is pending or running (jobs may submit more); False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._pending, timeout)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)


@dataclass
class Services:
    """The parts of one running support line (see the module's docstring)."""

    settings: Settings
    library: FlowLibrary
    store: SessionStore
    line: Line
    signatures: LimitedGuard
    speech: LocalSpeech
    reloader: Reloader
    agents: AgentsFile
    background: Background
    warm: WarmTransfer | None = None
    keeper: RecordKeeper | None = None  # writes each call's record when it ends (None: records are off)
    clock: Callable[[], datetime] = field(default=now)

    def now(self) -> datetime:
        """The moment of this request, by the line's clock."""
        return self.clock()

    def base_url(self) -> str:
        """The public base URL Twilio calls us on (``IVR_PUBLIC_URL``, else this request's host)."""
        return self.settings.public_url or request.host_url.rstrip("/")

    def urls(self) -> twiml.Urls:
        return twiml.Urls(self.base_url())

    def line_voice(self) -> twiml.Voice:
        """The voice and words of the line's default flow, for a call the line does not know."""
        try:
            flow = self.library.for_number("")
        except NoFlow:
            return twiml.Voice()
        return twiml.Voice(flow.voice, flow.language, flow.words())

    def emergency(self) -> str:
        """When the flow itself cannot run: apologise and dial a person, never silence (in
        the words and voice of the line's default flow)."""
        target = self.settings.fallback_number
        voice = self.line_voice()
        try:
            flow = self.library.for_number("")
            node = flow.nodes.get(flow.operator.to)
            if not target and isinstance(node, TransferNode):
                target = next((t for t in node.targets if not t.startswith("queue:")), "")
        except NoFlow:
            pass
        apology = voice.text("apology")
        if not target:
            return twiml.simple(apology, voice.text("call_again_goodbye"), hangup=True, voice=voice)
        return twiml.emergency(apology, target, voice)


def services(app: Flask | None = None) -> Services:
    """The line's parts: of ``app``, or of the app handling the current request."""
    found = (app if app is not None else current_app).extensions[EXTENSION]
    if not isinstance(found, Services):  # pragma: no cover - create_app always sets it
        raise RuntimeError("this Flask app was not made by ivr.web.app.create_app")
    return found
