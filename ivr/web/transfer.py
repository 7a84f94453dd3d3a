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

An agent pool target (``{agents: {skills: [...]}}``) is dialled the same way, one agent
at a time: when its attempt is dialled, ``Desk.offer`` claims the longest idle available
agent of the pool who was not offered this call yet (atomically in the store: two hosts
never ring one agent for two calls) and their first target is rung. A pass, no answer or
failure frees the agent and the engine offers the same pool again (the next agent);
nobody free is ``unavailable`` and the engine goes on to the next target at once. An
offer is known by the call's ``seq`` when it was made (``offer=`` in the leg's URLs), so
a late callback of an earlier agent's leg never decides the current one.

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
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, Response, request

from ivr import twiml
from ivr.model.actions import Transfer
from ivr.model.events import CallEnded, TransferResult
from ivr.model.targets import AgentPool, target_kind
from ivr.settings import Settings
from ivr.store import Stored
from ivr.telephony.crm import CrmNotifier
from ivr.telephony.rest import CallGone, RestUnavailable, TwilioRest

from .hooks import agent_says, caller_gone, respond, twilio_webhook, voice_of, xml
from .line import Applied, Line
from .live import LiveCall
from .presence import Desk
from .services import Background, services

__all__ = ["Sweeper", "WarmTransfer", "bp", "init_app", "warm_transfer"]

log = logging.getLogger(__name__)
bp = Blueprint("transfer", __name__)
AGENT_FAILED = ("busy", "no-answer", "failed", "canceled")
MAX_FAILED_LEGS = 20  # attempts one job may fail through before it gives the call up to its fallback
ATTEMPT_GRACE = 90.0  # seconds past an attempt's ring timeout (the whisper and its question) before it is overdue
REDIRECT_GRACE = 20.0  # seconds a caller taken off hold has to come back before Twilio is asked again
SWEEP_EVERY = 15.0  # seconds between two sweeps of the callers on hold
Clock = Callable[[], datetime]


