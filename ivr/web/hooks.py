"""Twilio's webhooks. Each handler: verify, translate the form to an event, step and save
(``Line``), render (``respond``: pure), then hand any REST work to the background.

URLs (absolute, on the public base URL, where Twilio needs them):
  POST /twilio/voice             incoming call (point the number's "A call comes in" here)
  POST /twilio/status            call status callbacks (the number's status callback URL)
  POST /twilio/step              answers to a prompt (Gather action; speech redirects)
  POST /twilio/dial              how a transfer attempt ended (Dial / Enqueue action)
  POST /twilio/whisper           the agent leg: the spoken summary, accept (1) or pass (2)
  POST /twilio/whisper/answer    the agent's key
  POST /twilio/queue-wait        what a caller waiting in a queue hears
  POST /twilio/recording         a voicemail was recorded (Record action)
  POST /twilio/recording-status  recording status callback
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from functools import wraps
from typing import Any, ParamSpec

from flask import Blueprint, Response, request

from ivr import twiml
from ivr.flows.nodes.transfer import TransferNode, whisper_language
from ivr.flows.nodes.transfer import whisper as whisper_of
from ivr.model.context import MASK, build_context, whisper_text
from ivr.model.events import CallEnded, CallStarted, DigitsPressed, NoInput, RecordingDone, SpeechHeard, TransferResult
from ivr.model.flow import Flow
from ivr.store import Stored

from .line import Applied, Line
from .live import LiveCall
from .presence import desk, stale_offer
from .services import services

__all__ = ["bp", "respond", "twilio_webhook", "voice_of", "agent_voice", "agents_voice", "agent_says", "xml"]

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__)
P = ParamSpec("P")
CALLER_INPUT = ("Digits", "SpeechResult", "UnstableSpeechResult")  # may answer a secret prompt: never logged
ENDED_STATUSES = ("completed", "busy", "failed", "no-answer", "canceled")


def _line() -> Line:
    return services().line


def _now() -> datetime:
    """The moment of this request: ``services().clock`` (tests set it)."""
    return services().now()


def xml(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/xml")


def twilio_webhook(view: Callable[P, Response]) -> Callable[P, Response]:
    """Signature check first; then never a 5xx for Twilio to read out to a caller."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
        if not services().signatures.check(request):
            return Response("invalid signature\n", status=403, mimetype="text/plain")
        sid = request.form.get("CallSid", "")
        if log.isEnabledFor(logging.DEBUG):  # the request as Twilio sent it, without what the caller keyed or said
            log.debug("call %s: %s %s", sid or "?", request.full_path,
                      {k: (MASK if k in CALLER_INPUT and v else v) for k, v in request.form.items()})
        try:
            return view(*args, **kwargs)
        except Exception:
            log.exception("call %s: webhook %s failed; sending the caller to a person", sid or "?", request.path)
            return xml(services().emergency())

    return wrapper


def respond(applied: Applied) -> Response:
    """The caller's answer, rendered from what was decided (rendering does no I/O); then
    the REST work the answer needs (dialling an agent leg while the caller holds) is
    handed to the background, so the caller never waits on Twilio's API."""
    parts = services()
    urls = parts.urls()
    speech = parts.speech.speech_for(applied, urls.base)
    transcribe = urls.to("/twilio/transcription") if parts.settings.voicemail_transcripts == "twilio" else ""
    body = twiml.render(applied.actions, urls, applied.session.call_sid, applied.seq, speech,
                        warm=parts.warm is not None, transcribe_url=transcribe)
    if parts.warm is not None:
        parts.warm.ring(applied, urls, parts.now)
    return xml(body)


@bp.post("/twilio/voice")
@twilio_webhook
def voice() -> Response:
    form = request.form
    sid = form.get("CallSid", "").strip()
    if not sid:
        log.warning("incoming call without CallSid from %s", request.remote_addr)
        return xml(services().emergency())
    event = CallStarted(_now(), sid, form.get("From", ""), form.get("To", ""), form.get("CallerName", ""),
                        _caller_memory(form.get("From", ""), form.get("To", "")))
    applied = _line().start(event)
    return respond(applied) if applied else _unknown_call(sid)


def _caller_memory(caller: str, dialled: str) -> dict[str, Any] | None:
    """The caller's profile when the dialled flow remembers callers (read before the
    engine's first step, outside any store update, under the keeper's short deadline);
    None: this call has no memory (withheld number, no key, records slow or down)."""
    keeper = services().keeper
    try:
        remembers = _line().library.for_number(dialled).memory is not None
    except Exception:  # no flow for the number: the line's own answer follows
        return None
    return keeper.profile(caller, _now()) if keeper is not None and remembers else None


