"""The agent console, under ``/console``: sign in, a live board of calls, accept or pass a
ringing transfer, and the history of recent calls.

* Agents come from the agents file (``agents.py``); the Flask session cookie (HttpOnly,
  SameSite=Lax, Secure when the public URL is https, path ``/console``) holds a server-side
  session id (``console_sessions.py``: sign-out revokes it, ``IVR_CONSOLE_IDLE_TIMEOUT``
  ends it) and a per-session CSRF token that every POST must carry (form field
  ``csrf_token`` or header ``X-CSRF-Token``).
* Failed sign-ins lock the address (and, from many addresses, the agent name) out with
  exponential back-off, shared by every worker and host (``defence.SignIns``); a locked
  out attempt gets 429 and its password is not checked.
* The board is rendered on the server; ``/console/events`` (server-sent events) then sends
  each call's card, rendered by the same template, whenever ``Line.publish`` puts it on
  the bus channel ``ivr.calls``. The stream starts with a ``snapshot`` of every active
  call (so a reconnect resynchronises), sends a comment every ``IVR_CONSOLE_HEARTBEAT``
  seconds and ends after ``IVR_CONSOLE_STREAM_SECONDS`` (the browser reconnects): a closed
  browser frees its thread at the next heartbeat at the latest.
* Accept / Pass is the whisper's 1 / 2: ``Line.agent_answer``. An agent may act only on a
  transfer attempt whose target is one of their targets (403 otherwise); an agent pool's
  attempt is the offered agent's alone.
* Presence (``presence.py``): the board lists every agent as available, busy or away and
  lets the agent change their own (``POST /console/presence``); signing in makes an agent
  available, signing out away; the event stream marks the agent seen (a console gone for
  ``agents.GONE_AFTER`` seconds counts as away) and sends the list again (``presence``)
  whenever someone's presence changes.

Rules of this file: nothing here changes a call except through ``Line.agent_answer``; what
the console shows of a call is ``call_card`` (secrets already masked by the engine's
context record) plus the saved session's turns; raw event logs are shown by type and
time only, because they hold the digits of PINs.
"""
from __future__ import annotations

import hmac
import json
import logging
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Request,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from ivr.model.context import build_context
from ivr.settings import Settings
from ivr.store import SessionStore

from .agents import EXAMPLE, HASH_COMMAND, Agent, AgentsFile
from .console_sessions import ConsoleSessions
from .line import CONSOLE_CHANNEL, Line, call_card
from .live import LiveCall
from .presence import PRESENCE_CHANGED, desk
from .services import services

log = logging.getLogger(__name__)
bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static/console", static_url_path="/static")
OPEN_ENDPOINTS = {"console.sign_in", "console.static"}
PASSIVE_ENDPOINTS = {"console.events", "console.static"}  # not the agent at work: the idle time runs on
SAFE_EVENT_FIELDS = ("status", "target", "attempt", "by", "outcome", "reason", "code")  # never digits or speech
CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, without their cost on requests that carry no cookie.

    Flask builds a signing serializer on every request before it looks for the cookie;
    Twilio's webhooks, media sockets and health checks never carry one (the cookie's path
    is ``/console``). Here a request without the cookie gets an empty session at once, and
    the serializer is made once per set of keys."""

    def __init__(self) -> None:
        self._signer: tuple[tuple[object, ...], URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if self._signer is None or self._signer[0] != keys:
            self._signer = (keys, super().get_signing_serializer(app))
        return self._signer[1]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def init_app(app: Flask, settings: Settings) -> None:
    app.session_interface = CookieSessions()
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_PATH="/console",
                      SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"))
    app.config.setdefault("IVR_CONSOLE_HEARTBEAT", 15.0)
    app.config.setdefault("IVR_CONSOLE_STREAM_SECONDS", 300.0)
    from . import console_wrapup  # noqa: F401  (the wrap-up form: its route and template helper)
    app.register_blueprint(bp)


# ------------------------------------------------------------------ who is signed in

def _agents() -> AgentsFile:
    return services().agents


def _sessions() -> ConsoleSessions:
    """The console's server-side sessions, made once per app."""
    found = current_app.extensions.get("ivr-console-sessions")
    if found is None:
        parts = services()
        found = current_app.extensions.setdefault(
            "ivr-console-sessions", ConsoleSessions(parts.store.shared, parts.settings.console_idle_timeout))
    return found


