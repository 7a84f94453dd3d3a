"""Local speech: the Media Streams websocket and the redirect that delivers what was said.

When a Vosk model is available for a call's language, the first prompt starts one
unidirectional stream (``<Start><Stream>``) to ``/twilio/media`` with the call's id and a
per-call secret as ``<Parameter>``s; keys still come through ``<Gather input="dtmf">``.
The socket handler is a short loop around ``ivr.speech.pipeline.MediaSession``: each
final result (or an operator phrase heard mid-prompt) is saved with the call as
``pending_speech`` and the live call is redirected (REST ``calls(sid).update``) to the
step URL, which applies it as ``SpeechHeard`` and cuts the prompt off. If the redirect
fails, nothing is lost: the prompt's own Gather action picks the pending speech up.

Whether a prompt starts the stream is decided with the step (``Applied.start_stream``,
saved with the call by ``Line``); ``speech_for`` only reads that decision, so rendering
writes nothing. Deliveries (a store write and a REST redirect) run on the line's
``Background`` worker, never on the socket's loop.

Nothing unauthenticated can hold the line: the route exists only when a model is loaded
(else ``/twilio/media`` is a 404); a message over ``MAX_MESSAGE_BYTES`` closes the socket
as it arrives (simple-websocket's ``max_message_size``, counted frame part by frame part,
so a huge frame is never held whole); nothing is kept before the ``start`` message, which
must come within ``START_WITHIN`` seconds and carry the call's secret; each socket holds
one of the host's ``IVR_MEDIA_SOCKETS`` slots (``sockets.py``) and, until its ``start``,
one of this process's ``WAITING_PER_PROCESS`` places, so sockets that never start hold at
most that many of a worker's threads, each for at most ``START_WITHIN`` seconds. A refused
socket is answered 503 before it is accepted: the call goes on with its keys.
"""
from __future__ import annotations

import hmac
import json
import logging
import threading
import time
from typing import Any, Protocol

from flask import Flask, Response, g, request

from ivr import twiml
from ivr.flows.library import FlowLibrary
from ivr.model.session import Session
from ivr.settings import Settings
from ivr.store import SessionStore
from ivr.telephony.rest import CallGone, RestUnavailable, TwilioRest

from .line import Applied
from .live import HeardSpeech, LiveCall
from .services import Background
from .sockets import Slot, SocketSlots

__all__ = ["LocalSpeech", "Ticket", "init_app", "MEDIA_PATH", "MAX_MESSAGE_BYTES", "START_WITHIN"]

log = logging.getLogger(__name__)
MEDIA_PATH = "/twilio/media"
MAX_MESSAGE_BYTES = 64 * 1024  # a media message is about 300 bytes; a start message under 10 kB
START_WITHIN = 2.0  # seconds from the upgrade to the start message (Twilio sends it at once)
WAITING_PER_PROCESS = 4  # sockets of one process still waiting for their start message
SILENT_STREAM_CLOSES = 30.0  # seconds without a message: the stream is gone (Twilio sends 50 a second)
REFUSAL_LOG_EVERY = 10.0  # seconds between two "refused a media stream" lines


class Socket(Protocol):
    """The websocket as the handler uses it (``simple_websocket.Server``)."""

    def receive(self, timeout: float | None = None) -> Any: ...

    def close(self, reason: int | None = None, message: str | None = None) -> None: ...


class Ticket:
    """One socket's place on this host (and, until its start message, in this process)."""

    def __init__(self, slot: Slot, waiting: threading.BoundedSemaphore) -> None:
        self._slot = slot
        self._waiting: threading.BoundedSemaphore | None = waiting
        self._lock = threading.Lock()

    def started(self) -> None:
        """The stream started: it no longer counts as waiting."""
        with self._lock:
            waiting, self._waiting = self._waiting, None
        if waiting is not None:
            waiting.release()

    def close(self) -> None:
        """The socket closed: give everything back (a second call does nothing)."""
        self.started()
        self._slot.release()