class WarmTransfer:
    """The REST side of warm transfers: agent legs rung and stopped, the caller moved on."""

    def __init__(self, line: Line, rest: TwilioRest, settings: Settings, background: Background,
                 crm: CrmNotifier | None = None):
        self.line, self.rest, self.settings, self.background = line, rest, settings, background
        self.crm = crm or CrmNotifier()
        self._seen_urls = twiml.Urls("http://localhost")
        self.desk: Desk | None = None  # the agents' presence, for agent pool targets (set by init_app)

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
        """Stop the agent leg of this call (the caller hung up on hold, the agent passed
        on the console, the hold ran out): cancelled while it rings, ended once answered."""
        if live.agent_leg:
            self.background.submit(f"ending agent leg {live.agent_leg}", self.end_leg, live.agent_leg,
                                   live.agent_answered)

    def join_agent(self, live: LiveCall, urls: twiml.Urls) -> None:
        """The call was taken on the console: an agent phone that is already at the whisper
        goes into the caller's conference now (one still ringing joins when answered)."""
        if live.agent_leg and live.agent_answered and not live.agent_joined:
            url = urls.to("/twilio/agent-join", call=live.call_sid, attempt=live.session.transfer_attempt)
            self.background.submit(f"joining agent leg {live.agent_leg}", self._redirect_leg, live.agent_leg, url)

    def _redirect_leg(self, leg: str, url: str) -> None:
        try:
            self.rest.redirect(leg, url)
        except (CallGone, RestUnavailable) as exc:  # its status callback moves the call on
            log.info("agent leg %s could not be sent to the caller: %s", leg, exc)

    # -- the background work ------------------------------------------------------------

    def carry_on(self, applied: Applied, urls: twiml.Urls, now: Clock) -> None:
        self._seen_urls = urls
        self._carry_on_safely(applied, urls, now)

    def _carry_on_safely(self, applied: Applied, urls: twiml.Urls, now: Clock) -> None:
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
                self.move_caller_on(applied, urls, at=now())
                return
            call_sid = applied.session.call_sid
            live = LiveCall.load(self.line.store, call_sid)
            if live is None or not live.is_attempt_live(action.attempt):
                return  # the caller hung up, or an agent already took the call, before it was our turn
            if action.attempt == 1 and not offered_agents(live):
                self._notify_crm(applied, action)
            pool, agent, offer = AgentPool.of(action.target), "", 0
            to = action.target
            if pool is not None:
                offer = applied.seq
                chosen = self._offer(applied, live, pool, offer)
                if chosen is None:  # nobody of the pool is free: the next target, at once
                    status = "unavailable"
                elif not chosen:
                    return  # the call moved on while an agent was being chosen
                else:
                    agent, to, status = chosen[0], chosen[1], ""
                if status:
                    log.info("call %s: nobody free for %s; trying the next way to a person", call_sid, pool.describe())
                    nxt = self.line.apply(call_sid, TransferResult(now(), status, action.target),
                                          only_if=_offer_check(action.attempt, offer))
                    if nxt is None or nxt.stale:
                        return
                    applied = nxt
                    continue
            try:
                leg = self._dial_agent(applied, action, urls, to, agent, offer)
            except (RestUnavailable, CallGone) as exc:
                log.warning("call %s: cannot dial %s (%s); trying the next way to a person", call_sid, to, exc)
                self._release(agent, call_sid)
                nxt = self.line.apply(call_sid, TransferResult(now(), "failed", to),
                                      only_if=_offer_check(action.attempt, offer))
                if nxt is None or nxt.stale:
                    return
                applied = nxt
                continue
            self._keep_leg(call_sid, leg, action.attempt, offer, agent)
            if not agent and self.desk is not None:
                self.desk.took(to, call_sid)  # an agent rung directly is busy while it rings
            return

    def _offer(self, applied: Applied, live: LiveCall, pool: AgentPool,
               offer: int) -> tuple[str, str] | tuple[()] | None:
        """Claim the pool's next agent for this call and note the offer on the call:
        (agent, target to ring), None when nobody is free, () when the call moved on
        meanwhile (the claim is given back)."""
        call_sid = live.call_sid
        if self.desk is None:
            return None
        agent = self.desk.offer(pool, call_sid, offered_agents(live))
        if agent is None:
            return None
        noted: list[bool] = []

        def note(current: Stored | None) -> dict[str, Any] | None:
            noted.clear()
            fresh = LiveCall.of(current)
            if fresh is None or not offer_is_live(fresh, fresh.session.transfer_attempt, offer):
                return None
            noted.append(True)
            other = {**fresh.other, "offered_agent": agent.name,
                     "offered_agents": [*offered_agents(fresh), agent.name]}
            return replace(fresh, other=other, declined_attempt="").to_stored()

        self.line.store.update(call_sid, note)
        if not noted:
            self.desk.release(agent.name, call_sid)
            return ()
        log.info("call %s: offered to %s (%s)", call_sid, agent.name, pool.describe())
        self.line.publish(applied)  # the consoles show whom it rings now (``Desk.offered_card``)
        return agent.name, agent.dial_target

    def _release(self, agent: str, call_sid: str) -> None:
        if agent and self.desk is not None:
            self.desk.release(agent, call_sid)

    def _dial_agent(self, applied: Applied, action: Transfer, urls: twiml.Urls, target: str = "", agent: str = "",
                    offer: int = 0) -> str:
        """Create the agent leg to ``target`` (the action's own target, or the agent an
        agent pool offers the call to: ``agent``, whose offer is ``offer``)."""
        call_sid = applied.session.call_sid
        to = target or action.target
        if target_kind(to) == "sip":
            to = twiml.sip_with_headers(to, dict(action.context))
        caller_id = applied.session.to or self.settings.fallback_number
        mark = {"offer": offer or None, "agent": agent or None}
        whisper = urls.to("/twilio/whisper", call=call_sid, attempt=action.attempt, **mark) if action.whisper else \
            urls.to("/twilio/whisper/answer", call=call_sid, attempt=action.attempt, accept=1, **mark)
        status = urls.to("/twilio/agent-status", call=call_sid, attempt=action.attempt, **mark)
        created = self.rest._retry(f"agent leg to {to}", lambda: self.rest.client.calls.create(
            to=to, from_=caller_id, url=whisper, method="POST", status_callback=status,
            status_callback_method="POST", timeout=action.timeout))
        return str(getattr(created, "sid", "") or "")

    def _keep_leg(self, call_sid: str, leg: str, attempt: int, offer: int = 0, agent: str = "") -> None:
        """Remember the leg while its attempt (and offer) is live; a leg made for a call
        that ended or moved on meanwhile is stopped at once (one an agent took is left
        alone), and the agent a pool offered it to is free again."""
        holder: dict[str, LiveCall] = {}

        def change(current: Stored | None) -> dict[str, Any] | None:
            holder.clear()
            live = LiveCall.of(current)
            if live is None or not offer_is_live(live, attempt, offer):
                if live is not None:
                    holder["late"] = live
                return None
            return replace(live, agent_leg=leg, agent_attempt=attempt, agent_answered=False,
                           agent_joined=False).to_stored()

        self.line.store.update(call_sid, change)
        late = holder.get("late")
        if late is not None and late.phase != "connected" and leg:
            log.info("call %s moved on while agent leg %s was being made; stopping it", call_sid, leg)
            self._release(agent, call_sid)
            self.end_leg(leg, late.agent_attempt == attempt and late.agent_answered)

    def _notify_crm(self, applied: Applied, action: Transfer) -> None:
        flow = applied.flow
        if flow.crm_url and flow.crm_secret:
            self.crm.notify(flow.crm_url, flow.crm_secret, dict(action.context))

    def move_caller_on(self, applied: Applied, urls: twiml.Urls, rescue: bool = False,
                       at: datetime | None = None) -> None:
        """Take the caller out of the conference to whatever the call does next (with
        ``rescue``: to an apology and a person dialled directly, when the transfer itself
        broke down). Until the caller asks for where the call is, the redirect is owed
        (``LiveCall.off_hold_seq``): the sweep asks Twilio again if it was lost."""
        call_sid = applied.session.call_sid
        if not rescue:
            stamp = (at or datetime.now(UTC)).timestamp()
            self.line.store.update(call_sid, lambda current: None if (live := LiveCall.of(current)) is None
                                   or live.phase == "ended" else
                                   replace(live, off_hold_seq=applied.seq, off_hold_at=stamp).to_stored())
        url = urls.to("/twilio/resume", seq=applied.seq, rescue=1 if rescue else None)
        try:
            self.rest.redirect(call_sid, url)
        except CallGone:
            log.info("call %s ended before it could be moved on", call_sid)
        except RestUnavailable as exc:
            log.error("call %s: could not move the caller out of the hold conference (the sweep tries again): %s",
                      call_sid, exc)

    def end_leg(self, leg: str, answered: bool = False) -> None:
        """Cancel an agent leg while it rings; end it (``completed``) once it was answered:
        TWILIO.md section 5, "canceled affects only queued or ringing calls"."""
        for status in (("completed",) if answered else ("canceled", "completed")):
            try:
                self.rest._retry(f"ending agent leg {leg}", _update(self.rest, leg, status))
                return
            except CallGone:
                return
            except RestUnavailable as exc:
                log.info("agent leg %s: %s", leg, exc)

    # -- the sweep --------------------------------------------------------------------------

    def sweep(self, now: datetime, limit: int = 1000) -> list[str]:
        """Move on every caller whose hold outlived what the flow allows: held past the
        flow's ``max_hold`` (to the transfer's fallback), an agent attempt whose status
        callback never came (the next target), an agent who took the call but whose phone
        never joined (the next target), a redirect off hold that never reached the caller
        (asked again). Returns what was done, one line per call.

        Safe on every host at once: each move is a versioned update of the call that holds
        only while the call is still as it was seen, and only the host whose update won
        does the REST work."""
        done: list[str] = []
        if self.desk is not None:
            try:
                done += [f"{name}: free again (their call had ended)" for name in self.desk.free_stale()]
            except Exception:
                log.exception("sweep: the agents' presence could not be checked")
        for row in self.line.store.list_calls(active=True, limit=limit):
            try:
                what = self._sweep_call(str(row.get("call_sid") or ""), now)
            except Exception:
                log.exception("sweep: call %s could not be checked", row.get("call_sid"))
                continue
            if what:
                done.append(what)
        return done

    def _sweep_call(self, call_sid: str, now: datetime) -> str:
        live = LiveCall.load(self.line.store, call_sid)
        if live is None or live.phase == "ended":
            return ""
        if live.off_hold_seq:
            return self._redirect_again(live, now)
        session = live.session
        flow = self.line.library.pinned(session.flow, session.flow_version)
        node = flow.nodes.get(session.node)
        attempt = session.transfer_attempt
        targets = getattr(node, "targets", ())
        if live.phase not in ("transfer", "connected") or not 0 < attempt <= len(targets) \
                or target_kind(targets[attempt - 1]) in ("queue", "flex"):
            return ""
        held = _seconds_since(session.hold_from, now)
        ringing = _seconds_since(session.attempt_from, now)
        overdue = ringing is not None and ringing > getattr(node, "timeout", 20) + ATTEMPT_GRACE
        if live.phase == "transfer" and held is not None and held > flow.max_hold:
            status, why = "timeout", f"held {held:.0f} s, over the flow's {flow.max_hold} s"
        elif live.phase == "transfer" and overdue:
            status, why = "no-answer", "no word from the agent leg"
        elif live.phase == "connected" and not live.agent_joined and overdue:
            status, why = "failed", "taken on the console, but the agent's phone never joined"
        else:
            return ""

        def unchanged(fresh: LiveCall) -> bool:
            return fresh.phase == live.phase and fresh.session.transfer_attempt == attempt \
                and fresh.agent_joined == live.agent_joined

        applied = self.line.apply(call_sid, TransferResult(now, status, targets[attempt - 1]), only_if=unchanged)
        if applied is None or applied.stale:
            return ""
        log.warning("call %s: %s; moving the caller on", call_sid, why)
        if live.agent_attempt == attempt:
            self.stop_ringing(live)
        self._release(str(live.other.get("offered_agent") or ""), call_sid)
        self.move_on(applied, self._urls(), lambda: now)
        return f"{call_sid}: {why}"

    def _redirect_again(self, live: LiveCall, now: datetime) -> str:
        """A caller who was to be taken off hold and has not asked for where the call is."""
        stamp = now.timestamp()
        if stamp - live.off_hold_at < REDIRECT_GRACE:
            return ""
        claimed: list[bool] = []

        def claim(current: Stored | None) -> dict[str, Any] | None:
            claimed.clear()
            fresh = LiveCall.of(current)
            if fresh is None or fresh.off_hold_seq != live.off_hold_seq or fresh.off_hold_at != live.off_hold_at:
                return None  # the caller came back, or another host asked again
            claimed.append(True)
            return replace(fresh, off_hold_at=stamp).to_stored()

        self.line.store.update(live.call_sid, claim)
        if not claimed:
            return ""
        url = self._urls().to("/twilio/resume", seq=live.off_hold_seq)
        self.background.submit(f"taking call {live.call_sid} off hold again", self._redirect_caller,
                               live.call_sid, url)
        return f"{live.call_sid}: taken off hold again"

    def _redirect_caller(self, call_sid: str, url: str) -> None:
        try:
            self.rest.redirect(call_sid, url)
        except CallGone:
            LiveCall.mark(self.line.store, call_sid, off_hold_seq=0)
        except RestUnavailable as exc:
            log.error("call %s: still cannot take the caller off hold: %s", call_sid, exc)

    def _urls(self) -> twiml.Urls:
        """The public URLs, outside any request: the configured base, else the last one
        Twilio used."""
        return twiml.Urls(self.settings.public_url.rstrip("/")) if self.settings.public_url else self._seen_urls


