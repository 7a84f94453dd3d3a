"""The call engine: ``step(flow, session, event) -> (session, actions)``.

Pure: no I/O, no clock, no Flask or Twilio. Every shell (webhooks, media socket,
simulator, tests) drives the same function.

Rules of this file:
* What may happen in which phase is the table ``_HANDLERS`` (phase x event type). An
  event a phase does not expect raises ``UnexpectedEvent`` naming both; shells answer a
  duplicate or stray webhook with ``resume`` (the current prompt again, nothing changed).
* The engine knows no node kind by name: it asks the node's kind (``KINDS.of(node)``)
  to enter, listen, interpret, or take the shell's answer (lookup, transfer, recording).
* Every step that leaves the call live ends with exactly one waiting action.
* At a prompt, the operator escape is checked first, then the node makes sense of the
  input, then the escalation detector scores the call; retries are bounded by the flow's
  retry policy, after which the caller goes to a person.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from ivr.escalation import assess, combine
from ivr.flows.nodes import KINDS, NodeKind
from ivr.flows.nodes.base import Handled, Heard, Matched, sorry
from ivr.model.actions import WAITING_ACTIONS, Action, Hangup, Record, Speak, Transfer
from ivr.model.context import MASK
from ivr.model.events import (
    CallEnded,
    CallStarted,
    DigitsPressed,
    Event,
    LookupResult,
    NoInput,
    RecordingDone,
    SpeechHeard,
    TransferResult,
)
from ivr.model.flow import Flow, Node
from ivr.model.messages import english
from ivr.model.phases import Phase, TransferStatus
from ivr.model.session import Session, Turn
from ivr.understanding.person import asks_for_person
from ivr.understanding.text import YES_NO_WORDS, normalize, yes_no

from . import memory as _memory
from . import survey as _survey
from .call import Call

__all__ = ["step", "resume", "enter_flow", "rescue", "UnexpectedEvent", "FlowLoop", "new_session"]

MAX_HOPS = 60
# Why callers are handed over stays in English for ops (console, reports, records); the
# whisper says it again in the agent's language (``ivr.model.context``).
OPERATOR_REASON = english().text("reason_asked")


class UnexpectedEvent(Exception):
    """An event the call's phase does not accept (e.g. keys while the call is ringing an agent)."""

    def __init__(self, phase: Phase | None, event: Event):
        self.phase, self.event = phase, event
        where = f"while the call is in phase '{phase}'" if phase is not None else "before the call started"
        super().__init__(f"{type(event).__name__} is not expected {where}")


class FlowLoop(Exception):
    """The flow went round without ever waiting for the caller (validation prevents this)."""


def new_session(flow: Flow, event: CallStarted) -> Session:
    return Session(call_sid=event.call_sid, flow=flow.name, flow_version=flow.version,
                   started_at=event.at.isoformat(), caller=event.caller, to=event.to, language=flow.language)


def step(flow: Flow, session: Session | None, event: Event) -> tuple[Session, list[Action]]:
    """Apply ``event`` to the call; return the new session and what the caller gets next."""
    if session is None:
        if not isinstance(event, CallStarted):
            raise UnexpectedEvent(None, event)
        session = new_session(flow, event)
    handler = _HANDLERS.get((_phase_group(session.phase), type(event)))
    if handler is None:
        raise UnexpectedEvent(session.phase, event)
    call = Call(flow, session.evolve(t=_elapsed(session, event.at)), event.at, _enter)
    looked_up = len(call.session.lookups)
    handler(call, event)
    _survey.offer_instead_of_hangup(call, session.phase)  # a served caller is asked to rate the call
    if len(call.session.lookups) > looked_up or call.session.phase is Phase.ENDED:
        _scrub_secrets(call)
    _check_ends_waiting(call)
    return call.session, call.actions


