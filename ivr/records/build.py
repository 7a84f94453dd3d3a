"""Building a call's durable record from what the engine kept: ``build_record``.

When a call ends, the shell holds the finished ``Session``, the call's event log (the
dicts of ``ivr.web.line.event_record``) and the moment it ended. ``build_record`` turns
them into one ``CallRecord``; it is pure (no I/O, no clock), so the same call always
gives the same record.

Rules of this file (how times are put on the path):
* The session's ``path`` lists the nodes entered, in order, but not when. Every node is
  entered by the step of some event, and the call then waits at a node that listens, a
  lookup over HTTP or a transfer. The "moves" that leave such a node are known with their
  times: each turn (at its node), each ``LookupResult`` in the log (at the next HTTP
  lookup node on the path), each transfer attempt's result (at the next transfer node),
  and an input in the log that left no turn: the step failed and the call was rescued
  (``engine.rescue``) from the node just before the next transfer node on the path.
* Walking the moves in time order, the nodes between the current position and the move's
  node were entered at the time of the previous move (the call's start for the first).
  A move whose node is not found further on stays at the current position (a reprompt).
* Time spent at a node runs to the next node's entry, and the last node's to the end of
  the call. Silences and misunderstandings count at the position of their turn.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ivr.model.flow import Flow
from ivr.model.session import Session

from .record import CallRecord, NodeVisit, TransferAttempt, public_reason, reason_kind

__all__ = ["build_record"]

_NO_INPUT = frozenset({"silence"})
_NO_MATCH = frozenset({"no_match", "invalid"})


def build_record(flow: Flow, session: Session, events: Sequence[Mapping[str, Any]], ended_at: datetime) -> CallRecord:
    """The durable record of a finished call.

    ``flow`` is the flow (and version) the call was pinned to; ``events`` the call's
    event log, oldest first; ``ended_at`` an aware datetime (when the call ended)."""
    started = _utc(datetime.fromisoformat(session.started_at))
    ended = max(_utc(ended_at), started)
    end_s = (ended - started).total_seconds()
    path = _timed_path(flow, session, events, started, end_s)
    transfers, first_transfer_s = _attempts(flow, session, path, end_s)
    answered = next((a for a in transfers if a.accepted), None)
    hold_s = None
    if first_transfer_s is not None:
        until = answered.ended_s if answered else (end_s if session.outcome == "abandoned_on_hold"
                                                   else max((a.ended_s for a in transfers), default=end_s))
        hold_s = round(max(until - first_transfer_s, 0.0), 3)
    details = [r.detail for r in session.reasons]
    kind = reason_kind(session.transfer_reason, details)
    return CallRecord(
        call_sid=session.call_sid, flow=session.flow, flow_version=session.flow_version,
        caller=session.caller, dialled=session.to, started_at=started, ended_at=ended,
        language=session.language or flow.language, outcome=session.outcome or "abandoned",
        path=path, transfers=transfers, transfer_kind=kind,
        transfer_reason=_kept_reason(session, kind),
        hold_s=hold_s, answered_by=answered.agent if answered else None,
        score=round(float(session.score), 4), signals=tuple((r.signal, round(float(r.weight), 4)) for r in session.reasons),
        turns=len(session.turns), verified=session.verified, slots_filled=tuple(sorted(session.slots)),
        **_after_the_call(session, events))


def _after_the_call(session: Session, events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The survey's answers (never what the caller said: the rating, how the survey
    ended, the comment's recording) and the agent's last wrap-up in the event log."""
    out: dict[str, Any] = {}
    survey = session.survey
    if survey:
        rating = survey.get("csat")
        out["csat"] = int(rating) if isinstance(rating, int) and 1 <= rating <= 5 else None
        kept = {k: survey[k] for k in ("after", "status", "csat") if survey.get(k) is not None}
        comment = survey.get("comment")
        if isinstance(comment, Mapping) and comment.get("url"):
            kept["comment"] = {"url": str(comment["url"]), "duration": float(comment.get("duration") or 0.0)}
        out["survey"] = kept
    wrap_up = next((e for e in reversed(events) if e.get("type") == "WrapUp"), None)
    if wrap_up is not None:
        out.update(disposition=str(wrap_up.get("code", ""))[:64] or None, disposition_by=str(wrap_up.get("by", ""))[:120],
                   needed_person=bool(wrap_up.get("needed_person")),
                   disposition_at=_utc(datetime.fromisoformat(str(wrap_up["at"]))) if wrap_up.get("at") else None)
    return out


