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
"""
from __future__ import annotations

import hmac
import json
import logging
from typing import Any, Protocol

from flask import Flask

from ivr import twiml
from ivr.flows.library import FlowLibrary
from ivr.model.session import Session
from ivr.settings import Settings
from ivr.store import SessionStore
from ivr.telephony.rest import CallGone, RestUnavailable, TwilioRest

from .line import Applied
from .live import HeardSpeech, LiveCall
from .services import Background

__all__ = ["LocalSpeech", "init_app"]

log = logging.getLogger(__name__)


class Socket(Protocol):
    """The websocket as the handler uses it (``simple_websocket.Server``)."""

    def receive(self, timeout: float | None = None) -> Any: ...

    def close(self, reason: int | None = None, message: str | None = None) -> None: ...


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
    def handle(self, ws: Socket) -> None:
        from ivr.speech.pipeline import Ended, Heard, MediaSession, OperatorNow, StreamProblem

        waiting: list[str] = []
        media: MediaSession | None = None
        call_sid = ""
        while True:
            text = ws.receive()
            if text is None:
                return
            if media is None:
                waiting.append(text)
                start = _start_message(text)
                if start is None:
                    if len(waiting) > 50:
                        log.warning("media stream sent no start message; closing")
                        return
                    continue
                call_sid = self._admit(start)
                if not call_sid:
                    ws.close(reason=1008, message="not a stream of this line")
                    return
                live = LiveCall.load(self.store, call_sid)
                if live is None:
                    return
                model = self.models.get(live.session.language) or next(iter(self.models.values()))
                media = MediaSession(model, self._phrases_for, operator_phrases=self.operator_phrases(live.session))
                backlog, waiting = waiting, []
            else:
                backlog = [text]
            for message in backlog:
                for outcome in media.feed_message(message):
                    if isinstance(outcome, Heard):
                        self.background.submit(f"delivering speech to call {call_sid}", self.deliver, call_sid,
                                               outcome.text, outcome.confidence, outcome.loudness_dbfs,
                                               outcome.duration)
                    elif isinstance(outcome, OperatorNow):
                        # the grammar only lets through words of the prompt, so an operator
                        # phrase among them is a request: deliver it on its own, at once
                        phrase = next((p for p in media.operator_phrases if p in outcome.text), outcome.text)
                        self.background.submit(f"delivering speech to call {call_sid}", self.deliver, call_sid,
                                               phrase, 1.0, None, None)
                    elif isinstance(outcome, StreamProblem):
                        log.info("call %s: media stream: %s", call_sid, outcome.reason)
                    elif isinstance(outcome, Ended):
                        return

    def _admit(self, start: dict[str, Any]) -> str:
        params = start.get("customParameters") or {}
        call_sid = str(params.get("call") or start.get("callSid") or "")
        live = LiveCall.load(self.store, call_sid)
        secret = live.stream_secret if live is not None else ""
        if not secret or not hmac.compare_digest(str(params.get("secret", "")), secret):
            log.warning("refused a media stream for call %s: unknown call or wrong secret", call_sid or "?")
            return ""
        return call_sid

    def _phrases_for(self, call_sid: str) -> list[str]:
        live = LiveCall.load(self.store, call_sid)
        return list(live.listen_phrases) if live is not None else []

    def deliver(self, call_sid: str, text: str, confidence: float, loudness: float | None,
                duration: float | None) -> None:
        """Save what was said with the call, then redirect the call to apply it now."""
        live = LiveCall.load(self.store, call_sid)
        if live is None or not live.listening:
            return
        seq = live.seq
        LiveCall.mark(self.store, call_sid, pending_speech=HeardSpeech(text, confidence, loudness, duration, seq))
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


def _start_message(text: str) -> dict[str, Any] | None:
    try:
        message = json.loads(text)
    except (TypeError, ValueError):
        return None
    start = message.get("start") if isinstance(message, dict) and message.get("event") == "start" else None
    return start if isinstance(start, dict) else None


def init_app(app: Flask, speech: LocalSpeech) -> None:
    """The Media Streams socket at ``/twilio/media``."""
    from flask_sock import Sock

    sock = Sock(app)

    @sock.route("/twilio/media")  # type: ignore[untyped-decorator, unused-ignore]
    def media(ws: Socket) -> None:  # a short loop around the sans-IO MediaSession
        speech.handle(ws)