def _scrub_secrets(call: Call) -> None:
    """A secret answer (a PIN, a card number) lives only as long as the lookup that needs
    it: once a lookup has answered, and when the call ends, its value is masked."""
    secrets = call.flow.secrets
    slots = call.session.slots
    if any(name in slots and slots[name] != MASK for name in secrets):
        call.update(slots={k: (MASK if k in secrets else v) for k, v in slots.items()})
    if call.session.phase is Phase.ENDED and call.session.pending:
        call.update(pending="")


def enter_flow(flow: Flow, session: Session, at: datetime) -> tuple[Session, list[Action]]:
    """Continue a call in ``flow`` after a ``SwitchFlow`` (the shell re-pins the session)."""
    session = session.evolve(flow=flow.name, flow_version=flow.version, language=flow.language,
                             node="", phase=Phase.LISTENING, no_input=0, no_match=0)
    call = Call(flow, session.evolve(t=_elapsed(session, at)), at, _enter)
    profile = session.memory.get("profile") if session.memory else None
    if not _memory.greet(call, profile, at_start=False):  # a caller the line remembers, in this flow's words
        call.goto(flow.start)
    _check_ends_waiting(call)
    return call.session, call.actions


def rescue(flow: Flow, session: Session | None, event: Event,
           reason: str = english().text("reason_problem")) -> tuple[Session, list[Action]]:
    """Apologise and hand the caller to the flow's operator target (after a failure of
    the flow or of the shell); if even that cannot be done, apologise and hang up."""
    if session is None:
        if not isinstance(event, CallStarted):
            raise UnexpectedEvent(None, event)
        session = new_session(flow, event)
    call = Call(flow, session.evolve(phase=Phase.LISTENING), event.at, _enter)
    try:
        call.speak(call.message("apology"))
        call.escalate(reason, to=flow.operator.to)
        if isinstance(call.actions[-1], Transfer) or call.session.phase in (Phase.RECORDING, Phase.PROMISING):
            return call.session, call.actions
    except Exception:
        pass
    return (session.evolve(phase=Phase.ENDED, outcome="error"),
            [Speak(call.message("apology_goodbye"), language=call.language, voice=flow.voice), Hangup()])


def resume(flow: Flow, session: Session, at: datetime) -> tuple[Session, list[Action]]:
    """The current waiting action again, without changing anything that counts (for a
    duplicate or stray webhook)."""
    call = Call(flow, session, at, _enter)
    node = flow.nodes.get(session.node)
    phase = session.phase
    if phase in (Phase.LISTENING, Phase.CONFIRMING) and node is not None and node.listens:
        KINDS.of(node).listen(node, call, 0)
        _memory.offer_again(call)  # a returning caller's shortcut, while it is on offer
    elif phase is Phase.OFFERING:
        _offer(call)
    elif phase in (Phase.LOOKUP, Phase.TRANSFER) and node is not None:
        KINDS.of(node).resume(node, call)  # the same lookup again; the current transfer target again
    elif phase in (Phase.RECORDING, Phase.PROMISING) and node is not None:
        KINDS.of(node).resume(node, call)  # the node's own prompt and settings again
    elif phase is Phase.RECORDING:
        call.actions.append(Record(node=session.node))
    elif phase is Phase.SURVEY:
        _survey.resume(call)
    else:
        call.actions.append(Hangup())
    return session, call.actions


# --- handlers ------------------------------------------------------------------------

def _on_start(call: Call, event: CallStarted) -> None:
    flow = call.flow
    now = flow.hours.status(event.at) if flow.hours is not None else "open"
    if now == "holiday" and flow.holiday_start:
        _memory.greet(call, event.memory, at_start=True, open_line=False)  # the notice, the call in the profile
        call.goto(flow.holiday_start)
    elif now != "open" and flow.after_hours:
        _memory.greet(call, event.memory, at_start=True, open_line=False)
        call.goto(flow.after_hours)
    elif not _memory.greet(call, event.memory, at_start=True):  # a caller the line remembers
        call.goto(flow.start)


