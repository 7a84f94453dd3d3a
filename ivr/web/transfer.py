"""Warm transfer: the caller waits in a conference while agents are dialled one by one.

When the engine asks for a person (a ``Transfer`` action) and the REST API is configured,
the caller joins a conference named for the call (hold audio, a periodic reassurance)
and the agent leg is created through the twilio SDK (``calls.create``) with a whisper:
the spoken summary, then "press 1 to take the call, 2 to pass". On 1 the agent joins the
conference; on 2, no answer, busy or failure the engine is told (``TransferResult``) and
the next target is dialled; when every target failed the caller is redirected out of the
conference to the flow's fallback (voicemail, a queue). REST errors are retried with
backoff (``ivr.telephony.rest``); when they persist the attempt counts as failed, so the
caller always moves on. A caller who hangs up on hold cancels the agent leg.

URLs: POST /twilio/hold (the conference's waitUrl), /twilio/agent-status (the agent leg's
status callback), /twilio/conference-left (the caller's Dial action), /twilio/resume
(where a caller is redirected to continue).
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request

from ivr import twiml
from ivr.model.actions import Transfer
from ivr.model.events import TransferResult
from ivr.model.targets import target_kind
from ivr.settings import Settings
from ivr.telephony.crm import CrmNotifier
from ivr.telephony.rest import CallGone, RestUnavailable, TwilioRest

from .hooks import _now, respond, twilio_webhook, xml
from .line import Applied, Line

log = logging.getLogger(__name__)
bp = Blueprint("transfer", __name__)
AGENT_FAILED = ("busy", "no-answer", "failed", "canceled")


class WarmTransfer:
    def __init__(self, line: Line, rest: TwilioRest, settings: Settings, crm: CrmNotifier | None = None):
        self.line, self.rest, self.settings = line, rest, settings
        self.crm = crm or CrmNotifier()

    def carry_out(self, applied: Applied, urls: twiml.Urls) -> Applied:
        """Dial the agent leg a ``Transfer`` asks for; if that cannot be done, tell the
        engine the attempt failed and go on with what it says next."""
        said: list = []
        for _ in range(20):
            last = applied.actions[-1] if applied.actions else None
            if not isinstance(last, Transfer) or target_kind(last.target) in ("queue", "flex") or applied.stale:
                break
            if last.attempt == 1:
                self._notify_crm(applied, last)
            try:
                leg = self._dial_agent(applied, last, urls)
            except (RestUnavailable, CallGone) as exc:
                log.warning("call %s: cannot dial %s (%s); trying the next way to a person",
                            applied.session.call_sid, last.target, exc)
                said.extend(applied.actions[:-1])
                nxt = self.line.apply(applied.session.call_sid, TransferResult(_now(), "failed", last.target))
                if nxt is None:
                    break
                applied = nxt
                continue
            self.line.mark(applied.session.call_sid, agent_leg=leg, agent_attempt=last.attempt)
            break
        applied.actions = said + list(applied.actions)
        return applied

    def _dial_agent(self, applied: Applied, action: Transfer, urls: twiml.Urls) -> str:
        call_sid = applied.session.call_sid
        to = action.target
        if target_kind(to) == "sip":
            to = twiml.sip_with_headers(to, dict(action.context))
        caller_id = applied.session.to or self.settings.fallback_number
        whisper = urls.to("/twilio/whisper", call=call_sid, attempt=action.attempt) if action.whisper else \
            urls.to("/twilio/whisper/answer", call=call_sid, attempt=action.attempt, accept=1)
        status = urls.to("/twilio/agent-status", call=call_sid, attempt=action.attempt)
        created = self.rest._retry(f"agent leg to {action.target}", lambda: self.rest.client.calls.create(
            to=to, from_=caller_id, url=whisper, method="POST", status_callback=status,
            status_callback_method="POST", timeout=action.timeout))
        return getattr(created, "sid", "") or ""

    def _notify_crm(self, applied: Applied, action: Transfer) -> None:
        flow = applied.flow
        if flow.crm_url and flow.crm_secret:
            self.crm.notify(flow.crm_url, flow.crm_secret, dict(action.context))

    def move_caller_on(self, applied: Applied, urls: twiml.Urls) -> None:
        """Take the caller out of the conference to whatever the call does next."""
        try:
            self.rest.redirect(applied.session.call_sid, urls.to("/twilio/resume", seq=applied.seq))
        except CallGone:
            log.info("call %s ended before it could be moved on", applied.session.call_sid)
        except RestUnavailable as exc:
            log.error("call %s: could not move the caller out of the hold conference: %s",
                      applied.session.call_sid, exc)

    def end_agent_leg(self, data: dict[str, Any]) -> None:
        """Stop the agent leg of this call (the caller hung up on hold, or the agent passed
        on the console): cancel it while it rings, end it if it was answered."""
        leg = data.get("agent_leg")
        if not leg:
            return
        for status in ("canceled", "completed"):
            try:
                self.rest._retry(f"ending agent leg {leg}", lambda: self.rest.client.calls(leg).update(status=status))
                return
            except CallGone:
                return
            except RestUnavailable as exc:
                log.info("agent leg %s: %s", leg, exc)


def _rings_an_agent(applied: Applied) -> bool:
    last = applied.actions[-1] if applied.actions else None
    return isinstance(last, Transfer) and target_kind(last.target) not in ("queue", "flex")


def _line() -> Line:
    return current_app.extensions["ivr.line"]


def _warm() -> WarmTransfer:
    return current_app.extensions["ivr.warm"]


def _urls() -> twiml.Urls:
    return current_app.extensions["ivr.urls"]()


@bp.post("/twilio/hold")
@twilio_webhook
def hold():
    music = current_app.extensions["ivr.settings"].audio_dir / "hold.wav"
    return xml(twiml.hold(_urls().audio("hold.wav") if music.is_file() else None))


@bp.post("/twilio/agent-status")
@twilio_webhook
def agent_status():
    call = request.args.get("call", "")
    attempt = request.args.get("attempt", "")
    status = request.form.get("CallStatus", "")
    if current_app.extensions.get("ivr.warm") is None:
        return Response(status=204)  # no agent legs are made without the REST API
    line = _warm().line
    loaded = line.load(call)
    if loaded is None or loaded[0].phase != "transfer" or str(loaded[0].transfer_attempt) != attempt:
        return Response(status=204)  # an old leg, or the agent already took the call
    if status == "completed":
        status = "declined"  # the agent's leg ended without taking the call
    elif status not in AGENT_FAILED:
        return Response(status=204)
    applied = line.apply(call, TransferResult(_now(), status, request.form.get("To", "")))
    if applied is None:
        return Response(status=204)
    applied = _warm().carry_out(applied, _urls())
    if not _rings_an_agent(applied):  # the caller must leave the hold conference: a queue, a fallback
        _warm().move_caller_on(applied, _urls())
    return Response(status=204)


@bp.post("/twilio/conference-left")
@twilio_webhook
def conference_left():
    sid = request.form.get("CallSid", "")
    line = _line()
    loaded = line.load(sid)
    if loaded is None:
        return xml(twiml.simple("Thank you for calling. Goodbye.", hangup=True))
    session, _ = loaded
    if session.phase == "connected":
        applied = line.apply(sid, TransferResult(_now(), "completed"))
        return respond(applied) if applied else xml(twiml.empty())
    return resume()


@bp.post("/twilio/resume")
@twilio_webhook
def resume():
    applied = _line().replay(request.form.get("CallSid", ""), _now())
    if applied is None:
        return xml(current_app.extensions["ivr.emergency"]())
    return respond(applied)


def init_app(app: Flask, settings: Settings, line: Line) -> WarmTransfer | None:
    """Warm transfer needs the REST API (TWILIO_ACCOUNT_SID); without it transfers are a
    plain ``<Dial>`` with a whisper on each target."""
    app.register_blueprint(bp)
    if not settings.twilio_account_sid:
        log.info("TWILIO_ACCOUNT_SID is not set: transfers use <Dial> with a whisper (no hold conference)")
        return None
    warm = WarmTransfer(line, TwilioRest(settings.twilio_account_sid, settings.twilio_auth_token,
                                         settings.twilio_timeout), settings)
    app.extensions["ivr.warm"] = warm
    return warm