def _line() -> Line:
    return services().line


def _store() -> SessionStore:
    return services().store


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


@bp.context_processor
def _template_names() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "agent": g.get("agent")}


@bp.before_request
def _guard():
    roster = _agents().roster()
    name = _sessions().agent_of(session.get("sid", ""), active=request.endpoint not in PASSIVE_ENDPOINTS) \
        if roster and request.endpoint != "console.static" else None
    g.agent = roster.get(name) if roster and name else None
    if request.endpoint in OPEN_ENDPOINTS and request.method != "POST":
        return None
    if request.method == "POST":
        if g.agent is None and request.endpoint != "console.sign_in":
            abort(401, "Sign in first.")
        sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token", "")
        if not sent or not session.get("csrf") or not hmac.compare_digest(sent, session["csrf"]):
            abort(400, "The form was out of date (missing or wrong CSRF token). Reload the page and try again.")
        return None
    if g.agent is None:
        if request.endpoint == "console.events":
            abort(401, "Sign in first.")
        return redirect(url_for(".sign_in", next=request.full_path.rstrip("?")))
    return None


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    agents = _agents()
    roster = agents.roster()
    setup = None if roster else {"problem": agents.problem, "example": EXAMPLE, "command": HASH_COMMAND}
    if request.method == "GET":
        if g.agent is not None:
            return redirect(url_for(".board"))
        return render_template("console/sign_in.html", setup=setup, name="", error="")
    name = request.form.get("name", "").strip()[:200]
    if roster is None:
        return render_template("console/sign_in.html", setup=setup, name=name,
                               error="Sign-in is not set up on this server yet."), 503
    address = request.remote_addr or "?"
    sign_ins = services().signatures.sign_ins
    left = sign_ins.blocked_for(address, name)
    if left > 0:  # locked out: the password is not even checked
        wait = f"{int(left // 60) + 1} minutes" if left > 90 else f"{int(left + 0.999)} seconds"
        page = render_template("console/sign_in.html", setup=None, name=name,
                               error=f"Too many failed sign-ins. Try again in {wait}.")
        return page, 429, {"Retry-After": str(max(1, int(left + 0.999)))}
    agent = roster.sign_in(name, request.form.get("password", ""))
    if agent is None:
        log.warning("console: failed sign-in from %s", address)
        sign_ins.failed(address, name)
        return render_template("console/sign_in.html", setup=None, name=name,
                               error="That name and password do not match. Try again."), 401
    sign_ins.succeeded(agent.name)
    _sessions().end(session.get("sid", ""))
    session.clear()
    session["sid"] = _sessions().begin(agent.name)
    session["csrf"] = secrets.token_urlsafe(32)
    desk().choose(agent, "available", quiet=True)
    log.info("console: %s signed in", agent.name)
    target = request.args.get("next", "")
    if not (target.startswith("/console") and not target.startswith("//")):
        target = url_for(".board")
    return redirect(target)


@bp.post("/sign-out")
def sign_out():
    if g.agent is not None:
        desk().choose(g.agent, "away", quiet=True)
    _sessions().end(session.get("sid", ""))  # every copy of the cookie stops working now
    session.clear()
    flash("You are signed out.")
    return redirect(url_for(".sign_in"))


# ------------------------------------------------------------------ the live board

def _now() -> datetime:
    return services().now()


def section_of(card: dict[str, Any]) -> str:
    phase = card.get("phase", "")
    if phase == "ended" or card.get("finished"):
        return "ended"
    if phase == "transfer":
        return "waiting"
    if phase == "connected" or card.get("after_agent"):
        return "connected"  # a call whose agent hung up stays with the agent while the caller rates it
    return "automated"