def _on_input(call: Call, event: DigitsPressed | SpeechHeard | NoInput) -> None:
    node = call.flow.nodes[call.session.node]
    kind = KINDS.of(node)
    operator = call.flow.operator
    heard: Heard | None = None
    if isinstance(event, DigitsPressed):
        heard = Heard("keys", event.digits.strip())
    elif isinstance(event, SpeechHeard):
        heard = Heard("speech", event.text.strip(), event.confidence)
        if not event.understood:  # spoke, but nothing this prompt expects: a misunderstanding
            call.update(shortcut={})  # an offered shortcut ends with the prompt that offered it
            turn = Turn(t=call.session.t, node=node.id, kind="speech", text=MASK if node.secrets() else heard.text,
                        confidence=event.confidence, loudness_dbfs=event.loudness_dbfs, duration=event.duration)
            if call.session.phase is Phase.OFFERING:
                _on_offer_answer(call, node, kind, Heard("speech", heard.text or "?", event.confidence), turn)
                return
            _record(call, turn, "no_match")
            _try_again(call, node, kind, no_input=False, why="speech not understood")
            return
        if not heard.text:
            heard = None  # an empty transcript is silence
    secret = bool(node.secrets())
    shown = "" if heard is None else (MASK if secret and heard.text else heard.text)  # keyed or spoken
    turn = Turn(t=call.session.t, node=node.id, kind=heard.kind if heard else "silence", text=shown,
                confidence=getattr(event, "confidence", 1.0), loudness_dbfs=getattr(event, "loudness_dbfs", None),
                duration=getattr(event, "duration", None))

    if call.session.phase is Phase.OFFERING:
        _on_offer_answer(call, node, kind, heard, turn)
        return
    if call.session.shortcut:  # a returning caller was offered their last topic
        taken = _memory.shortcut_answer(call, heard, turn)
        if taken is not None:
            _on_shortcut(call, node, kind, taken)
            return
    wants_person = heard is not None and not node.operator_off and (
        (heard.kind == "keys" and operator.digit and heard.text.rstrip("#") == operator.digit)
        or (heard.kind == "speech" and _asks_for_person(heard.text, operator.phrases)))
    if wants_person:
        _record(call, turn, "operator", "person")
        verdict = assess(call.flow.escalation, call.session)  # every step updates the score
        call.update(score=verdict.score, reasons=verdict.reasons)
        call.escalate(OPERATOR_REASON, to=operator.to)
        return
    if heard is None:
        _record(call, turn, "silence")
        _try_again(call, node, kind, no_input=True, why="")
        return
    understood = kind.interpret(node, call, heard)
    if isinstance(understood, Matched):
        _record(call, turn, "matched", understood.intent)
        call.update(slots={**call.session.slots, **understood.slots}, no_input=0, no_match=0,
                    **_memory.chose(call, understood.intent, understood.slots))
        if _escalated(call):
            return
        if understood.human:
            call.escalate(understood.human)
            return
        call.goto(understood.go)
    elif isinstance(understood, Handled):
        _record(call, turn, "matched", understood.intent)
        _escalated(call)
    else:
        _record(call, turn, understood.result)
        _try_again(call, node, kind, no_input=False, why=understood.why)


def _try_again(call: Call, node: Node, kind: NodeKind[Any], no_input: bool, why: str) -> None:
    """Count a silence or a misunderstanding; reprompt, or hand over once the flow's
    retry bound is passed (or the escalation detector says so first)."""
    if no_input:
        count, limit = call.session.no_input + 1, call.flow.retry.no_input
        call.update(no_input=count)
        reason = english().text("reason_no_response", count=count, node=node.id)
    else:
        count, limit = call.session.no_match + 1, call.flow.retry.no_match
        call.update(no_match=count)
        reason = english().text("reason_not_understood", count=count, node=node.id, why=why)
    if _escalated(call, retrying=count > limit):
        return
    if count > limit:
        call.escalate(reason, to=call.flow.retry.then)
        return
    kind.listen(node, call, _retries(call), sorry(call, no_input=no_input))