def _seconds_since(iso: str, now: datetime) -> float | None:
    try:
        return (now - datetime.fromisoformat(iso)).total_seconds() if iso else None
    except (TypeError, ValueError):
        return None


class Sweeper:
    """Runs ``WarmTransfer.sweep`` every ``every`` seconds on a daemon thread, by the
    line's clock. Every host may run one (see ``sweep``)."""

    def __init__(self, warm: WarmTransfer, now: Clock, every: float = SWEEP_EVERY) -> None:
        self.warm, self.now, self.every = warm, now, every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Sweeper:
        """Start sweeping (again, after ``stop``: in a worker forked from a preloaded app)."""
        if self._thread is None or not self._thread.is_alive():
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._run, args=(self._stop,), name="ivr-hold-sweep",
                                            daemon=True)
            self._thread.start()
        return self

    def stop(self, wait: float = 0.0) -> bool:
        """Stop sweeping; with ``wait``, give the thread that many seconds to end."""
        self._stop.set()
        if self._thread is not None and wait > 0:
            self._thread.join(wait)
        return self._thread is None or not self._thread.is_alive()

    def _run(self, stopped: threading.Event) -> None:
        failing = False
        while not stopped.wait(self.every):
            if getattr(self.warm.line.store, "closed", False):  # the app shut down without stopping us
                return
            try:
                self.warm.sweep(self.now())
                failing = False
            except Exception as exc:  # the store is down: said once per outage, tried again next round
                if not failing:
                    log.warning("the hold sweep failed (%s); trying again every %s s", exc, self.every,
                                exc_info=True)
                failing = True


