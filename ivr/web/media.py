"""Local speech: the Media Streams websocket and the redirect that delivers what was said.

When a Vosk model is available for a call's language, the first prompt starts one
unidirectional stream (``<Start><Stream>``) to ``/twilio/media`` with the call's id and a
per-call secret as ``<Parameter>``s; keys still come through ``<Gather input="dtmf">``.
The socket handler is a short loop around ``ivr.speech.pipeline.MediaSession``: each
final result (or an operator phrase heard mid-prompt) is saved with the call as
``pending_speech`` and the live call is redirected (REST ``calls(sid).update``) to the
step URL, which applies it as ``SpeechHeard`` and cuts the prompt off. If the redirect
fails, nothing is lost: the prompt's own Gather action picks the pending speech up.

Whether a prompt starts a stream is decided with the step (``Applied.start_stream``,
saved with the call by ``Line``); ``speech_for`` only reads that decision, so rendering
writes nothing. A stream can drop, never connect, or be lost with a retried webhook:
``streams.py`` holds the rules (every prompt of a call whose stream is not up starts a
new one, numbered, and its Gather also takes Twilio's speech until the stream's
``start`` arrives; one socket feeds a call). A socket that drops without a ``stop``
marks the stream down and, if the caller is at a prompt, redirects the call to hear the
prompt again with a new stream, so a caller is never left talking to nobody.

The grammar follows the call by push: the webhook that moves a call to a new prompt
publishes it on the call's bus channel (``prompt_moved``), and the socket switches its
recogniser, decoding again the audio that came since (``MediaSession.switch``).
Deliveries (a store write and a REST redirect) run on the line's ``Background`` worker,
never on the socket's loop.

Entry point for servers: ``LocalSpeech.handle(ws, ticket, source)`` runs one socket to
its end on the calling thread (blocking reads, ``ws.receive(timeout)``); ``init_app``
mounts it with flask-sock. A server that runs sockets elsewhere (another worker class or
process) calls ``open_socket`` before accepting the upgrade and ``handle`` after it. The
recogniser's work is ``MediaSession.feed_message`` and ``MediaSession.switch`` (both go
into Vosk through ``CallRecognizer``). Each socket subscribes to its call's bus channel
(with Redis: one pub/sub connection per open socket) and reads it every ``NEWS_EVERY``
messages, without blocking.

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
from contextlib import suppress
from typing import Any, Protocol

from flask import Flask, Response, g, request

from ivr import twiml
from ivr.flows.library import FlowLibrary
from ivr.model.session import Session
from ivr.settings import Settings
from ivr.store import SessionStore
from ivr.store.bus import Subscription
from ivr.telephony.rest import CallGone, RestUnavailable, TwilioRest

from . import streams
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
NEWS_EVERY = 5  # messages (100 ms of audio) between two looks at the call's bus channel
SWITCH_MARGIN_MS = 200  # audio kept at a grammar switch beyond the time since the prompt was decided


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
        live = applied.live
        # a prompt with no phrases of its own (a date, free words) is Twilio's to hear (pipeline.py)
        operator = set(self.operator_phrases(applied.session))
        own = [p for p in live.listen_phrases if p not in operator]
        return twiml.Speech(stream_url=f"{ws}/twilio/media", start_stream=applied.start_stream,
                            stream_name=streams.stream_name(live.stream_gen), stream_up=live.streaming and bool(own),
                            stream_parameters=(("call", applied.session.call_sid), ("secret", live.stream_secret),
                                               ("stream", str(live.stream_gen))))

    def prompt_moved(self, applied: Applied) -> None:
        """The call waits at a new prompt: tell its socket (if any, on any host) the grammar.
        Never fails a call: without the push the socket checks after each utterance."""
        live = applied.live
        if not live.stream_gen or not self.hears(applied.session.language or applied.flow.language):
            return
        try:
            self.store.bus.publish(streams.channel(live.call_sid), streams.prompt_message(live))
        except Exception:
            log.warning("call %s: could not push the new prompt's grammar to its media socket", live.call_sid,
                        exc_info=True)

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
        """One Media Streams socket, from ``start`` (within ``START_WITHIN`` seconds) to
        its end: ``stop``, a drop, silence, or a newer socket of the call taking over."""
        from ivr.speech.pipeline import MediaSession

        found = self._await_start(ws, source)
        if found is None:
            return
        if ticket is not None:
            ticket.started()
        call_sid, gen, start_text = found
        socket = streams.socket_id(gen)
        subscription = self._subscribe(call_sid)  # before the call is read: no push is missed
        try:
            try:
                admission = streams.admit(self.store, call_sid, gen, socket)
            except Exception as exc:  # a store outage: the stream stays down, the next prompt tries again
                log.warning("call %s: could not admit media stream %d (%s); Twilio's recogniser hears the caller",
                            call_sid, gen, exc)
                ws.close(reason=1011, message="try again")
                return
            if admission.live is None:
                log.warning("refused media stream %d of call %s from %s: %s", gen, call_sid, source,
                            admission.refusal)
                ws.close(reason=1008, message="not a stream this call wants")
                return
            self._publish(call_sid, streams.socket_message(socket))
            live = admission.live
            model = self.models.get(live.session.language) or next(iter(self.models.values()))
            media = MediaSession(model, self._prompt_of, operator_phrases=self.operator_phrases(live.session))
            try:
                why = self._run(ws, media, call_sid, socket, subscription, start_text)
            except Exception:  # a bug or an outage must not leave the call with a stream marked up
                log.exception("call %s: media stream %d failed", call_sid, gen)
                why = "failed"
        finally:
            if subscription is not None:
                subscription.close()
        self._ended(ws, media, call_sid, gen, socket, why)

    def _run(self, ws: Socket, media: Any, call_sid: str, socket: str, subscription: Subscription | None,
             text: str | bytes) -> str:
        """Feed the socket's messages to the recogniser; why it ended: ``stop``, ``dropped``,
        ``silent`` or ``replaced``."""
        from simple_websocket import ConnectionClosed

        messages = 0
        while True:
            if not self._outcomes(call_sid, media.feed_message(text), socket):
                return "stop"
            messages += 1
            if subscription is not None and messages % NEWS_EVERY == 0:
                news = self._news(media, call_sid, socket, subscription)
                if news == "replaced":
                    return news
                if news == "deaf":
                    subscription.close()
                    subscription = None
            try:
                received = ws.receive(timeout=SILENT_STREAM_CLOSES)
            except ConnectionClosed:
                return "dropped"
            if received is None:
                return "silent"
            text = received

    def _news(self, media: Any, call_sid: str, socket: str, subscription: Subscription) -> str:
        """What the call's channel says: a new prompt (switch the grammar, keep the audio
        since it was decided) or a newer socket (``replaced``); ``deaf``: the bus failed."""
        from ivr.speech.pipeline import KEEP_MS, Prompt

        while True:
            try:
                message = subscription.get(timeout=0)
            except Exception as exc:  # a bus outage: the socket still checks after each utterance
                log.warning("call %s: the media socket lost the call's channel (%s); the grammar follows "
                            "the call after each utterance", call_sid, exc)
                return "deaf"
            if message is None:
                return ""
            event = message.get("event")
            if event == "socket" and message.get("socket") != socket:
                return "replaced"
            if event == "prompt" and isinstance(message.get("phrases"), list):
                seq = message.get("seq")
                at = message.get("at")
                elapsed = time.time() - at if isinstance(at, (int, float)) else 0.0
                keep = min(max(int(elapsed * 1000), 0) + SWITCH_MARGIN_MS, KEEP_MS)
                prompt = Prompt(tuple(str(p) for p in message["phrases"]), None, seq if isinstance(seq, int) else None)
                log.debug("call %s: listening for prompt %s (pushed; %d ms of audio decoded again)", call_sid,
                          prompt.tag, keep)
                self._outcomes(call_sid, media.switch(prompt, keep), socket)

    def _ended(self, ws: Socket, media: Any, call_sid: str, gen: int, socket: str, why: str) -> None:
        """Say why the socket ended; a stream that went down without a ``stop`` while the
        caller waits at a prompt is started again at once (the call hears the prompt again)."""
        if why == "replaced":
            log.info("call %s: media stream %d gave way to a newer socket of the call; closing it", call_sid, gen)
            ws.close(reason=1000, message="a newer stream feeds this call")
            return
        try:
            live = streams.went_down(self.store, call_sid, socket)
        except Exception as exc:
            log.warning("call %s: media stream %d ended (%s) but the store could not be told (%s); until a "
                        "newer stream starts, the call's prompts take keys only", call_sid, gen, why, exc)
            return
        if why == "stop":
            log.info("call %s: media stream %d stopped", call_sid, gen)
            return
        how = {"dropped": "dropped", "failed": "failed"}.get(why, f"sent nothing for {SILENT_STREAM_CLOSES:.0f} s")
        during = " mid-utterance (what was being said is not taken)" if media.mid_utterance else ""
        if why in ("silent", "failed"):
            with suppress(Exception):  # the socket may be broken already
                ws.close(reason=1000 if why == "silent" else 1011, message="no audio" if why == "silent" else "failed")
        if live is not None and live.stream_gen >= streams.MAX_STREAMS:
            log.warning("call %s: media stream %d %s without a stop%s; that was the call's last: Twilio's "
                        "recogniser hears the rest of the call", call_sid, gen, how, during)
            return
        if live is None or not live.listening or live.phase == "ended":
            log.warning("call %s: media stream %d %s without a stop%s; the next prompt starts another", call_sid,
                        gen, how, during)
            return
        log.warning("call %s: media stream %d %s without a stop%s; the caller hears the prompt again, with a "
                    "new stream and Twilio's recogniser until it is up", call_sid, gen, how, during)
        self.background.submit(f"restarting the media stream of call {call_sid}", self._restart, call_sid)

    def _restart(self, call_sid: str) -> None:
        """Send the call to where it is now: its prompt again, which starts a new stream."""
        if self.rest is None:
            log.warning("call %s: cannot restart its media stream now (TWILIO_ACCOUNT_SID not set); the next "
                        "prompt does, and the caller's keys still work", call_sid)
            return
        try:
            self.rest.redirect(call_sid, twiml.Urls(self.settings.public_url).to("/twilio/resume"))
        except CallGone:
            log.info("call %s ended before its media stream could be restarted", call_sid)
        except RestUnavailable as exc:
            log.warning("call %s: %s; the prompt's own timeout restarts the media stream", call_sid, exc)

    def _subscribe(self, call_sid: str) -> Subscription | None:
        try:
            return self.store.bus.subscribe(streams.channel(call_sid))
        except Exception as exc:
            log.warning("call %s: the media socket cannot hear the call's channel (%s); the grammar follows the "
                        "call after each utterance", call_sid, exc)
            return None

    def _publish(self, call_sid: str, message: dict[str, Any]) -> None:
        try:
            self.store.bus.publish(streams.channel(call_sid), message)
        except Exception as exc:
            log.warning("call %s: could not tell the call's other media sockets to close (%s)", call_sid, exc)

    def _await_start(self, ws: Socket, source: str) -> tuple[str, int, str] | None:
        """Wait for a ``start`` message with this line's secret; nothing before it is kept.

        Twilio's ``connected`` message may come first; anything else before ``start`` is
        dropped unread (a ``stop`` ends the wait). No start within ``START_WITHIN``
        seconds, or a wrong secret, closes the socket. The call, the stream's number and
        the start message."""
        deadline = time.monotonic() + START_WITHIN
        dropped = 0
        while (left := deadline - time.monotonic()) > 0:
            text = ws.receive(timeout=left)
            if text is None:
                break
            event, start = _event_of(text)
            if event == "connected":
                continue
            if event == "stop":
                log.warning("closed a media stream from %s: it stopped before it started (%d other message(s) "
                            "dropped)", source, dropped)
                ws.close(reason=1000, message="stopped before start")
                return None
            if start is None:
                dropped += 1
                continue
            call_sid, gen = self._admit(start, source)
            if not call_sid:
                ws.close(reason=1008, message="not a stream of this line")
                return None
            return call_sid, gen, text if isinstance(text, str) else text.decode("utf-8", "replace")
        log.warning("closed a media stream from %s: no start message within %.0f s (%d other message(s) dropped)",
                    source, START_WITHIN, dropped)
        ws.close(reason=1008, message="no start message in time")
        return None

    def _outcomes(self, call_sid: str, outcomes: list[Any], socket: str = "") -> bool:
        """Act on the recogniser's outcomes (heard on ``socket``); False when the stream ended."""
        from ivr.speech.pipeline import Ended, Heard, NotUnderstood, OperatorNow, StreamProblem

        for outcome in outcomes:
            if isinstance(outcome, Heard):
                self.background.submit(f"delivering speech to call {call_sid}", self.deliver, call_sid,
                                       outcome.text, outcome.confidence, outcome.loudness_dbfs, outcome.duration,
                                       True, outcome.prompt, socket)
            elif isinstance(outcome, NotUnderstood):
                log.info("call %s: speech not understood (%s)", call_sid, outcome.why)
                self.background.submit(f"delivering speech to call {call_sid}", self.deliver, call_sid,
                                       outcome.heard, outcome.confidence, outcome.loudness_dbfs, outcome.duration,
                                       False, outcome.prompt, socket)
            elif isinstance(outcome, OperatorNow):  # the operator phrase itself: a request, at once
                self.background.submit(f"delivering speech to call {call_sid}", self.deliver, call_sid,
                                       outcome.text, 1.0, None, None, True, outcome.prompt, socket)
            elif isinstance(outcome, StreamProblem):
                log.info("call %s: media stream: %s", call_sid, outcome.reason)
            elif isinstance(outcome, Ended):
                return False
        return True

    def _admit(self, start: dict[str, Any], source: str = "?") -> tuple[str, int]:
        """The call and stream number a start message names, if it carries the call's secret."""
        params = start.get("customParameters")
        params = params if isinstance(params, dict) else {}
        call_sid = str(params.get("call") or start.get("callSid") or "")[:64]
        live = LiveCall.load(self.store, call_sid)
        secret = live.stream_secret if live is not None else ""
        if not secret or not hmac.compare_digest(str(params.get("secret", "")).encode(), secret.encode()):
            log.warning("refused a media stream from %s for call %s: unknown call or wrong secret", source,
                        call_sid or "?")
            return "", 0
        gen = str(params.get("stream", ""))
        return call_sid, int(gen) if gen.isdigit() and len(gen) < 9 else 0

    def _prompt_of(self, call_sid: str) -> Any:
        """The prompt the call waits at, as the store says (its phrases, tagged with its seq)."""
        from ivr.speech.pipeline import Prompt

        live = LiveCall.load(self.store, call_sid)
        return Prompt(tuple(live.listen_phrases), None, live.seq) if live is not None else Prompt(())

    def deliver(self, call_sid: str, text: str, confidence: float, loudness: float | None,
                duration: float | None, understood: bool = True, prompt: int | None = None,
                socket: str = "") -> None:
        """Save what was said with the call, then redirect the call to apply it now.

        ``understood=False``: the caller spoke but said none of the prompt's answers; the
        step applies it as a misunderstanding (a no-match), never as silence. ``prompt``:
        the ``seq`` of the prompt the words were heard for; if the call has moved on
        since (a key pressed meanwhile, Twilio's own recogniser first), they are dropped.
        ``socket``: the socket that heard them; if another socket of the call has taken
        over since, they are dropped too (one socket feeds a call)."""
        live = LiveCall.load(self.store, call_sid)
        if live is None or not live.listening:
            return
        if socket and live.stream_socket and live.stream_socket != socket:
            log.info("call %s: speech heard on a media socket that no longer feeds the call; dropped", call_sid)
            return
        seq = live.seq
        if prompt is not None and prompt != seq:
            log.info("call %s: speech heard at prompt %d came after the call moved on to prompt %d; dropped",
                     call_sid, prompt, seq)
            return
        LiveCall.mark(self.store, call_sid, pending_speech=HeardSpeech(text, confidence, loudness, duration, seq,
                                                                       rejected=not understood))
        url = twiml.Urls(self.settings.public_url).to("/twilio/step", node=live.session.node, seq=seq, speech=1)
        if self.rest is None:
            log.warning("call %s: heard the caller but cannot redirect the call (TWILIO_ACCOUNT_SID not set); the "
                        "prompt's timeout applies it", call_sid)
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