def board_card(card: dict[str, Any], live: LiveCall | None = None) -> dict[str, Any]:
    """A call card as the board shows it: ``call_card`` plus who passed on the current
    attempt (``declined_attempt``) and, once connected, who took the call."""
    card = dict(card)
    if card.get("phase") == "transfer" and str(card.get("target", "")).startswith("agents:"):
        card = desk().offered_card(card, live)  # the agent a pool offers the call to now
    if (live is not None and card.get("phase") == "transfer" and "declined_attempt" not in card
            and live.was_declined(card.get("attempt"))):
        card["declined_attempt"] = card["attempt"]
    if card.get("phase") == "survey" and "after_agent" not in card:  # the agent hung up; the caller rates the call
        if live is None:
            live = LiveCall.load(_store(), card.get("call_sid", ""))
        if live is not None and live.session.survey.get("after") == "agent":
            answered = [t for t in live.session.transfers if t.get("status") == "answered"]
            card.update(after_agent=True, taken_by=answered[-1].get("target", "") if answered else "")
    if card.get("phase") == "connected" and "taken_by" not in card:
        if live is None:
            live = LiveCall.load(_store(), card.get("call_sid", ""))
        transfers = live.session.transfers if live is not None else ()
        card["taken_by"] = transfers[-1].get("target", "") if transfers else ""
    card["section"] = section_of(card)
    return card


def active_cards() -> list[dict[str, Any]]:
    """Every active call's card, from the store (the board's initial state)."""
    cards = []
    line = _line()
    for summary in _store().list_calls(active=True, limit=200):
        live = LiveCall.load(_store(), summary["call_sid"])
        if live is None:
            continue
        session_ = live.session
        try:
            flow = line.library.pinned(session_.flow, session_.flow_version)
            card = call_card(flow, session_)
        except Exception:  # a flow that is gone: show the summary, never break the board
            log.warning("console: cannot build the card of %s", summary["call_sid"], exc_info=True)
            card = {key: summary.get(key) for key in ("call_sid", "flow", "node", "phase", "score", "caller",
                                                      "outcome")} | {"reasons": []}
        cards.append(board_card(card, live))
    return cards


def render_card(card: dict[str, Any]) -> str:
    return render_template("console/_card.html", card=card, mine=_offered(g.agent, card))


def _offered(agent: Agent | None, card: dict[str, Any]) -> bool:
    if card.get("pool"):  # an agent pool's attempt: the agent it is offered to, by name
        return agent is not None and card.get("phase") == "transfer" and card.get("offered_name") == agent.name
    return agent is not None and card.get("phase") == "transfer" and agent.offered(card.get("target", ""))


def _item(card: dict[str, Any]) -> dict[str, Any]:
    card = board_card(card)
    mine = _offered(g.agent, card) and str(card.get("declined_attempt", "")) != str(card.get("attempt"))
    html = "" if card["section"] == "ended" else render_card(card)
    return {"call_sid": card.get("call_sid", ""), "section": card["section"], "mine": mine, "html": html}


@bp.get("/")
def board():
    cards = active_cards()
    by_section: dict[str, list] = {"waiting": [], "automated": [], "connected": []}
    for card in cards:
        by_section.setdefault(card["section"], []).append(card)
    return render_template("console/board.html", sections=by_section, render_card=render_card,
                           agents_presence=desk().board(), me=desk().mine(g.agent))


@bp.post("/presence")
def presence():
    """The agent sets their own presence: available or away (busy is set by calls)."""
    wanted = request.form.get("state", "")
    if wanted not in ("available", "away"):
        abort(400, "Choose available or away.")
    try:
        mine = desk().choose(g.agent, wanted)
    except Exception:  # the store is down: say so, and change nothing
        log.warning("console: %s could not be made %s", g.agent.name, wanted, exc_info=True)
        if "application/json" in request.headers.get("Accept", ""):
            return {"error": "Your presence could not be saved just now. Try again in a moment."}, 503
        flash("Your presence could not be saved just now. Try again in a moment.")
        return redirect(url_for(".board"))
    message = f"You are {mine['label'].lower()}." + (f" You will be {wanted} when this call ends."
                                                      if mine["state"] == "busy" else "")
    if "application/json" in request.headers.get("Accept", ""):
        return {"state": mine["state"], "message": message, "html": _presence_html()}
    flash(message)
    return redirect(url_for(".board"))


