"""The console's worklists, under ``/console/work``: voicemails (play, transcript, mark
done) and callback promises (due time, overdue ones first and marked, call back with one
click, outcome, mark done); and the Twilio webhooks of a call back and of a transcript.

Pages (on the console's blueprint: signed-in agents only, CSRF on every POST):
  GET  /console/work/voicemails[?show=done]     the voicemail list
  GET  /console/work/voicemails/<id>/audio      the recording, fetched from Twilio by the server
  GET  /console/work/callbacks[?show=done]      the callback list
  POST /console/work/items/<id>/done            mark an item done (who and when are kept)
  POST /console/work/callbacks/<id>/call        call the caller back: ring me, then them

Twilio webhooks (signed like every other):
  POST /twilio/callback/agent?item=ID    the agent answered: who is called back, then <Dial> the caller
  POST /twilio/callback/intro?item=ID    what the caller hears on answering, before the agent is joined
  POST /twilio/callback/dialed?item=ID   how the caller's leg went (DialCallStatus): the outcome
  POST /twilio/callback/status?item=ID   the agent's leg ended (never answered: agent-missed)
  POST /twilio/transcription             Twilio's transcript of a voicemail (transcribeCallback)

Every signed-in agent sees the worklists (the agents file has no roles): a voicemail or a
callback is work for whoever is free. The caller's number is on these pages and nowhere
else: not in the log, not in the notification. The worklists are read and written
through ``ivr.records.native`` (off a gevent worker's loop).
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, flash, g, redirect, render_template, request, url_for

from ivr import twiml
from ivr.records import native
from ivr.records.worklists import WorkItem, Worklists, outcome_of_dial

from .console import bp
from .hooks import agents_voice, twilio_webhook, xml
from .services import Background, services
from .worklists import CallBackRefused, RecordingUnavailable, WorklistDesk, dialable_target

__all__ = ["init_app", "desk", "hooks_bp"]

log = logging.getLogger(__name__)
hooks_bp = Blueprint("worklist_hooks", __name__)
EXTENSION = "ivr-worklists"
FINAL = ("completed", "busy", "failed", "no-answer", "canceled")


def init_app(app: Flask) -> None:
    """The desk of this line (None when the call records are off) and the Twilio webhooks."""
    parts = services(app)
    found: WorklistDesk | None = None
    if parts.keeper is not None:
        pool = Background(workers=2, name="ivr-worklists")  # never in the way of the line's REST work
        found = WorklistDesk(Worklists(parts.keeper.records.engine), parts.settings, pool,
                             parts.warm.rest if parts.warm is not None else _rest(parts.settings),
                             models=parts.speech.models)
        parts.keeper.worklists = found  # each finished call's voicemail and callback are filed
        if parts.settings.voicemail_transcripts == "local" and not parts.speech.models:
            log.warning("IVR_VOICEMAIL_TRANSCRIPTS=local, but no Vosk model is loaded (IVR_STREAM_SPEECH off, or no "
                        "model for the flows' languages): voicemails get no transcript")
    app.extensions[EXTENSION] = found
    app.register_blueprint(hooks_bp)


def _rest(settings: Any) -> Any:
    from ivr.telephony.rest import TwilioRest

    return TwilioRest(settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_timeout) \
        if settings.twilio_account_sid else None


def desk() -> WorklistDesk | None:
    return current_app.extensions.get(EXTENSION)


def _desk_or_503() -> WorklistDesk:
    found = desk()
    if found is None:
        abort(503, "The worklists live in the call records, which are off on this server (see the log).")
    return found


# ------------------------------------------------------------------ pages

@bp.get("/work/voicemails")
def voicemails():
    work = _desk_or_503()
    show = "done" if request.args.get("show") == "done" else "open"
    items = native.run(work.worklists.items, "voicemail", show)
    return render_template("console/voicemails.html", items=items, show=show,
                           counts=native.run(work.worklists.counts, services().now()))


@bp.get("/work/voicemails/<int:item_id>/audio")
def voicemail_audio(item_id: int):
    work = _desk_or_503()
    item = native.run(work.worklists.get, item_id)
    if item is None or item.kind != "voicemail" or not item.recording_url:
        abort(404, "No such voicemail.")
    try:
        audio, mimetype = work.recording(item)
    except RecordingUnavailable as exc:
        log.warning("voicemail %s could not be played: %s", item_id, exc)
        abort(404, f"The recording cannot be played here: {exc}.")
    response = Response(audio, mimetype=mimetype)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/work/callbacks")
def callbacks():
    work = _desk_or_503()
    show = "done" if request.args.get("show") == "done" else "open"
    now = services().now()
    items = native.run(work.worklists.items, "callback", show)
    if show == "open":  # overdue first (longest overdue at the top), then by due time
        items.sort(key=lambda i: (not i.overdue(now), i.due_at or i.created_at))
    agent = g.get("agent")
    return render_template("console/callbacks.html", items=items, show=show, now=now,
                           counts=native.run(work.worklists.counts, now),
                           ring_on=dialable_target(agent.targets) if agent else "",
                           can_call=work.rest is not None)


@bp.post("/work/items/<int:item_id>/done")
def item_done(item_id: int):
    work = _desk_or_503()
    item = native.run(work.worklists.get, item_id)
    if item is None:
        abort(404, "No such item.")
    if native.run(work.worklists.mark_done, item_id, g.agent.name, services().now()):
        flash(f"Marked done: the {item.kind} of {item.created_at:%d %b %H:%M}.")
    else:
        flash(f"That {item.kind} was done already.")
    return redirect(_list_of(item))


@bp.post("/work/callbacks/<int:item_id>/call")
def call_back(item_id: int):
    work = _desk_or_503()
    item = native.run(work.worklists.get, item_id)
    if item is None or item.kind != "callback":
        abort(404, "No such callback.")
    try:
        work.call_back(item, g.agent.name, g.agent.targets, services().urls(), services().now())
    except CallBackRefused as exc:
        flash(str(exc))
    else:
        flash(f"Calling you on {dialable_target(g.agent.targets)}: answer, and the caller is dialled.")
    return redirect(_list_of(item))


def _list_of(item: WorkItem) -> str:
    return url_for("console.voicemails" if item.kind == "voicemail" else "console.callbacks") + f"#item-{item.id}"


# ------------------------------------------------------------------ Twilio's side of a call back

def _item() -> WorkItem | None:
    work = desk()
    value = request.args.get("item", "")
    return native.run(work.worklists.get, int(value)) if work is not None and value.isdigit() else None


def _voice(item: WorkItem | None) -> twiml.Voice:
    flow = services().library.flows.get(item.flow) if item is not None else None
    return twiml.Voice(flow.voice, flow.language, flow.words()) if flow is not None else twiml.Voice()


def _agents(item: WorkItem | None) -> twiml.Voice:
    """What the agent who calls back hears: the language of the line's agents."""
    flow = services().library.flows.get(item.flow) if item is not None else None
    return agents_voice(flow) if flow is not None else twiml.Voice()


