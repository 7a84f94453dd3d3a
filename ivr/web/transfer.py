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

Rules of this file: a webhook never waits on the REST API. It decides (engine and
store), answers the caller at once (the hold conference), and hands the REST work (the
agent leg, the CRM notice, a cancel, the redirect out of the conference) to the line's
``Background`` worker, which applies what became of it to the call like any other event:
a leg that cannot be made is a failed attempt, the next target is rung or the caller is
redirected to what the flow does next. A job acts only while the attempt it belongs to is
still the one the caller waits on (``LiveCall.is_attempt_live``).

URLs: POST /twilio/hold (the conference's waitUrl), /twilio/agent-status (the agent leg's
status callback), /twilio/conference-left (the caller's Dial action), /twilio/resume
(where a caller is redirected to continue; ``rescue=1``: to an apology and a person).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, Response, request

from ivr import twiml
from ivr.model.actions import Transfer
from ivr.model.events import TransferResult
from ivr.model.targets import target_kind
from ivr.settings import Settings
from ivr.store import Stored
from ivr.telephony.crm import CrmNotifier
from ivr.telephony.rest import CallGone, RestUnavailable, TwilioRest

from .hooks import respond, twilio_webhook, xml
from .line import Applied, Line
from .live import LiveCall
from .services import Background, services

__all__ = ["WarmTransfer", "bp", "init_app", "warm_transfer"]

log = logging.getLogger(__name__)
bp = Blueprint("transfer", __name__)
AGENT_FAILED = ("busy", "no-answer", "failed", "canceled")
MAX_FAILED_LEGS = 20  # attempts one job may fail through before it gives the call up to its fallback
Clock = Callable[[], datetime]


class WarmTransfer:
    """The REST side of warm transfers: agent legs rung and stopped, the caller moved on."""

    def __init__(self, line: Line, rest: TwilioRest, settings: Settings, background: Background,
                 crm: CrmNotifier | None = None):
        self.line, self.rest, self.settings, self.background = line, rest, settings, background
        self.crm = crm or CrmNotifier()

    # -- what the webhooks hand over ----------------------------------------------------

    def ring(self, applied: Applied, urls: twiml.Urls, now: Clock) -> None:
        """After a step that puts the caller on hold for an agent: ring the agent."""
        if not applied.stale and _agent_transfer(applied) is not None:
            self.background.submit(f"ringing an agent for call {applied.session.call_sid}", self.carry_on,
                                   applied, urls, now)

    def move_on(self, applied: Applied, urls: twiml.Urls, now: Clock) -> None:
        """After an attempt failed while the caller holds: ring the next agent, or take
        the caller out of the conference to what the flow does next."""
        if not applied.stale:
            self.background.submit(f"moving call {applied.session.call_sid} on", self.carry_on, applied, urls, now)

    def stop_ringing(self, live: LiveCall) -> None:
        """Stop the agent leg of this call (the caller hung up on hold, or the agent passed
        on the console)."""
        if live.agent_leg:
            self.background.submit(f"ending agent leg {live.agent_leg}", self.end_leg, live.agent_leg)

    # -- the background work ------------------------------------------------------------

    def carry_on(self, applied: Applied, urls: twiml.Urls, now: Clock) -> None:
        """Dial the agent leg the call's transfer asks for; when that cannot be done, tell
        the engine the attempt failed and go on with what it says next; when that is not
        an agent, redirect the caller (who holds in the conference) to it."""
        try:
            self._carry_on(applied, urls, now)
        except Exception:  # the store or a bug: the caller must not hold for nobody
            log.exception("call %s: the transfer could not be carried on; sending the caller back to the line",
                          applied.session.call_sid)
            self.move_caller_on(applied, urls, rescue=True)  # an apology, and a person dialled directly

    def _carry_on(self, applied: Applied, urls: twiml.Urls, now: Clock) -> None:
        for _ in range(MAX_FAILED_LEGS):
            action = _agent_transfer(applied)
            if action is None:
                self.move_caller_on(applied, urls)
                return
            live = LiveCall.load(self.line.store, applied.session.call_sid)
            if live is None or not live.is_attempt_live(action.attempt):
                return  # the caller hung up, or an agent already took the call, before it was our turn
            if action.attempt == 1:
                self._notify_crm(applied, action)
            try:
                leg = self._dial_agent(applied, action, urls)
            except (RestUnavailable, CallGone) as exc:
                log.warning("call %s: cannot dial %s (%s); trying the next way to a person",
                            applied.session.call_sid, action.target, exc)
                nxt = self.line.apply(applied.session.call_sid, TransferResult(now(), "failed", action.target))
                if nxt is None or nxt.stale:
                    return
                applied = nxt
                continue
            self._keep_leg(applied.session.call_sid, leg, action.attempt)
            return

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
        return str(getattr(created, "sid", "") or "")

    def _keep_leg(self, call_sid: str, leg: str, attempt: int) -> None:
        """Remember the leg while its attempt is live; a leg made for a call that ended or
        moved on meanwhile is stopped at once (one an agent took is left alone)."""
        holder: dict[str, LiveCall] = {}

        def change(current: Stored | None) -> dict[str, Any] | None:
            holder.clear()
            live = LiveCall.of(current)
            if live is None or not live.is_attempt_live(attempt):
                if live is not None:
                    holder["late"] = live
                return None
            return replace(live, agent_leg=leg, agent_attempt=attempt).to_stored()

        self.line.store.update(call_sid, change)
        late = holder.get("late")
        if late is not None and late.phase != "connected" and leg:
            log.info("call %s moved on while agent leg %s was being made; stopping it", call_sid, leg)
            self.end_leg(leg)

    def _notify_crm(self, applied: Applied, action: Transfer) -> None:
        flow = applied.flow
        if flow.crm_url and flow.crm_secret:
            self.crm.notify(flow.crm_url, flow.crm_secret, dict(action.context))

    def move_caller_on(self, applied: Applied, urls: twiml.Urls, rescue: bool = False) -> None:
        """Take the caller out of the conference to whatever the call does next (with
        ``rescue``: to an apology and a person dialled directly, when the transfer itself
        broke down)."""
        url = urls.to("/twilio/resume", seq=applied.seq, rescue=1 if rescue else None)
        try:
            self.rest.redirect(applied.session.call_sid, url)
        except CallGone:
            log.info("call %s ended before it could be moved on", applied.session.call_sid)
        except RestUnavailable as exc:
            log.error("call %s: could not move the caller out of the hold conference: %s",
                      applied.session.call_sid, exc)

    def end_leg(self, leg: str) -> None:
        """Cancel an agent leg while it rings; end it if it was answered."""
        for status in ("canceled", "completed"):
            try:
                self.rest._retry(f"ending agent leg {leg}", _update(self.rest, leg, status))
                return
            except CallGone:
                return
            except RestUnavailable as exc:
                log.info("agent leg %s: %s", leg, exc)


def _update(rest: TwilioRest, leg: str, status: str) -> Callable[[], object]:
    return lambda: rest.client.calls(leg).update(status=status)


def _agent_transfer(applied: Applied) -> Transfer | None:
    """The transfer to an agent (not a queue) the call's answer ends with, if any."""
    last = applied.actions[-1] if applied.actions else None
    return last if isinstance(last, Transfer) and target_kind(last.target) not in ("queue", "flex") else None


@bp.post("/twilio/hold")
@twilio_webhook
def hold() -> Response:
    parts = services()
    music = parts.settings.audio_dir / "hold.wav"
    return xml(twiml.hold(parts.urls().audio("hold.wav") if music.is_file() else None))


@bp.post("/twilio/agent-status")
@twilio_webhook
def agent_status() -> Response:
    call = request.args.get("call", "")
    attempt = request.args.get("attempt", "")
    status = request.form.get("CallStatus", "")
    parts = services()
    if parts.warm is None:
        return Response(status=204)  # no agent legs are made without the REST API
    live = LiveCall.load(parts.store, call)
    if live is None or not live.is_attempt_live(attempt):
        return Response(status=204)  # an old leg, or the agent already took the call
    if status == "completed":
        status = "declined"  # the agent's leg ended without taking the call
    elif status not in AGENT_FAILED:
        return Response(status=204)
    applied = parts.line.apply(call, TransferResult(parts.now(), status, request.form.get("To", "")))
    if applied is not None:
        parts.warm.move_on(applied, parts.urls(), parts.now)
    return Response(status=204)


@bp.post("/twilio/conference-left")
@twilio_webhook
def conference_left() -> Response:
    sid = request.form.get("CallSid", "")
    parts = services()
    live = LiveCall.load(parts.store, sid)
    if live is None:
        return xml(twiml.simple("Thank you for calling. Goodbye.", hangup=True))
    if live.phase == "connected":
        applied = parts.line.apply(sid, TransferResult(parts.now(), "completed"))
        return respond(applied) if applied else xml(twiml.empty())
    # Taken out of the conference to what the call does next. Twilio may request this
    # Dial action before the redirect's URL (TWILIO.md section 5, "During <Dial>"): the
    # caller hears what the step that moved the call on said (the fallback's prompt)
    # either way, and then its waiting action with the node's own settings.
    applied = parts.line.replay(sid, parts.now(), at_seq=live.seq)
    return respond(applied) if applied is not None else xml(parts.emergency())


@bp.post("/twilio/resume")
@twilio_webhook
def resume() -> Response:
    parts = services()
    if request.args.get("rescue"):
        return xml(parts.emergency())
    seq = request.args.get("seq", "")
    applied = parts.line.replay(request.form.get("CallSid", ""), parts.now(),
                               at_seq=int(seq) if seq.isdigit() else None)
    if applied is None:
        return xml(parts.emergency())
    return respond(applied)


def warm_transfer(settings: Settings, line: Line, rest: TwilioRest | None,
                  background: Background) -> WarmTransfer | None:
    """Warm transfer needs the REST API (TWILIO_ACCOUNT_SID); without it transfers are a
    plain ``<Dial>`` with a whisper on each target."""
    if rest is None:
        log.info("TWILIO_ACCOUNT_SID is not set: transfers use <Dial> with a whisper (no hold conference)")
        return None
    return WarmTransfer(line, rest, settings, background)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
