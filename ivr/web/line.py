"""The support line as the web shells see it: flows, store and lookups around the engine.

``Line.apply`` is the one way an event reaches a call: load the live call, step the
engine, save with a version check (a concurrent request for the same call makes one of
them re-run on the fresh state: nothing is lost), append the event to the call's log. It
returns what the caller should get next (``Applied``), decided before anything is
rendered or sent to Twilio's REST API.

Rules of this file:
* ``seq`` counts applied prompt answers; every Gather action URL carries the ``seq`` it
  was rendered at, so a duplicate or late answer (a retried webhook, a speech redirect
  racing a key press) is recognised and answered with where the call is now, plus what
  the original request heard (``LiveCall.answer``), instead of being applied twice.
* The store's change functions are pure (``SessionStore.update`` may run them several
  times): they step the engine without lookups. When the engine asks for a data lookup,
  the same update saves the call in the ``lookup`` phase with a ``LookupClaim`` naming
  this request; the lookup runs after the update, outside any transaction, and its result
  is applied by a second update that checks the claim is still this request's. Any other
  request for the call meanwhile (Twilio's retry of the same answer) sees the claim,
  waits for it to be settled and answers from the saved call: a back end is asked once
  per answer. Only a claim whose owner went quiet past ``LookupClaim.until`` (a host
  died mid-lookup) is taken over and the lookup asked again.
"""
from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from ivr import engine
from ivr.flows.library import FlowLibrary
from ivr.model.actions import Action, DataLookup, Listen, Speak
from ivr.model.context import MASK, build_context, summary
from ivr.model.events import CallEnded, CallStarted, Event, LookupResult, TransferResult
from ivr.model.flow import Flow
from ivr.model.plain import evolved
from ivr.model.session import Session
from ivr.runtime import Lookup, Outcome, advance
from ivr.store import SessionStore, Stored

from .live import Answer, LiveCall, LookupClaim
from .streams import MAX_STREAMS, next_stream

__all__ = ["Applied", "CONSOLE_CHANNEL", "Line", "call_card", "event_record", "now"]

log = logging.getLogger(__name__)
CONSOLE_CHANNEL = "ivr.calls"
POLL = 0.05  # seconds between two looks at a call whose lookup another request performs
MAX_WAIT = 20.0  # seconds a request waits on another's lookup before taking it over, whatever the claim says


@dataclass
class Applied:
    """What one request decided for a call: the caller's next actions and the live call
    as saved. ``stale``: the request was a duplicate and changed nothing. ``start_stream``:
    this answer starts the call's media stream (our recogniser hears the caller)."""

    live: LiveCall
    actions: list[Action]
    flow: Flow
    stale: bool = False
    start_stream: bool = False
    lookup: DataLookup | None = None  # a lookup this request still has to perform

    @property
    def session(self) -> Session:
        return self.live.session

    @property
    def seq(self) -> int:
        return self.live.seq


def event_record(event: Event, secret: bool = False) -> dict[str, Any]:
    """An event as a log line. ``secret``: the answer was to a secret prompt (a PIN, a card
    number), so the keys and words are masked: they never reach the event log."""
    out: dict[str, Any] = {"type": type(event).__name__}
    for key, value in vars(event).items():
        if key == "memory":  # the caller's profile stays in the records, never in the call's log
            out["remembered"] = value is not None
            continue
        out[key] = value.isoformat() if isinstance(value, datetime) else value
    if secret:
        for key in ("digits", "text"):
            if out.get(key):
                out[key] = MASK
    return out


def answers_secret(flow: Flow, session: Session) -> bool:
    """Whether the call is waiting at a prompt whose answer must not be logged."""
    node = flow.nodes.get(session.node)
    slot = getattr(node, "slot", None)
    return session.phase in ("listening", "confirming") and bool(getattr(slot, "secret", False))


def _never(language: str) -> bool:
    return False