def offered_agents(live: LiveCall) -> tuple[str, ...]:
    """The agents agent pools offered this call to so far (kept beside the live call)."""
    found = live.other.get("offered_agents")
    return tuple(str(name) for name in found) if isinstance(found, list) else ()


def _offer_check(attempt: int, offer: int) -> Callable[[LiveCall], bool]:
    return lambda live: offer_is_live(live, attempt, offer)


def offer_is_live(live: LiveCall, attempt: object, offer: object) -> bool:
    """Whether transfer attempt ``attempt`` is the one the caller waits on and, for an
    agent pool (``offer``: the call's ``seq`` when the agent was chosen), whether that
    offer is still the current one: every result applied to the call moves ``seq`` on."""
    return live.is_attempt_live(attempt) and (not offer or str(live.seq) == str(offer))


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
    return xml(twiml.hold(parts.urls().audio("hold.wav") if music.is_file() else None,
                          voice_of(request.args.get("call", ""))))


@bp.post("/twilio/agent-join")
@twilio_webhook
def agent_join() -> Response:
    """An agent's phone sent here after the call was taken on the console."""
    from .hooks import _agent_joins

    call = request.args.get("call", "")
    live = LiveCall.load(services().store, call)
    if live is None or not live.taken_on(request.args.get("attempt", "")):
        return xml(agent_says(call, "agent_call_gone"))
    return xml(_agent_joins(call, request.args.get("attempt", "")))