class LocalSpeech:
    """Our own recogniser (Vosk), per language, for the calls of this line."""

    def __init__(self, settings: Settings, library: FlowLibrary, store: SessionStore, rest: TwilioRest | None,
                 background: Background):
        self.settings = settings
        self.library = library
        self.store = store
        self.rest = rest
        self.background = background
        self.models: dict[str, Any] = {}
        self.slots = SocketSlots(settings.var_dir / "media-sockets", settings.media_sockets)
        self._waiting = threading.BoundedSemaphore(WAITING_PER_PROCESS)
        self._refusals_lock = threading.Lock()
        self._refusals = 0
        self._refusal_said = -REFUSAL_LOG_EVERY

    def load_models(self) -> None:
        """One model per language, loaded once per process (before gunicorn forks)."""
        from ivr.speech.models import SpeechSettings, resolve_model
        from ivr.speech.recognizer import ModelUnavailable, load_model

        if not self.settings.stream_speech:
            return
        wanted = {f.language for f in self.library.flows.values()}
        speech_settings = SpeechSettings(self.settings.vosk_model, dict(self.settings.vosk_models),
                                         str(self.settings.model_cache))
        for language in sorted(wanted):
            path = resolve_model(language, speech_settings)
            if not path:
                log.info("no Vosk model for %s: Twilio's recogniser hears speech in that language "
                         "(set IVR_VOSK_MODELS=%s=/path/to/model or run 'ivr models pull')", language, language)
                continue
            try:
                self.models[language] = load_model(path)
                log.info("local speech for %s: Vosk model %s", language, path)
            except ModelUnavailable as exc:
                log.error("the Vosk model for %s cannot be used (%s); Twilio's recogniser hears speech instead",
                          language, exc)

    def hears(self, language: str) -> bool:
        """Whether our recogniser hears callers in ``language`` (a model is loaded)."""
        return language in self.models

    def operator_phrases(self, session: Session) -> tuple[str, ...]:
        try:
            return self.library.pinned(session.flow, session.flow_version).operator.phrases
        except LookupError:
            return ()

    # --- rendering: does this prompt use our recogniser? --------------------------------
    def speech_for(self, applied: Applied, base_url: str) -> twiml.Speech:
        """How speech is heard at this answer (pure: the stream's start was decided with the step)."""
        language = applied.session.language or applied.flow.language
        if not self.hears(language) or applied.session.phase == "ended":
            return twiml.Speech()
        scheme, rest = base_url.split("://", 1) if "://" in base_url else ("http", base_url)
        ws = ("wss://" if scheme == "https" else "ws://") + rest
        return twiml.Speech(stream_url=f"{ws}/twilio/media", start_stream=applied.start_stream,
                            stream_parameters=(("call", applied.session.call_sid),
                                               ("secret", applied.live.stream_secret)))

    # --- the socket ---------------------------------------------------------------------
    def open_socket(self, source: str) -> Ticket | None:
        """A place for one more socket on this host, or None (refused, said in the log).

        Every socket holds a host slot (``IVR_MEDIA_SOCKETS``) while it is open, and one of
        this process's few places for sockets still waiting for their ``start`` message."""
        if not self._waiting.acquire(blocking=False):
            self._refused(source, f"{WAITING_PER_PROCESS} sockets of this process are still waiting for their "
                                  "start message")
            return None
        slot = self.slots.take()
        if slot is None:
            self._waiting.release()
            self._refused(source, f"{self.slots.cap} media sockets are already open on this host "
                                  "(IVR_MEDIA_SOCKETS)")
            return None
        return Ticket(slot, self._waiting)

    def _refused(self, source: str, why: str) -> None:
        with self._refusals_lock:
            self._refusals += 1
            now = time.monotonic()
            if now - self._refusal_said < REFUSAL_LOG_EVERY:
                return
            count, self._refusals, self._refusal_said = self._refusals, 0, now
        log.warning("refused a media stream from %s: %s; %d refused since the last such line. A refused call "
                    "goes on with its keys; raise IVR_MEDIA_SOCKETS if this host has CPU to spare", source or "?",
                    why, count)

    def handle(self, ws: Socket, ticket: Ticket | None = None, source: str = "?") -> None:
        """One Media Streams socket, from ``start`` (within ``START_WITHIN`` seconds) to ``stop``."""
        from ivr.speech.pipeline import MediaSession

        found = self._await_start(ws, source)
        if found is None:
            return
        if ticket is not None:
            ticket.started()
        call_sid, live, start_text = found
        model = self.models.get(live.session.language) or next(iter(self.models.values()))
        media = MediaSession(model, self._phrases_for, operator_phrases=self.operator_phrases(live.session))
        text: str | bytes | None = start_text
        while text is not None and self._feed(media, call_sid, text):
            text = ws.receive(timeout=SILENT_STREAM_CLOSES)
        if text is None:
            log.info("call %s: the media stream sent nothing for %.0f s; closing it", call_sid, SILENT_STREAM_CLOSES)

    def _await_start(self, ws: Socket, source: str) -> tuple[str, LiveCall, str] | None:
        """Wait for a ``start`` message with this line's secret; nothing before it is kept.

        Twilio's ``connected`` message may come first; anything else before ``start`` is
        dropped unread. No start within ``START_WITHIN`` seconds, or a wrong secret, closes
        the socket."""
        deadline = time.monotonic() + START_WITHIN
        dropped = 0
        while (left := deadline - time.monotonic()) > 0:
            text = ws.receive(timeout=left)
            if text is None:
                break
            event, start = _event_of(text)
            if event == "connected":
                continue
            if start is None:
                dropped += 1
                continue
            call_sid = self._admit(start, source)
            live = LiveCall.load(self.store, call_sid) if call_sid else None
            if live is None:
                ws.close(reason=1008, message="not a stream of this line")
                return None
            return call_sid, live, text if isinstance(text, str) else text.decode("utf-8", "replace")
        log.warning("closed a media stream from %s: no start message within %.0f s (%d other message(s) dropped)",
                    source, START_WITHIN, dropped)
        ws.close(reason=1008, message="no start message in time")
        return None

    def _feed(self, media: Any, call_sid: str, text: str | bytes) -> bool:
        """One message of an admitted stream into the recogniser; False when the stream ended."""
        from ivr.speech.pipeline import Ended, Heard, NotUnderstood, OperatorNow, StreamProblem

        for outcome in media.feed_message(text):
            if isinstance(outcome, Heard):
                self.background.submit(f"delivering speech to call {call_sid}", self.deliver, call_sid,
                                       outcome.text, outcome.confidence, outcome.loudness_dbfs, outcome.duration)
            elif isinstance(outcome, NotUnderstood):
                log.info("call %s: speech not understood (%s)", call_sid, outcome.why)
                self.background.submit(f"delivering speech to call {call_sid}", self.deliver, call_sid,
                                       outcome.heard, outcome.confidence, outcome.loudness_dbfs, outcome.duration,
                                       False)
            elif isinstance(outcome, OperatorNow):  # the operator phrase itself: a request, at once
                self.background.submit(f"delivering speech to call {call_sid}", self.deliver, call_sid,
                                       outcome.text, 1.0, None, None)
            elif isinstance(outcome, StreamProblem):
                log.info("call %s: media stream: %s", call_sid, outcome.reason)
            elif isinstance(outcome, Ended):
                return False
        return True

    def _admit(self, start: dict[str, Any], source: str = "?") -> str:
        params = start.get("customParameters")
        params = params if isinstance(params, dict) else {}
        call_sid = str(params.get("call") or start.get("callSid") or "")[:64]
        live = LiveCall.load(self.store, call_sid)
        secret = live.stream_secret if live is not None else ""
        if not secret or not hmac.compare_digest(str(params.get("secret", "")).encode(), secret.encode()):
            log.warning("refused a media stream from %s for call %s: unknown call or wrong secret", source,
                        call_sid or "?")
            return ""
        return call_sid

    def _phrases_for(self, call_sid: str) -> list[str]:
        live = LiveCall.load(self.store, call_sid)
        return list(live.listen_phrases) if live is not None else []

    def deliver(self, call_sid: str, text: str, confidence: float, loudness: float | None,
                duration: float | None, understood: bool = True) -> None:
        """Save what was said with the call, then redirect the call to apply it now.

        ``understood=False``: the caller spoke but said none of the prompt's answers; the
        step applies it as a misunderstanding (a no-match), never as silence."""
        live = LiveCall.load(self.store, call_sid)
        if live is None or not live.listening:
            return
        seq = live.seq
        LiveCall.mark(self.store, call_sid, pending_speech=HeardSpeech(text, confidence, loudness, duration, seq,
                                                                       rejected=not understood))
        url = twiml.Urls(self.settings.public_url).to("/twilio/step", node=live.session.node, seq=seq, speech=1)
        if self.rest is None:
            log.warning("call %s: heard %r but cannot redirect the call (TWILIO_ACCOUNT_SID not set)", call_sid, text)
            return
        try:
            self.rest.redirect(call_sid, url)
        except CallGone:
            log.info("call %s ended before its speech could be applied", call_sid)
        except RestUnavailable as exc:
            log.warning("call %s: %s; the prompt's own timeout will apply the speech", call_sid, exc)