class Line:
    """The line's calls: ``start`` a call, ``apply`` an event to one, ``replay`` where
    one is, ``agent_answer`` for an agent's key or console button.

    ``streams_speech(language)`` says whether our own recogniser hears callers in that
    language (then the first prompt starts the call's media stream)."""

    def __init__(self, library: FlowLibrary, store: SessionStore, lookup: Lookup,
                 streams_speech: Callable[[str], bool] = _never,
                 call_ended: Callable[[str, Flow, Session, datetime], None] | None = None,
                 prompt_moved: Callable[[Applied], None] | None = None):
        self.library = library
        self.store = store
        self.lookup = lookup
        self.streams_speech = streams_speech
        self.call_ended = call_ended  # told once, by the request that ended the call (the record keeper)
        self.prompt_moved = prompt_moved  # told when a call waits at a new prompt (the media socket's grammar)

    # -- the requests -----------------------------------------------------------------

    def start(self, event: CallStarted) -> Applied | None:
        """A new call (or Twilio's retry of the same incoming-call webhook)."""
        token = secrets.token_hex(8)
        holder: dict[str, Applied] = {}

        def change(current: Stored | None) -> dict[str, Any] | None:
            holder.clear()
            if current is not None:  # a retried incoming-call webhook: answer with where the call is
                return None
            outcome = advance(self.library, None, event)
            live, applied = self._decided(LiveCall.new(outcome.session, []), outcome, 0, token, ())
            holder["applied"] = applied
            return live.to_stored()

        self.store.update(event.call_sid, change, log=lambda: [event_record(event)])  # saved with its event
        if "applied" not in holder:
            return self._settled(event.call_sid, 0, event.at)
        return self._finished(event.call_sid, holder["applied"], token, event.at)

    def apply(self, call_sid: str, event: Event, seq: int | None = None, ended_status: str = "",
              only_if: Callable[[LiveCall], bool] | None = None) -> Applied | None:
        """Apply ``event`` to a live call; None when the call is unknown, or when
        ``only_if`` (checked on the fresh call, inside the versioned update) says the
        event no longer applies. ``seq``: the prompt the event answers (from the Gather
        action URL)."""
        token = secrets.token_hex(8)
        holder: dict[str, Any] = {}

        def change(current: Stored | None) -> dict[str, Any] | None:
            holder.clear()
            live = LiveCall.of(current)
            if live is None or (only_if is not None and not only_if(live)):
                return None
            busy = live.lookup_claim is not None and not isinstance(event, CallEnded)
            if (seq is not None and seq != live.seq) or live.phase == "ended" or busy:
                # a duplicate, late or replayed request (an ended call stays ended), or one
                # that came while another request's lookup is in flight: change nothing
                holder["stale"] = True
                return None
            flow = self.library.pinned(live.session.flow, live.session.flow_version)
            outcome = advance(self.library, live.session, event)
            moved = evolved(live, {"seq": live.seq + 1, "pending_speech": None, "lookup_claim": None,
                                   "ended_status": ended_status or live.ended_status})
            saved, applied = self._decided(moved, outcome, -1 if seq is None else seq, token, ())
            holder.update(applied=applied, secret=answers_secret(flow, live.session))
            return saved.to_stored()

        self.store.update(call_sid, change, log=lambda: [event_record(event, holder.get("secret", False))])
        if holder.get("stale"):
            return self._settled(call_sid, seq, event.at)
        applied = holder.get("applied")
        if applied is None:
            return None
        return self._finished(call_sid, applied, token, event.at, isinstance(event, CallEnded))

    def replay(self, call_sid: str, at: datetime, at_seq: int | None = None) -> Applied | None:
        """Where the call is now (its current prompt, transfer or recording), changing
        nothing: for a caller redirected back to us. ``at_seq``: the call was redirected
        when it was at that ``seq``; if it has not moved since, the caller also hears
        what the step that got it there said."""
        return self._settled(call_sid, None, at, at_seq)

    def agent_answer(self, call_sid: str, attempt: str, accept: bool, at: datetime, by: str = "") -> str:
        """An agent takes (``accept``) or passes on the transfer attempt ``attempt``, by
        whisper key or console button: ``accepted``, ``declined`` or ``gone`` (the call is
        no longer waiting for that attempt).

        The one place that decides who took the call: each decision is a versioned update
        of the call that holds only while the attempt is still open, so whatever order the
        console's clicks, the phone's keys and the status callbacks arrive in, the first
        word on an attempt wins and every later one is told what it was."""
        def still_open(live: LiveCall) -> bool:
            return live.is_attempt_live(attempt) and not live.was_declined(attempt)

        if accept:
            self.apply(call_sid, TransferResult(at, "answered", by), only_if=still_open)
        else:
            passed: list[bool] = []

            def change(current: Stored | None) -> dict[str, Any] | None:
                passed.clear()
                live = LiveCall.of(current)
                if live is None or not still_open(live):
                    return None
                passed.append(True)
                return replace(live, declined_attempt=str(attempt)).to_stored()

            self.store.update(call_sid, change)
            if passed:
                self.store.append_event(call_sid, {"type": "TransferDeclined", "attempt": str(attempt), "by": by,
                                                   "at": at.isoformat()})
        live = LiveCall.load(self.store, call_sid)
        if live is None:
            return "gone"
        if live.taken_on(attempt):
            return "accepted"
        if live.was_declined(attempt) and live.is_attempt_live(attempt):
            return "declined"
        return "gone"

    def publish(self, applied: Applied) -> None:
        """Tell every console (on every host) where this call is now. Never fails a call."""
        try:
            self.store.bus.publish(CONSOLE_CHANNEL, call_card(applied.flow, applied.session))
        except Exception:  # the console is a view; a bus outage must not hurt the caller
            log.warning("call %s: could not publish to the console", applied.session.call_sid, exc_info=True)

    # -- deciding ---------------------------------------------------------------------

    def _decided(self, live: LiveCall, outcome: Outcome, for_seq: int, token: str,
                 said: tuple[Speak, ...]) -> tuple[LiveCall, Applied]:
        """The live call after ``outcome`` (pure), and what its request answers: the
        call waits on a lookup this request claims, or the caller gets ``said`` and the
        outcome's actions (remembered as the answer to ``for_seq``)."""
        heard = said + tuple(a for a in outcome.actions[:-1] if isinstance(a, Speak))
        live = live.now_at(outcome.session, outcome.actions)
        lookup = outcome.lookup
        if lookup is not None:
            claim = LookupClaim(token, time.time() + lookup.timeout * 2 + 2.0, for_seq, heard)
            live = evolved(live, {"lookup_claim": claim, "answer": None})
            return live, Applied(live, [], outcome.flow, lookup=lookup)
        actions = list(said) + list(outcome.actions)
        start_stream = self._starts_stream(live, outcome.flow, actions)
        live = evolved(live, {"lookup_claim": None, "answer": Answer(for_seq, live.seq, heard),
                              "stream_gen": live.stream_gen + 1 if start_stream else live.stream_gen})
        return live, Applied(live, actions, outcome.flow, start_stream=start_stream)

    def _starts_stream(self, live: LiveCall, flow: Flow, actions: list[Action]) -> bool:
        language = live.session.language or flow.language
        return (not live.streaming and live.phase != "ended" and self.streams_speech(language)
                and any(isinstance(a, Listen) for a in actions) and live.stream_gen < MAX_STREAMS)

    def _finished(self, call_sid: str, applied: Applied, token: str, at: datetime,
                  call_ended: bool = False) -> Applied | None:
        """Perform the lookups this request claimed (outside any store update), then
        finish the call if it ended and tell the consoles."""
        result = self._looked_up(call_sid, applied, token, at)
        if result is None or result.stale:
            return result
        if result.session.phase == "ended" or call_ended:
            self.store.finish(call_sid, result.session.outcome or "ended")
            if self.call_ended is not None:
                self.call_ended(call_sid, result.flow, result.session, at)
        self.publish(result)
        if self.prompt_moved is not None and result.live.listening:
            self.prompt_moved(result)
        return result

    def _looked_up(self, call_sid: str, applied: Applied | None, token: str, at: datetime) -> Applied | None:
        while applied is not None and applied.lookup is not None:
            applied = self._with_result(call_sid, token, self._look_up(applied.lookup, at))
        return applied

    def _look_up(self, action: DataLookup, at: datetime) -> LookupResult:
        try:
            return self.lookup(action, at)
        except Exception as exc:  # the flow routes a broken back end; a bug here must not drop the call
            log.exception("lookup for node %s failed", action.node)
            return LookupResult(at, "error", detail=f"lookup failed: {type(exc).__name__}")

    def _with_result(self, call_sid: str, token: str, result: LookupResult) -> Applied | None:
        """Apply the result of the lookup this request claimed; if the claim was lost (the
        call ended meanwhile, or the lookup was taken over), where the call is instead."""
        applied: list[Applied] = []
        asked: list[int] = []  # the seq of the request the lookup answers

        def change(current: Stored | None) -> dict[str, Any] | None:
            applied.clear()
            live = LiveCall.of(current)
            claim = live.lookup_claim if live is not None else None
            if live is None or claim is None or claim.token != token:
                return None
            asked[:] = [claim.for_seq]
            outcome = advance(self.library, live.session, result)
            saved, decided = self._decided(replace(live, lookup_claim=None), outcome, claim.for_seq, token, claim.said)
            applied.append(decided)
            return saved.to_stored()

        self.store.update(call_sid, change)
        if applied:
            return applied[0]
        log.info("call %s: the call moved on during its lookup; answering with where it is", call_sid)
        return self._settled(call_sid, asked[0] if asked else None, result.at)

    # -- where a call is ----------------------------------------------------------------

    def _settled(self, call_sid: str, seq: int | None, at: datetime, at_seq: int | None = None) -> Applied | None:
        """Where the call is once no lookup is in flight for it, changing nothing; a
        lookup whose owner went quiet past its claim is taken over and performed here."""
        give_up = time.monotonic() + MAX_WAIT
        while True:
            live = LiveCall.load(self.store, call_sid)
            if live is None:
                return None
            claim = live.lookup_claim
            if claim is None and live.phase != "lookup":
                return self._where_it_is(live, seq, at, at_seq)
            if claim is not None and time.time() < claim.until and time.monotonic() < give_up:
                time.sleep(POLL)
                continue
            taken = self._take_over(call_sid, claim, at)
            if taken is not None:
                token, pending = taken
                applied = Applied(live, [], self.library.pinned(live.session.flow, live.session.flow_version),
                                  lookup=pending)
                return self._finished(call_sid, applied, token, at)
            if claim is None:  # in the lookup phase with nothing to look up: say what the engine says
                return self._where_it_is(live, seq, at, at_seq)
            time.sleep(POLL)  # someone else moved first: look again

    def _take_over(self, call_sid: str, seen: LookupClaim | None, at: datetime) -> tuple[str, DataLookup] | None:
        """Claim a lookup whose owner went quiet (or a call left in the lookup phase with
        no claim); None when someone else moved first."""
        token = secrets.token_hex(8)
        holder: dict[str, DataLookup] = {}

        def change(current: Stored | None) -> dict[str, Any] | None:
            holder.clear()
            live = LiveCall.of(current)
            if live is None or live.lookup_claim != seen or live.phase != "lookup":
                return None
            flow = self.library.pinned(live.session.flow, live.session.flow_version)
            _, actions = engine.resume(flow, live.session, at)
            lookup = actions[-1] if actions else None
            if not isinstance(lookup, DataLookup):
                return None
            for_seq, said = (seen.for_seq, seen.said) if seen is not None else (-1, ())
            holder["lookup"] = lookup
            claim = LookupClaim(token, time.time() + lookup.timeout * 2 + 2.0, for_seq, said)
            return replace(live, lookup_claim=claim).to_stored()

        self.store.update(call_sid, change)
        if "lookup" not in holder:
            return None
        log.warning("call %s: took over a lookup whose request went quiet", call_sid)
        return token, holder["lookup"]

    def _where_it_is(self, live: LiveCall, seq: int | None, at: datetime, at_seq: int | None = None) -> Applied:
        flow = self.library.pinned(live.session.flow, live.session.flow_version)
        _, actions = engine.resume(flow, live.session, at)
        actions = list(live.said_for(seq) or live.said_since(at_seq)) + list(actions)
        start_stream = self._starts_stream(live, flow, actions)
        if start_stream:  # decided here, before rendering: a stream that is not up starts again (streams.py)
            before, live = live.stream_gen, next_stream(self.store, live.call_sid) or live
            start_stream = not live.streaming and live.stream_gen > before
        return Applied(live, actions, flow, stale=True, start_stream=start_stream)


def call_card(flow: Flow, session: Session) -> dict[str, Any]:
    """What the agent console shows of a call: a summary, and the full context record
    while a person is being sought."""
    card: dict[str, Any] = {"call_sid": session.call_sid, "flow": session.flow, "node": session.node,
                            "phase": session.phase, "score": round(session.score, 2), "caller": session.caller,
                            "outcome": session.outcome, "reasons": [r.detail for r in session.reasons]}
    if session.phase == "transfer":
        node = flow.nodes.get(session.node)
        targets = getattr(node, "targets", ())
        index = session.transfer_attempt - 1
        context = build_context(flow, session)
        card.update(attempt=session.transfer_attempt, target=targets[index] if 0 <= index < len(targets) else "",
                    context=context, summary=summary(context))
    return card


def now() -> datetime:
    return datetime.now(UTC)
