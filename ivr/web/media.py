"""Local speech: the Media Streams websocket and the redirect that delivers what was said.

When a Vosk model is available for a call's language, the first prompt starts one
unidirectional stream (``<Start><Stream>``) to ``/twilio/media`` with the call's id and a
per-call secret as ``<Parameter>``s; keys still come through ``<Gather input="dtmf">``.
The socket handler is a short loop around ``ivr.speech.pipeline.MediaSession``: each
final result (or an operator phrase heard mid-prompt) is saved with the call as
``pending_speech`` and the live call is redirected (REST ``calls(sid).update``) to the
step URL, which applies it as ``SpeechHeard`` and cuts the prompt off. If the redirect
fails, nothing is lost: the prompt's own Gather action picks the pending speech up.
"""
from __future__ import annotations

import hmac
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask, request

from ivr import twiml
from ivr.flows.library import FlowLibrary
from ivr.settings import Settings
from ivr.telephony.rest import CallGone, RestUnavailable, TwilioRest

from .line import Applied, Line

log = logging.getLogger(__name__)


class LocalSpeech:
    def __init__(self, settings: Settings, library: FlowLibrary, line: Line, rest: TwilioRest | None):
        self.settings = settings
        self.library = library
        self.line = line
        self.rest = rest
        self.models: dict[str, Any] = {}
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="ivr-speech")

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

    def operator_phrases(self, session) -> tuple[str, ...]:
        try:
            return self.library.pinned(session.flow, session.flow_version).operator.phrases
        except LookupError:
            return ()

    # --- rendering: does this prompt use our recogniser? --------------------------------
    def speech_for(self, applied: Applied) -> twiml.Speech:
        language = applied.session.language or applied.flow.language
        if language not in self.models or applied.session.phase == "ended":
            return twiml.Speech()
        start = not applied.data.get("streaming")
        if start and any(getattr(a, "node", None) for a in applied.actions):
            self.line.mark(applied.session.call_sid, streaming=True)
        base = self.settings.public_url or request.host_url.rstrip("/")
        ws = "wss://" + base.split("://", 1)[1] if base.startswith("https://") else "ws://" + base.split("://", 1)[1]
        return twiml.Speech(stream_url=f"{ws}/twilio/media", start_stream=start,
                            stream_parameters=(("call", applied.session.call_sid),
                                               ("secret", applied.data.get("stream_secret", ""))))

    # --- the socket ---------------------------------------------------------------------
    def handle(self, ws) -> None:
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
                loaded = self.line.load(call_sid)
                language = loaded[0].language if loaded else ""
                model = self.models.get(language) or next(iter(self.models.values()))
                media = MediaSession(model, self._phrases_for, operator_phrases=self.operator_phrases(loaded[0]))
                backlog, waiting = waiting, []
            else:
                backlog = [text]
            for message in backlog:
                for outcome in media.feed_message(message):
                    if isinstance(outcome, Heard):
                        self.pool.submit(self.deliver, call_sid, outcome.text, outcome.confidence,
                                         outcome.loudness_dbfs, outcome.duration)
                    elif isinstance(outcome, OperatorNow):
                        # the grammar only lets through words of the prompt, so an operator
                        # phrase among them is a request: deliver it on its own, at once
                        phrase = next((p for p in media.operator_phrases if p in outcome.text), outcome.text)
                        self.pool.submit(self.deliver, call_sid, phrase, 1.0, None, None)
                    elif isinstance(outcome, StreamProblem):
                        log.info("call %s: media stream: %s", call_sid, outcome.reason)
                    elif isinstance(outcome, Ended):
                        return

    def _admit(self, start: dict[str, Any]) -> str:
        params = start.get("customParameters") or {}
        call_sid = str(params.get("call") or start.get("callSid") or "")
        loaded = self.line.load(call_sid) if call_sid else None
        secret = loaded[1].get("stream_secret", "") if loaded else ""
        if not secret or not hmac.compare_digest(str(params.get("secret", "")), secret):
            log.warning("refused a media stream for call %s: unknown call or wrong secret", call_sid or "?")
            return ""
        return call_sid

    def _phrases_for(self, call_sid: str) -> list[str]:
        loaded = self.line.load(call_sid)
        return list(loaded[1].get("listen_phrases", [])) if loaded else []

    def deliver(self, call_sid: str, text: str, confidence: float, loudness: float | None,
                duration: float | None) -> None:
        """Save what was said with the call, then redirect the call to apply it now."""
        loaded = self.line.load(call_sid)
        if loaded is None or not loaded[1].get("listening"):
            return
        session, data = loaded
        seq = data.get("seq")
        self.line.mark(call_sid, pending_speech={"text": text, "confidence": confidence, "loudness_dbfs": loudness,
                                                 "duration": duration, "seq": seq})
        url = twiml.Urls(self.settings.public_url).to("/twilio/step", node=session.node, seq=seq, speech=1)
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
    if isinstance(message, dict) and message.get("event") == "start" and isinstance(message.get("start"), dict):
        return message["start"]
    return None


def init_app(app: Flask, settings: Settings, library: FlowLibrary, line: Line) -> LocalSpeech:
    rest = TwilioRest(settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_timeout) \
        if settings.twilio_account_sid else None
    speech = LocalSpeech(settings, library, line, rest)
    speech.load_models()
    app.extensions["ivr.speech"] = speech
    app.extensions["ivr.speech_for"] = speech.speech_for
    from flask_sock import Sock

    sock = Sock(app)

    @sock.route("/twilio/media")
    def media(ws):  # a short loop around the sans-IO MediaSession
        speech.handle(ws)

    return speech