@bp.post("/twilio/agent-status")
@twilio_webhook
def agent_status() -> Response:
    call = request.args.get("call", "")
    attempt = request.args.get("attempt", "")
    offer = request.args.get("offer", "")
    status = request.form.get("CallStatus", "")
    parts = services()
    if parts.warm is None:
        return Response(status=204)  # no agent legs are made without the REST API
    if status in ("completed", *AGENT_FAILED) and parts.warm.desk is not None:  # this agent's leg is over
        if request.args.get("agent"):
            parts.warm.desk.release(request.args.get("agent", ""), call)
        else:
            parts.warm.desk.release_target(request.form.get("To", ""), call)
    if status == "completed":
        status = "declined"  # the agent's leg ended without taking the call (or before joining the caller)
    elif status not in AGENT_FAILED:
        return Response(status=204)
    passed = LiveCall.load(parts.store, call)
    if passed is not None and passed.was_declined(attempt):
        status = "declined"  # passed on the console, and its ringing leg stopped: a pass, not a miss

    def still_waiting(live: LiveCall) -> bool:
        """The attempt of this leg is the one the caller waits on: still ringing, or taken
        on the console by an agent whose phone has not joined the caller."""
        return offer_is_live(live, attempt, offer) or (live.taken_on(attempt) and not live.agent_joined and (
            not offer or request.form.get("CallSid", "") == live.agent_leg))

    applied = parts.line.apply(call, TransferResult(parts.now(), status, request.form.get("To", "")),
                               only_if=still_waiting)
    if applied is not None and not applied.stale:
        parts.warm.move_on(applied, parts.urls(), parts.now)
    return Response(status=204)