def _on_shortcut(call: Call, node: Node, kind: NodeKind[Any], taken: dict[str, Any]) -> None:
    """The caller took (``taken``) or declined (``{}``) the shortcut to their last topic."""
    if not taken:
        kind.listen(node, call, 0)  # the menu, as any caller hears it
        return
    call.update(topic=taken["topic"], slots={**call.session.slots, **taken.get("slots", {})}, no_input=0, no_match=0,
                **_memory.chose(call, "", taken.get("slots", {})))
    if _escalated(call):
        return
    call.goto(taken["go"])


def _on_offer_answer(call: Call, node: Node, kind: NodeKind[Any], heard: Heard | None, turn: Turn) -> None:
    answer = None
    if heard is not None:
        answer = {"1": True, "2": False}.get(heard.text) if heard.kind == "keys" else yes_no(heard.text)
        if heard.kind == "speech" and answer is None and _asks_for_person(heard.text, call.flow.operator.phrases):
            answer = True
        if heard.kind == "keys" and answer is None and call.flow.operator.digit \
                and heard.text.rstrip("#") == call.flow.operator.digit:
            answer = True  # the operator key works at this prompt too
    _record(call, turn, "matched" if answer is not None else ("silence" if heard is None else "no_match"),
            "offer accepted" if answer else "offer declined" if answer is False else "")
    if answer:
        call.escalate(_reason_text(call), to=call.flow.escalation.to)
        return
    if answer is None and call.session.no_match + call.session.no_input >= 1:
        call.escalate(_reason_text(call) + "; no answer to the offer of a person", to=call.flow.escalation.to)
        return
    if answer is None:
        call.update(no_match=call.session.no_match + 1)
        _offer(call)
        return
    call.update(phase=Phase.LISTENING, offered=True, no_input=0, no_match=0)
    kind.listen(node, call, 0, "")
    call.actions.insert(0, _speak(call, call.message("keep_going")))


def _on_lookup(call: Call, event: LookupResult) -> None:
    node = call.flow.nodes[call.session.node]
    outcome = event.outcome if event.outcome in ("found", "not_found") else "error"
    KINDS.of(node).on_lookup(node, call, outcome, event.data, event.detail)


def _on_transfer(call: Call, event: TransferResult) -> None:
    node = call.flow.nodes[call.session.node]
    KINDS.of(node).on_transfer(node, call, TransferStatus.read(event.status), event.target)


def _on_connected_end(call: Call, event: TransferResult) -> None:
    """The agent's leg after the agent took the call: the conversation is over; or the
    leg never reached the caller (taken on the console, then the phone went unanswered
    or hung up before joining): the attempt failed after all and the search goes on."""
    status = TransferStatus.read(event.status)
    if status is TransferStatus.ANSWERED:
        return  # the same taking, told twice
    if status is TransferStatus.COMPLETED:
        call.update(phase=Phase.ENDED)
        call.actions.append(Hangup())
        return
    node = call.flow.nodes[call.session.node]
    call.update(phase=Phase.TRANSFER, outcome="")
    KINDS.of(node).on_transfer(node, call, status, event.target)


def _on_promise_heard(call: Call, event: DigitsPressed | SpeechHeard | NoInput) -> None:
    node = call.flow.nodes[call.session.node]
    KINDS.of(node).on_heard(node, call)


def _on_recording(call: Call, event: RecordingDone) -> None:
    node = call.flow.nodes[call.session.node]
    KINDS.of(node).on_recording(node, call, event.url, event.duration)


def _on_late_recording(call: Call, event: RecordingDone) -> None:
    if call.session.survey.get("csat") is not None:  # the survey's comment, the caller gone meanwhile
        _survey.on_late_comment(call, event)
        return
    call.update(recording={"url": event.url, "duration": event.duration},
                outcome="voicemail" if event.url else call.session.outcome)