def _kept_reason(session: Session, kind: str | None) -> str | None:
    """The reason sentence as kept. The detector's sentences quote the caller, so for
    its transfers only the names of its two strongest signals are kept."""
    if kind is None:
        return None
    if kind == "escalated" and not session.transfer_reason.startswith("Caller raised "):
        top = sorted(session.reasons, key=lambda r: -r.weight)[:2]
        return "Escalation detector: " + (", ".join(r.signal for r in top) or "score over the threshold")
    return public_reason(session.transfer_reason)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _is(flow: Flow, node_id: str, kind: str) -> bool:
    node = flow.nodes.get(node_id)
    if node is None or node.kind != kind:
        return False
    return kind != "lookup" or bool(getattr(node, "url", ""))


_INPUTS = frozenset({"DigitsPressed", "SpeechHeard", "NoInput"})


def _moves(session: Session, events: Sequence[Mapping[str, Any]], started: datetime) -> list[tuple[float, int, str, str]]:
    """(seconds, order at equal times, what kind of node it leaves, node id or "") in time order."""
    moves = [(float(t.t), 0, "turn", t.node) for t in session.turns]
    unturned = Counter(round(float(t.t), 3) for t in session.turns)
    survey_from = session.survey.get("from_t")  # the survey's answers are not moves through the flow
    for event in events:
        kind = event.get("type")
        if (kind not in _INPUTS and kind != "LookupResult") or not event.get("at"):
            continue
        at = (_utc(datetime.fromisoformat(str(event["at"]))) - started).total_seconds()
        if kind in _INPUTS and survey_from is not None and at >= float(survey_from) - 0.0005:
            continue
        if kind == "LookupResult":
            moves.append((at, 1, "lookup", ""))
        elif unturned[round(at, 3)] > 0:
            unturned[round(at, 3)] -= 1  # the input of a turn: already a move
        else:
            moves.append((at, 1, "rescue", ""))  # input the call failed on: rescued, off to a person
    moves.extend((float(a.get("t", 0.0)), 2, "transfer", "") for a in session.transfers)
    return sorted(moves, key=lambda m: (m[0], m[1]))


def _timed_path(flow: Flow, session: Session, events: Sequence[Mapping[str, Any]], started: datetime,
                end_s: float) -> tuple[NodeVisit, ...]:
    path = list(session.path)
    if not path:
        return ()
    entered = [0.0] * len(path)
    no_input = [0] * len(path)
    no_match = [0] * len(path)
    turns = iter(session.turns)
    here, last = 0, 0.0
    for at, _, what, node in _moves(session, events, started):
        if what == "rescue":  # it leaves the node just before the transfer node it went to
            target = next((i - 1 for i in range(here + 1, len(path)) if _is(flow, path[i], "transfer")), here)
        else:
            target = next((i for i in range(here, len(path))
                           if (path[i] == node if what == "turn" else _is(flow, path[i], what))), here)
        for i in range(here + 1, target + 1):
            entered[i] = last
        here, last = target, max(at, last)
        if what == "turn":
            result = next(turns).result
            no_input[here] += result in _NO_INPUT
            no_match[here] += result in _NO_MATCH
    for i in range(here + 1, len(path)):
        entered[i] = last
    ends = entered[1:] + [max(end_s, last)]
    return tuple(NodeVisit(node, round(entered[i], 3), round(max(ends[i] - entered[i], 0.0), 3), no_input[i], no_match[i])
                 for i, node in enumerate(path))


def _attempts(flow: Flow, session: Session, path: tuple[NodeVisit, ...],
              end_s: float) -> tuple[tuple[TransferAttempt, ...], float | None]:
    """Every agent rung, and when the caller first started holding (None: never)."""
    visits = [v for v in path if _is(flow, v.node, "transfer")]
    if not visits:
        return (), None
    attempts: list[TransferAttempt] = []
    of_visit: list[int] = []  # the transfer node visit each attempt belongs to
    for result in session.transfers:
        if result.get("status") == "unavailable":  # an agent pool with nobody free: nobody was rung
            continue
        at = float(result.get("t", 0.0))
        visit = max((i for i, v in enumerate(visits) if v.entered_s <= at), default=0)
        begun = attempts[-1].ended_s if of_visit and of_visit[-1] == visit else visits[visit].entered_s
        attempts.append(TransferAttempt(str(result.get("target", "")), str(result.get("status", "")),
                                        round(begun, 3), round(at, 3)))
        of_visit.append(visit)
    if session.outcome == "abandoned_on_hold":  # the caller left while an agent was being rung
        last = len(visits) - 1
        targets: Sequence[str] = getattr(flow.nodes.get(visits[last].node), "targets", ())
        done = of_visit.count(last)
        if done < session.transfer_attempt <= len(targets):
            begun = attempts[-1].ended_s if done else visits[last].entered_s
            attempts.append(TransferAttempt(targets[session.transfer_attempt - 1], "caller_hung_up",
                                            round(begun, 3), round(end_s, 3)))
    return tuple(attempts), visits[0].entered_s