@bp.post("/twilio/conference-left")
@twilio_webhook
def conference_left() -> Response:
    sid = request.form.get("CallSid", "")
    parts = services()
    live = LiveCall.load(parts.store, sid)
    if live is None:
        return xml(twiml.simple(parts.line_voice().text("goodbye"), hangup=True, voice=parts.line_voice()))
    if live.phase == "connected" and caller_gone(request.form.get("CallStatus", "")):
        # Twilio asks the Dial action of a caller who hung up on the agent too: no survey
        # for a caller who is gone, and the agent is not left alone in the conference
        if parts.warm is not None and live.agent_leg:
            parts.warm.stop_ringing(live)
        status = request.form.get("CallStatus", "")
        parts.line.apply(sid, CallEnded(parts.now(), status), ended_status=status)
        return xml(twiml.empty())
    if live.phase == "connected":
        applied = parts.line.apply(sid, TransferResult(parts.now(), "completed"))
        return respond(applied) if applied else xml(twiml.empty())
    # Taken out of the conference to what the call does next. Twilio may request this
    # Dial action before the redirect's URL (TWILIO.md section 5, "During <Dial>"): the
    # caller hears what the step that moved the call on said (the fallback's prompt)
    # either way, and then its waiting action with the node's own settings.
    _came_back(sid)
    applied = parts.line.replay(sid, parts.now(), at_seq=live.seq)
    return respond(applied) if applied is not None else xml(parts.emergency())


def _came_back(call_sid: str) -> None:
    """The caller asked for where the call is: the redirect off hold is no longer owed."""
    services().store.update(call_sid, lambda current: None if (live := LiveCall.of(current)) is None
                            or not live.off_hold_seq else replace(live, off_hold_seq=0, off_hold_at=0.0).to_stored())


@bp.post("/twilio/resume")
@twilio_webhook
def resume() -> Response:
    parts = services()
    if request.args.get("rescue"):
        return xml(parts.emergency())
    seq = request.args.get("seq", "")
    _came_back(request.form.get("CallSid", ""))
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


def init_app(app: Flask, sweep: bool = True) -> None:
    """The warm-transfer URLs; with warm transfer, the hold sweep on this host too."""
    app.register_blueprint(bp)
    parts = services(app)
    if parts.warm is not None:
        parts.warm.desk = Desk(parts.agents, parts.store, lambda: parts.now())
    if sweep and parts.warm is not None:
        app.extensions["ivr.hold_sweeper"] = Sweeper(parts.warm, lambda: parts.now()).start()