@bp.post("/twilio/step")
@twilio_webhook
def step() -> Response:
    form = request.form
    sid = form.get("CallSid", "")
    digits = form.get("Digits", "")
    speech = form.get("SpeechResult", "")
    if digits:
        event: DigitsPressed | SpeechHeard | NoInput = DigitsPressed(_now(), digits)
    elif speech.strip():
        try:
            confidence = min(max(float(form.get("Confidence", "") or 1.0), 0.0), 1.0)
        except ValueError:
            confidence = 1.0
        loudness = _float(form.get("LoudnessDbfs", ""))
        event = SpeechHeard(_now(), speech, confidence, loudness, _float(form.get("SpeechDuration", "")))
    else:
        event = _pending_speech(sid) or NoInput(_now())
    applied = _line().apply(sid, event, seq=_seq())
    if applied is None:
        return _unknown_call(sid)
    return respond(applied)


@bp.post("/twilio/dial")
@twilio_webhook
def dial() -> Response:
    form = request.form
    sid = form.get("CallSid", "")
    live = LiveCall.load(_line().store, sid)
    if live is None:
        return _unknown_call(sid)
    status = "unavailable" if request.args.get("unavailable") else \
        _dial_outcome(live, form.get("DialCallStatus") or _queue_status(form.get("QueueResult", "")),
                      request.args.get("attempt"), form.get("DialBridged", ""))
    if status == "hangup" or (live.phase == "connected" and caller_gone(form.get("CallStatus", ""))):
        _line().apply(sid, CallEnded(_now(), "completed"))  # the caller hung up (on the agent: no survey)
        return xml(twiml.empty())
    applied = _line().apply(sid, TransferResult(_now(), status or "failed", form.get("DialCallSid", "")))
    return respond(applied) if applied else _unknown_call(sid)


def _dial_outcome(live: LiveCall, status: str, attempt: str | None, bridged: str) -> str:
    """How a plain ``<Dial>`` attempt ended, in the engine's words.

    Twilio reports ``completed`` both for a conversation that took place and for an agent
    leg that answered and then hung up at the whisper (TWILIO.md section 6: "the bridge
    happens when the document ends, and <Hangup> rejects the call"). So: a call already
    taken (the agent pressed 1) ends (``completed`` while connected); a pass at the
    console is a pass; otherwise a leg that was bridged (``DialBridged=true``, or a
    completed Dial with no whisper to reject it) was answered and has ended
    (``completed`` while the call is still in the transfer phase: the engine records it
    as answered); a completed leg that was never bridged is a pass."""
    if live.phase == "connected":
        return "completed"
    if live.was_declined(attempt):
        return "declined"
    if status in ("completed", "answered"):
        return "completed" if bridged == "true" or (bridged == "" and not _whispered(live)) else "declined"
    return status


def _whispered(live: LiveCall) -> bool:
    node = _line().library.pinned(live.session.flow, live.session.flow_version).nodes.get(live.session.node)
    return bool(getattr(node, "whisper", False))


def _queue_status(result: str) -> str:
    return {"bridged": "completed", "hangup": "hangup", "queue-full": "busy", "redirected": "failed",
            "error": "failed", "system-error": "failed", "leave": "failed"}.get(result, "")


@bp.post("/twilio/whisper")
@twilio_webhook
def whisper() -> Response:
    """The agent's phone picked up: the whisper, unless the attempt was decided already
    (taken on the console: straight in; passed, or the call moved on: goodbye)."""
    call = request.args.get("call", "")
    attempt = request.args.get("attempt", "")
    if stale_offer(call, request.args.get("offer", ""), request.form.get("CallSid", "")):
        return xml(agent_says(call, "agent_call_gone"))  # an agent pool's earlier offer: the call moved on
    live = _agent_leg_answered(call, attempt)
    if live is not None and live.taken_on(attempt):  # already taken on the agent console: bridge at once
        return xml(_agent_joins(call, attempt))
    if live is not None and live.was_declined(attempt):  # passed on the console
        return xml(agent_says(call, "agent_passed"))
    if live is None or not live.is_attempt_live(attempt):
        return xml(agent_says(call, "agent_call_gone"))
    flow = _line().library.pinned(live.session.flow, live.session.flow_version)
    answer = services().urls().to("/twilio/whisper/answer", call=call, attempt=attempt,
                                  offer=request.args.get("offer") or None)
    node = flow.nodes.get(live.session.node)
    if isinstance(node, TransferNode):
        said, _ = whisper_of(node, flow, live.session)
    else:  # not at a transfer (a flow of an older shape): the flow's own language
        said = whisper_text(build_context(flow, live.session), flow.words())
    return xml(twiml.whisper(said, answer, agent_voice(flow, live)))


