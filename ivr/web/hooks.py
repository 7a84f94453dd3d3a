"""Twilio's webhooks. Each handler: verify, translate the form to an event, step, render, save.

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
from functools import wraps

from flask import Blueprint, Response, current_app, request

from ivr import twiml
from ivr.model.context import build_context, summary
from ivr.model.events import (CallEnded, CallStarted, DigitsPressed, NoInput, RecordingDone, SpeechHeard,
                               TransferResult)
from ivr.model.session import Session

from .line import Applied, Line

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__)
ENDED_STATUSES = ("completed", "busy", "failed", "no-answer", "canceled")


def _line() -> Line:
    return current_app.extensions["ivr.line"]


def _now():
    """The moment of this request: ``app.extensions["ivr.clock"]`` (tests set it)."""
    return current_app.extensions["ivr.clock"]()


def xml(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/xml")


def twilio_webhook(view):
    """Signature check first; then never a 5xx for Twilio to read out to a caller."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        guard = current_app.extensions["ivr.signatures"]
        if not guard.check(request):
            return Response("invalid signature\n", status=403, mimetype="text/plain")
        sid = request.form.get("CallSid", "")
        if log.isEnabledFor(logging.DEBUG):  # the request as Twilio sent it; PINs and cards masked by ivr.logs
            log.debug("call %s: %s %s", sid or "?", request.full_path, request.form.to_dict())
        try:
            return view(*args, **kwargs)
        except Exception:
            log.exception("call %s: webhook %s failed; sending the caller to a person", sid or "?", request.path)
            return xml(current_app.extensions["ivr.emergency"]())

    return wrapper


def respond(applied: Applied) -> Response:
    urls = current_app.extensions["ivr.urls"]()
    warm = current_app.extensions.get("ivr.warm")
    if warm is not None:
        applied = warm.carry_out(applied, urls)  # dial the agent leg of a transfer (ivr.web.transfer)
    speech = current_app.extensions["ivr.speech_for"](applied)
    body = twiml.render(applied.actions, urls, applied.session.call_sid, applied.seq, speech, warm=warm is not None)
    return xml(body)


def _seq() -> int | None:
    value = request.args.get("seq", "")
    return int(value) if value.isdigit() else None


@bp.post("/twilio/voice")
@twilio_webhook
def voice():
    form = request.form
    sid = form.get("CallSid", "").strip()
    if not sid:
        log.warning("incoming call without CallSid from %s", request.remote_addr)
        return xml(current_app.extensions["ivr.emergency"]())
    event = CallStarted(_now(), sid, form.get("From", ""), form.get("To", ""), form.get("CallerName", ""))
    return respond(_line().start(event))


@bp.post("/twilio/step")
@twilio_webhook
def step():
    form = request.form
    sid = form.get("CallSid", "")
    digits = form.get("Digits", "")
    speech = form.get("SpeechResult", "")
    if digits:
        event = DigitsPressed(_now(), digits)
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
def dial():
    form = request.form
    sid = form.get("CallSid", "")
    loaded = _line().load(sid)
    if loaded is None:
        return _unknown_call(sid)
    session, data = loaded
    status = form.get("DialCallStatus") or _queue_status(form.get("QueueResult", ""))
    if session.phase == "connected":
        status = "completed"
    elif status in ("completed", "answered"):
        status = "declined"  # the agent's leg ended without taking the call (pressed 2 or timed out)
    elif str(data.get("declined_attempt")) == request.args.get("attempt"):
        status = "declined"
    if status == "hangup":
        applied = _line().apply(sid, CallEnded(_now(), "completed"))
        return xml(twiml.empty())
    applied = _line().apply(sid, TransferResult(_now(), status or "failed", form.get("DialCallSid", "")))
    return respond(applied) if applied else _unknown_call(sid)


def _queue_status(result: str) -> str:
    return {"bridged": "completed", "hangup": "hangup", "queue-full": "busy", "redirected": "failed",
            "error": "failed", "system-error": "failed", "leave": "failed"}.get(result, "")