def _event_of(text: str | bytes) -> tuple[str, dict[str, Any] | None]:
    """The ``event`` of a Media Streams message, and its ``start`` part when it is one."""
    try:
        message = json.loads(text)
    except (TypeError, ValueError):
        return "", None
    if not isinstance(message, dict):
        return "", None
    event = str(message.get("event", ""))
    start = message.get("start") if event == "start" else None
    return event, start if isinstance(start, dict) else None


def init_app(app: Flask, speech: LocalSpeech) -> None:
    """The Media Streams socket at ``/twilio/media``, only when a model is loaded."""
    if not speech.models:
        log.info("no Vosk model is loaded: %s is not served (Twilio's recogniser hears callers)", MEDIA_PATH)
        return
    from flask_sock import Sock

    options = dict(app.config.get("SOCK_SERVER_OPTIONS") or {})
    options["max_message_size"] = MAX_MESSAGE_BYTES
    app.config["SOCK_SERVER_OPTIONS"] = options
    sock = Sock(app)

    @app.before_request
    def _make_room() -> Response | None:  # before the upgrade: a refusal costs no thread
        if request.path != MEDIA_PATH:
            return None
        ticket = speech.open_socket(request.remote_addr or "?")
        if ticket is None:
            return Response("too many media streams on this host; the call goes on with keys\n", status=503,
                            mimetype="text/plain", headers={"Retry-After": "1"})
        g.media_ticket = ticket
        return None

    @app.teardown_request
    def _give_room_back(exc: BaseException | None) -> None:
        ticket = g.pop("media_ticket", None)
        if ticket is not None:
            ticket.close()

    @sock.route(MEDIA_PATH)  # type: ignore[untyped-decorator, unused-ignore]
    def media(ws: Socket) -> None:  # a short loop around the sans-IO MediaSession
        ticket = g.get("media_ticket")
        try:
            speech.handle(ws, ticket, request.remote_addr or "?")
        finally:
            if ticket is not None:
                ticket.close()