def _on_end(call: Call, event: CallEnded) -> None:
    if call.session.phase is Phase.CONNECTED:
        _survey.hung_up_on_agent(call)
    outcome = call.session.outcome
    if not outcome:
        outcome = "abandoned_on_hold" if call.session.phase is Phase.TRANSFER else "abandoned"
    call.update(phase=Phase.ENDED, outcome=outcome)


# --- helpers -------------------------------------------------------------------------

def _enter(call: Call, node_id: str) -> None:
    call.hops += 1
    if call.hops > MAX_HOPS:
        raise FlowLoop(f"flow '{call.flow.name}' went through {MAX_HOPS} nodes without waiting for the caller")
    node = call.flow.nodes[node_id]
    call.update(node=node_id, path=(*call.session.path, node_id), no_input=0, no_match=0, pending="",
                phase=Phase.LISTENING)
    KINDS.of(node).enter(node, call)  # a listening kind asks its question


def _asks_for_person(text: str, phrases: tuple[str, ...]) -> bool:
    """The operator escape by voice. ``asks_for_person`` knows English requests; an
    operator phrase said as it is written counts in any language (e.g. "상담원")."""
    if asks_for_person(text, phrases):
        return True
    said = f" {normalize(text)} "
    return any(p and (said.strip() == p or (not p.isascii() and f" {p} " in said))
               for p in (normalize(x) for x in phrases))


def _retries(call: Call) -> int:
    """How many tries at this prompt have failed, silent or not: each reprompt gives more
    direction than the one before, whatever went wrong."""
    return call.session.no_input + call.session.no_match


def _record(call: Call, turn: Turn, result: str, intent: str = "") -> None:
    call.update(turns=(*call.session.turns, Turn(**{**turn.__dict__, "result": result, "intent": intent})))


# Who decides when a caller keeps failing at a prompt (silence, not understood):
#   1. a request for a person or a topic that needs one: the detector, at once, to
#      ``escalation.to`` (else ``operator.to``);
#   2. the detector's score over the threshold (at or before the retry bound): in
#      ``offer`` mode it offers a person; in ``transfer`` mode it hands the caller over, to
#      ``escalation.to`` when other signs (words, loudness, repeats...) reach the
#      threshold on their own, and to ``retry.then`` when the failures themselves tipped
#      the score: failing at prompts is what ``retry.then`` is for;
#   3. the retry bound passed and the detector silent: ``retry.then``, with the retry's
#      reason.
RETRY_SIGNALS = frozenset({"no_input", "no_match"})


def _escalated(call: Call, retrying: bool | None = None) -> bool:
    """Score the call; hand it to a person (or offer to) when the detector says so.
    ``retrying`` (not None): the step is a failed try at a prompt, so a hand-over the
    failures tipped goes to ``retry.then`` (True once the retry bound is passed)."""
    settings = call.flow.escalation
    here = call.flow.nodes.get(call.session.node)
    if here is not None and here.operator_off:
        # the node opted out of the operator escape: its "0" or "agent" is an answer there
        settings = replace(settings, weights={**settings.weights, "explicit_request": 0.0})
    verdict = assess(settings, call.session)
    call.update(score=verdict.score, reasons=verdict.reasons)
    score = verdict.score
    if not (verdict.immediate or score >= settings.threshold):
        return False
    if call.session.offered and not verdict.immediate and score < min(1.0, settings.threshold + 0.2):
        return False
    others = combine([r.weight for r in verdict.reasons if r.signal not in RETRY_SIGNALS])
    to = settings.to
    if retrying is not None and not verdict.immediate and others < settings.threshold and call.flow.retry.then:
        to = call.flow.retry.then  # the failures tipped it: the flow's answer to failing
    call.actions.clear()
    if settings.mode == "offer" and not verdict.immediate and not call.session.offered:
        call.update(no_input=0, no_match=0)  # the offer is a new question: one re-ask before a person
        _offer(call)
        return True
    reason = english().text("reason_topic", topic=verdict.topic) if verdict.topic else _reason_text(call)
    call.escalate(reason, to=to)
    return True