@bp.post("/twilio/whisper")
@twilio_webhook
def whisper():
    call = request.args.get("call", "")
    attempt = request.args.get("attempt", "")
    loaded = _line().load(call)
    if loaded is not None and str(loaded[0].transfer_attempt) == attempt:
        session, data = loaded
        if session.phase == "connected":  # already taken on the agent console: bridge at once
            if current_app.extensions.get("ivr.warm") is not None:
                return xml(twiml.agent_joins(call))
            return xml(twiml.simple("Connecting you now."))
        if str(data.get("declined_attempt")) == attempt:  # passed on the console
            return xml(twiml.simple("You passed on this call.", hangup=True))
    if loaded is None or loaded[0].phase != "transfer" or str(loaded[0].transfer_attempt) != attempt:
        return xml(twiml.simple("This call is no longer waiting.", hangup=True))
    session, _ = loaded
    flow = _line().library.pinned(session.flow, session.flow_version)
    text = summary(build_context(flow, session))
    answer = current_app.extensions["ivr.urls"]().to("/twilio/whisper/answer", call=call,
                                                      attempt=request.args.get("attempt", ""))
    return xml(twiml.whisper(text, answer))


@bp.post("/twilio/whisper/answer")
@twilio_webhook
def whisper_answer():
    call = request.args.get("call", "")
    attempt = request.args.get("attempt", "")
    accept = request.form.get("Digits", "") == "1" or request.args.get("accept") == "1"
    result = _line().agent_answer(call, attempt, accept, _now(), by=request.form.get("To", ""))
    if result == "accepted":
        if current_app.extensions.get("ivr.warm") is not None:
            return xml(twiml.agent_joins(call))  # into the caller's hold conference
        return xml(twiml.simple("Connecting you now."))
    if result == "declined":
        return xml(twiml.simple("Passing the call on.", hangup=True))
    return xml(twiml.simple("This call is no longer waiting.", hangup=True))


@bp.post("/twilio/queue-wait")
@twilio_webhook
def queue_wait():
    return xml(twiml.queue_wait(request.form.get("QueuePosition", "")))


@bp.post("/twilio/recording")
@twilio_webhook
def recording():
    form = request.form
    sid = form.get("CallSid", "")
    url = "" if request.args.get("empty") else form.get("RecordingUrl", "")
    applied = _line().apply(sid, RecordingDone(_now(), url, _float(form.get("RecordingDuration", "")) or 0.0),
                            seq=_seq())
    return respond(applied) if applied else _unknown_call(sid)


@bp.post("/twilio/recording-status")
@twilio_webhook
def recording_status():
    form = request.form
    sid = form.get("CallSid", "")
    if sid:
        _line().store.append_event(sid, {"type": "RecordingStatus", "status": form.get("RecordingStatus", ""),
                                         "url": form.get("RecordingUrl", ""),
                                         "duration": form.get("RecordingDuration", "")})
    return Response(status=204)


@bp.post("/twilio/status")
@twilio_webhook
def status():
    form = request.form
    sid = form.get("CallSid", "")
    call_status = form.get("CallStatus", "")
    loaded = _line().load(sid) if sid and call_status in ENDED_STATUSES else None
    if loaded is not None and not loaded[1].get("ended_status"):  # a repeated callback: already done
        warm = current_app.extensions.get("ivr.warm")
        if warm is not None and loaded[0].phase == "transfer":
            warm.end_agent_leg(loaded[1])  # hung up on hold: stop ringing the agent
        applied = _line().apply(sid, CallEnded(_now(), call_status), extra={"ended_status": call_status})
        if applied is not None:
            _line().store.finish(sid, applied.session.outcome or call_status)
    return Response(status=204)


def _pending_speech(sid: str) -> SpeechHeard | None:
    """What our own recogniser heard for this prompt (saved by the media socket)."""
    loaded = _line().load(sid)
    pending = loaded[1].get("pending_speech") if loaded else None
    if not pending or pending.get("seq") != _seq() or not str(pending.get("text", "")).strip():
        return None
    return SpeechHeard(_now(), str(pending["text"]), float(pending.get("confidence") or 1.0),
                       pending.get("loudness_dbfs"), pending.get("duration"))


def _unknown_call(sid: str) -> Response:
    log.warning("call %s: a webhook for a call this line does not know", sid or "?")
    return xml(current_app.extensions["ivr.emergency"]())


def _float(text: str) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


__all__ = ["bp", "Session"]