def _presence_html() -> str:
    return render_template("console/_presence.html", agents_presence=desk().board(), me=desk().mine(g.agent))


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


@bp.get("/events")
def events():
    heartbeat = float(current_app.config["IVR_CONSOLE_HEARTBEAT"])
    lifetime = float(current_app.config["IVR_CONSOLE_STREAM_SECONDS"])
    bus = _store().bus
    sessions, sid = _sessions(), session.get("sid", "")

    def stream() -> Iterator[str]:
        subscription = bus.subscribe(CONSOLE_CHANNEL, timeout=heartbeat)  # before the snapshot: nothing lost
        try:
            yield "retry: 2000\n\n"
            if g.agent is not None:
                desk().seen(g.agent.name)  # this agent's console is open
            yield _sse("snapshot", {"calls": [_item(card) for card in active_cards()]})
            deadline = time.monotonic() + lifetime
            while (left := deadline - time.monotonic()) > 0:
                card = subscription.get(timeout=min(heartbeat, left))
                if card is None:
                    if sessions.agent_of(sid, active=False) is None:  # signed out or idle: the stream ends
                        yield _sse("signed-out", {})
                        return
                    if g.agent is not None:
                        desk().seen(g.agent.name)
                    yield ": heartbeat\n\n"
                    yield _sse("presence", {"html": _presence_html()})  # consoles gone quiet show as away
                    continue
                if card.get("kind") == PRESENCE_CHANGED:
                    yield _sse("presence", {"html": _presence_html()})
                    continue
                yield _sse("call", _item(card))
        finally:
            subscription.close()

    response = Response(stream_with_context(stream()), mimetype="text/event-stream")
    response.headers["X-Accel-Buffering"] = "no"
    return response


# ------------------------------------------------------------------ accept / pass

@bp.post("/calls/<call_sid>/answer")
def answer(call_sid: str):
    action = request.form.get("action", "")
    attempt = request.form.get("attempt", "")
    if action not in ("accept", "pass"):
        abort(400, "Choose accept or pass.")
    line = _line()
    live = LiveCall.load(line.store, call_sid)
    if live is None or not live.is_attempt_live(attempt):
        return _answered(call_sid, "gone", 409)
    card = board_card(call_card(line.library.pinned(live.session.flow, live.session.flow_version), live.session),
                      live)
    agent: Agent = g.agent
    if not _offered(agent, card):
        log.warning("console: %s tried to %s call %s, offered to %s", agent.name, action, call_sid,
                    card.get("target"))
        abort(403, "This call was not offered to you.")
    result = line.agent_answer(call_sid, attempt, action == "accept", _now(), by=card["target"])
    log.info("console: %s chose %s on call %s attempt %s: %s", agent.name, action, call_sid, attempt, result)
    if result == "declined":  # the engine moves on when the ringing leg ends; show the pass now
        _store().bus.publish(CONSOLE_CHANNEL, {**card, "declined_attempt": card["attempt"],
                                               "declined_by": agent.display_name})
        warm = services().warm
        live = LiveCall.load(line.store, call_sid)
        if warm is not None and live is not None:
            warm.stop_ringing(live)  # stop ringing this agent: its status callback moves the call on
    if result == "accepted":
        desk().took(card["target"], call_sid)  # busy with this call (a pool's agent already is)
    warm_transfer = services().warm
    if result == "accepted" and warm_transfer is not None:  # a phone already at the whisper joins now
        taken = LiveCall.load(line.store, call_sid)
        if taken is not None:
            warm_transfer.join_agent(taken, services().urls())
    return _answered(call_sid, result, 200 if result != "gone" else 409)


MESSAGES = {"accepted": "You took the call. The caller is being connected to you.",
            "declined": "You passed. The call goes to the next person.",
            "gone": "This call is no longer waiting for you."}