def _agent_leg_answered(call: str, attempt: str) -> LiveCall | None:
    """Remember that the agent's phone of ``attempt`` picked up (so stopping it means
    ending it, not cancelling it: TWILIO.md section 5, "canceled affects only queued or
    ringing calls"); the call as it is now."""
    def change(current: Stored | None) -> dict[str, Any] | None:
        live = LiveCall.of(current)
        if live is None or live.agent_answered or str(live.agent_attempt) != attempt:
            return None
        return replace(live, agent_answered=True).to_stored()

    return LiveCall.of(_line().store.update(call, change)) if call else None


def _voice(flow: Flow, live: LiveCall) -> twiml.Voice:
    """The caller's language: the flow's voice and the line's words in that language."""
    language = live.session.language or flow.language
    return twiml.Voice(flow.voice, language, flow.words(language))


def agent_voice(flow: Flow, live: LiveCall) -> twiml.Voice:
    """What the agents of the call's transfer hear: the whisper's language (the transfer's
    ``whisper_language``), in the flow's voice when that speaks it, else Twilio's voice
    for the language."""
    node = flow.nodes.get(live.session.node)
    language = flow.language
    if isinstance(node, TransferNode):
        language = whisper_language(node, flow, max(live.session.transfer_attempt - 1, 0))
    return agents_voice(flow, language)


def agents_voice(flow: Flow, language: str = "") -> twiml.Voice:
    """The voice agents of ``flow`` hear in ``language`` (default: the language of the
    agents its operator target reaches, else the flow's): the flow's voice when it speaks
    that language, else Twilio's voice for the language; the line's words in it."""
    if not language:
        node = flow.nodes.get(flow.operator.to)
        language = whisper_language(node, flow, 0) if isinstance(node, TransferNode) else flow.language
    same = language.split("-")[0].lower() == flow.language.split("-")[0].lower()
    if same:
        return twiml.Voice(flow.voice, flow.language, flow.words(language))
    spoken = language if "-" in language else SAY_LANGUAGES.get(language.lower(), language)
    return twiml.Voice("", spoken, flow.words(language))


SAY_LANGUAGES = {"en": "en-US", "ko": "ko-KR", "es": "es-US"}  # <Say language=...> for an agent pool's bare language code


def agent_says(call_sid: str, key: str) -> str:
    """One line of the line's messages said to an agent of ``call_sid``, then goodbye."""
    live = LiveCall.load(_line().store, call_sid) if call_sid else None
    voice = twiml.Voice()
    if live is not None:
        voice = agent_voice(_line().library.pinned(live.session.flow, live.session.flow_version), live)
    return twiml.simple(voice.text(key), hangup=True, voice=voice)


def _agent_joins(call: str, attempt: str) -> str:
    """The agent's leg, once the agent took the call: into the caller's hold conference
    (warm transfer), or bridged straight to the caller (a plain ``<Dial>``)."""
    def change(current: Stored | None) -> dict[str, Any] | None:
        live = LiveCall.of(current)
        if live is None or live.agent_joined or not live.taken_on(attempt):
            return None
        return replace(live, agent_joined=True).to_stored()

    live = LiveCall.of(_line().store.update(call, change))
    voice = twiml.Voice()
    if live is not None:
        voice = agent_voice(_line().library.pinned(live.session.flow, live.session.flow_version), live)
    if services().warm is not None:
        return twiml.agent_joins(call, voice)
    return twiml.simple(voice.text("agent_connecting"), voice=voice)