@hooks_bp.post("/twilio/callback/agent")
@twilio_webhook
def callback_agent() -> Response:
    item = _item()
    if item is None or not item.reachable:
        voice = _agents(item)
        return xml(twiml.simple(voice.text("call_back_gone"), hangup=True, voice=voice))
    urls = services().urls()
    voice = _agents(item)
    line = item.flow.replace("-", " ")
    intro = voice.text("call_back_agent_due", line=line, time=f"{item.due_at:%H:%M}") if item.due_at else \
        voice.text("call_back_agent", line=line)
    return xml(twiml.call_back_agent(intro, item.caller, item.line_number,
                                     urls.to("/twilio/callback/intro", item=item.id),
                                     urls.to("/twilio/callback/dialed", item=item.id), voice))


@hooks_bp.post("/twilio/callback/intro")
@twilio_webhook
def callback_intro() -> Response:
    voice = _voice(_item())
    return xml(twiml.simple(voice.text("call_back_intro"), voice=voice))


@hooks_bp.post("/twilio/callback/dialed")
@twilio_webhook
def callback_dialed() -> Response:
    work, sid = desk(), request.form.get("CallSid", "")
    outcome = outcome_of_dial(request.form.get("DialCallStatus", ""))
    if work is not None and sid:
        native.run(work.worklists.attempt_ended, sid, outcome)
    voice = _agents(_item())
    said = {"reached": "call_back_ended", "busy": "call_back_busy", "no-answer": "call_back_no_answer"}
    return xml(twiml.simple(voice.text(said.get(outcome, "call_back_failed")), hangup=True, voice=voice))


@hooks_bp.post("/twilio/callback/status")
@twilio_webhook
def callback_status() -> Response:
    work, sid, status = desk(), request.form.get("CallSid", ""), request.form.get("CallStatus", "")
    if work is not None and sid and status in FINAL:
        # the agent never answered: no caller was dialled. Answered and ended: the caller's
        # leg reported already (kept); if it never did, the call back did not get through.
        outcome = "failed" if status == "completed" else "agent-missed"
        native.run(work.worklists.attempt_ended, sid, outcome, only_if_calling=True)
    return Response(status=204)


@hooks_bp.post("/twilio/transcription")
@twilio_webhook
def transcription() -> Response:
    work, form = desk(), request.form
    sid, text = form.get("CallSid", ""), form.get("TranscriptionText", "")
    if work is not None and sid and form.get("TranscriptionStatus", "completed") == "completed" and text.strip():
        native.run(work.worklists.set_transcript, sid, text[:5000], "twilio", services().now())
    return Response(status=204)