def _answered(call_sid: str, result: str, status: int):
    live = LiveCall.load(_store(), call_sid)
    html = ""
    if live is not None:
        session_ = live.session
        try:
            card = board_card(call_card(_line().library.pinned(session_.flow, session_.flow_version), session_),
                              live)
            html = render_card(card) if card["section"] != "ended" else ""
        except Exception:
            log.warning("console: cannot build the card of %s", call_sid, exc_info=True)
    if "application/json" in request.headers.get("Accept", ""):
        shown = {"phase": live.phase} if live is not None else {"phase": "ended"}
        return {"result": result, "message": MESSAGES[result], "call_sid": call_sid,
                "section": section_of(shown), "html": html}, status
    flash(MESSAGES[result])
    return redirect(url_for(".board"))


# ------------------------------------------------------------------ history

@bp.get("/calls")
def history():
    calls = _store().list_calls(active=False, limit=100)
    return render_template("console/history.html", calls=calls)


@bp.get("/calls/<call_sid>")
def call_detail(call_sid: str):
    live = LiveCall.load(_store(), call_sid)
    log_ = _store().events(call_sid)
    if live is None and not log_:
        abort(404, "No such call (it may have expired from the store).")
    context = None
    if live is not None:
        session_ = live.session
        try:
            flow = _line().library.pinned(session_.flow, session_.flow_version)
            context = build_context(flow, session_)
            context["outcome"] = session_.outcome
            context["phase"] = session_.phase
        except Exception:
            log.warning("console: cannot rebuild the context of %s", call_sid, exc_info=True)
    events_ = [{"type": e.get("type", ""), "at": e.get("at", ""),
                "details": {k: e[k] for k in SAFE_EVENT_FIELDS if e.get(k) not in (None, "")}} for e in log_]
    history = _caller_history(live.session.caller if live is not None else None, call_sid)
    return render_template("console/call.html", call_sid=call_sid, context=context, events=events_, history=history)


def _caller_history(number: str | None, call_sid: str) -> list[dict[str, Any]] | None:
    """The caller's other calls on record (found by the keyed hash of the number, as the
    records keep it; for a call whose live state expired, by the key on its record),
    newest first; [] for a withheld number; None when the records cannot be read (the
    page says so, and shows the rest)."""
    keeper = services().keeper
    if keeper is None:
        return None
    try:
        return keeper.history(number, call_sid)  # off the worker's loop (ivr.records.native)
    except Exception as exc:  # the history is a help; a records outage must not hide the call
        log.warning("console: the earlier calls of %s could not be read (%s)", call_sid, type(exc).__name__)
        return None


@bp.errorhandler(400)
@bp.errorhandler(401)
@bp.errorhandler(403)
@bp.errorhandler(404)
@bp.errorhandler(409)
def _error(error):
    message = getattr(error, "description", "") or "Something went wrong."
    if "application/json" in request.headers.get("Accept", "") or request.endpoint == "console.events":
        return {"error": message}, error.code
    return render_template("console/error.html", code=error.code, message=message), error.code


# ------------------------------------------------------------------ template helpers

@bp.app_template_filter("console_time")
def _console_time(value: Any) -> str:
    """Unix seconds or an ISO string -> ISO 8601 UTC (the page's script shows local time)."""
    if value in (None, ""):
        return ""
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC).isoformat(timespec="seconds")
    return str(value)


@bp.app_template_filter("seconds")
def _seconds(value: Any) -> str:
    try:
        total = round(float(value))
    except (TypeError, ValueError):
        return ""
    return f"{total // 60} min {total % 60:02d} s" if total >= 60 else f"{total} s"


@bp.app_template_filter("score_class")
def _score_class(score: Any) -> str:
    value = float(score or 0)
    return "high" if value >= 0.7 else "mid" if value >= 0.4 else "low"


@bp.app_template_filter("fill")
def _fill(score: Any) -> int:
    """The score as a width step of 5 % (the style sheet has a class per step)."""
    return max(0, min(100, round(float(score or 0) * 20) * 5))