def _reason_text(call: Call) -> str:
    top = sorted(call.session.reasons, key=lambda r: -r.weight)[:2]
    return "; ".join(r.detail for r in top) or english().text("reason_seems_to_need")


def _offer(call: Call) -> None:
    call.update(phase=Phase.OFFERING)
    call.listen(call.session.node, [call.message("offer_person")],
                YES_NO_WORDS.get(call.language.split("-")[0], ("yes", "no")), max_digits=1, finish_on_key="")


def _survey_person(call: Call) -> Callable[[str], bool]:
    """The operator escape by voice, as the survey hears it."""
    return lambda text: _asks_for_person(text, call.flow.operator.phrases)


def _speak(call: Call, text: str) -> Speak:
    return Speak(text=text, language=call.language, voice=call.flow.voice)


def _elapsed(session: Session, at: datetime) -> float:
    try:
        return max((at - datetime.fromisoformat(session.started_at)).total_seconds(), session.t)
    except (TypeError, ValueError):
        return session.t


def _phase_group(phase: Phase) -> Phase:
    """Confirming a value and answering an offer are prompts too: one row of the table."""
    return Phase.LISTENING if phase.at_prompt else phase


def _check_ends_waiting(call: Call) -> None:
    if call.session.phase in (Phase.ENDED, Phase.CONNECTED) and (not call.actions or isinstance(call.actions[-1], Hangup)):
        return
    if not call.actions or not isinstance(call.actions[-1], WAITING_ACTIONS):
        raise AssertionError(f"step left the call without a next step at '{call.session.node}': {call.actions}")
    if sum(isinstance(a, WAITING_ACTIONS) for a in call.actions) != 1:
        raise AssertionError(f"step produced more than one waiting action: {call.actions}")


# (phase, event type) -> what the engine does. Confirming a read-back and answering an
# offer are prompts: they use the LISTENING rows (see _phase_group). A pair that is not
# here raises UnexpectedEvent naming the phase and the event.
Handler = Callable[[Call, Any], None]  # receives the event type of its row
_HANDLERS: dict[tuple[Phase, type], Handler] = {
    (Phase.NEW, CallStarted): _on_start,
    (Phase.LISTENING, DigitsPressed): _on_input,
    (Phase.LISTENING, SpeechHeard): _on_input,
    (Phase.LISTENING, NoInput): _on_input,
    (Phase.LISTENING, CallEnded): _on_end,
    (Phase.LOOKUP, LookupResult): _on_lookup,
    (Phase.LOOKUP, CallEnded): _on_end,
    (Phase.TRANSFER, TransferResult): _on_transfer,
    (Phase.TRANSFER, CallEnded): _on_end,
    (Phase.CONNECTED, TransferResult): _on_connected_end,
    (Phase.CONNECTED, CallEnded): _on_end,
    (Phase.RECORDING, RecordingDone): _on_recording,
    (Phase.RECORDING, CallEnded): _on_end,
    (Phase.PROMISING, DigitsPressed): _on_promise_heard,
    (Phase.PROMISING, SpeechHeard): _on_promise_heard,
    (Phase.PROMISING, NoInput): _on_promise_heard,
    (Phase.PROMISING, CallEnded): _on_end,
    (Phase.SURVEY, DigitsPressed): lambda call, event: _survey.on_answer(call, event, _survey_person(call)),
    (Phase.SURVEY, SpeechHeard): lambda call, event: _survey.on_answer(call, event, _survey_person(call)),
    (Phase.SURVEY, NoInput): lambda call, event: _survey.on_answer(call, event, _survey_person(call)),
    (Phase.SURVEY, RecordingDone): _survey.on_comment,
    (Phase.SURVEY, CallEnded): _survey.on_end,
    (Phase.ENDED, CallEnded): lambda call, event: None,
    (Phase.ENDED, RecordingDone): _on_late_recording,
}