@bp.post("/twilio/whisper/answer")
@twilio_webhook
def whisper_answer() -> Response:
    """The agent's key at the whisper: 1 takes the call, 2 passes, anything else asks
    again (a stray key never passes a caller on)."""
    call = request.args.get("call", "")
    attempt = request.args.get("attempt", "")
    digits = request.form.get("Digits", "")
    if stale_offer(call, request.args.get("offer", ""), request.form.get("CallSid", "")):
        return xml(agent_says(call, "agent_call_gone"))
    if request.args.get("accept") == "1":
        _agent_leg_answered(call, attempt)  # a transfer without a whisper: the pick-up is the yes
        accept = True
    elif digits in ("1", "2"):
        accept = digits == "1"
    else:
        answer = services().urls().to("/twilio/whisper/answer", call=call, attempt=attempt,
                                      offer=request.args.get("offer") or None)
        live = LiveCall.load(_line().store, call)
        voice = twiml.Voice()
        if live is not None:
            voice = agent_voice(_line().library.pinned(live.session.flow, live.session.flow_version), live)
        return xml(twiml.whisper("", answer, voice))
    result = _line().agent_answer(call, attempt, accept, _now(), by=request.form.get("To", ""))
    if result == "accepted":
        desk().took(request.form.get("To", ""), call)  # busy while on the call
        return xml(_agent_joins(call, attempt))
    if result == "declined":
        return xml(agent_says(call, "agent_passing"))
    return xml(agent_says(call, "agent_call_gone"))


@bp.post("/twilio/queue-wait")
@twilio_webhook
def queue_wait() -> Response:
    return xml(twiml.queue_wait(request.form.get("QueuePosition", ""), voice_of(request.args.get("call", ""))))


def voice_of(call_sid: str) -> twiml.Voice:
    """The voice of the call's flow, for what the line says to it (hold, queue, goodbye)."""
    live = LiveCall.load(_line().store, call_sid)
    if live is None:
        return twiml.Voice()
    return _voice(_line().library.pinned(live.session.flow, live.session.flow_version), live)


@bp.post("/twilio/recording")
@twilio_webhook
def recording() -> Response:
    form = request.form
    sid = form.get("CallSid", "")
    url = "" if request.args.get("empty") else form.get("RecordingUrl", "")
    applied = _line().apply(sid, RecordingDone(_now(), url, _float(form.get("RecordingDuration", "")) or 0.0),
                            seq=_seq())
    return respond(applied) if applied else _unknown_call(sid)


@bp.post("/twilio/recording-status")
@twilio_webhook
def recording_status() -> Response:
    form = request.form
    sid = form.get("CallSid", "")
    if sid:
        _line().store.append_event(sid, {"type": "RecordingStatus", "status": form.get("RecordingStatus", ""),
                                         "url": form.get("RecordingUrl", ""),
                                         "duration": form.get("RecordingDuration", "")})
    return Response(status=204)


@bp.post("/twilio/status")
@twilio_webhook
def status() -> Response:
    form = request.form
    sid = form.get("CallSid", "")
    call_status = form.get("CallStatus", "")
    live = LiveCall.load(_line().store, sid) if call_status in ENDED_STATUSES else None
    if live is not None and not live.ended_status:  # else a repeated callback: already done
        warm = services().warm
        if warm is not None and live.phase == "transfer":
            warm.stop_ringing(live)  # hung up on hold: stop ringing the agent
        elif warm is not None and live.phase == "connected" and live.agent_leg:
            warm.stop_ringing(live)  # hung up on the agent: the agent's leg would stay alone in the conference
        applied = _line().apply(sid, CallEnded(_now(), call_status), ended_status=call_status)
        if applied is not None:
            _line().store.finish(sid, applied.session.outcome or call_status)
        if live.session.transfers or live.phase in ("transfer", "connected"):
            desk().call_over(sid)  # the agents busy with this call are free again
    return Response(status=204)


def caller_gone(call_status: str) -> bool:
    """A request about a caller's leg that has ended (Twilio still asks a ``<Dial>``'s
    action after the caller hung up; nothing it answers is played)."""
    return call_status in ENDED_STATUSES


def _seq() -> int | None:
    value = request.args.get("seq", "")
    return int(value) if value.isdigit() else None


def _pending_speech(sid: str) -> SpeechHeard | None:
    """What our own recogniser heard for this prompt (saved by the media socket)."""
    live = LiveCall.load(_line().store, sid)
    pending = live.pending_speech if live is not None else None
    if pending is None or pending.seq != _seq() or not (pending.text.strip() or pending.rejected):
        return None
    return SpeechHeard(_now(), pending.text, pending.confidence, pending.loudness_dbfs, pending.duration,
                       understood=not pending.rejected)


def _unknown_call(sid: str) -> Response:
    log.warning("call %s: a webhook for a call this line does not know", sid or "?")
    return xml(services().emergency())


def _float(text: str) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None
