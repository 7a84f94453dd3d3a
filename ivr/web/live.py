"""``LiveCall``: what the web shells keep in the store for one call that is going on.

The engine's session is the call as the caller lives it; a live call adds what the
shells around it need between two requests: how many prompt answers were applied
(``seq``), the media stream's secret and whether it was started, what our recogniser
heard and the prompt it answers, what the recogniser should expect now, the agent leg
being rung and whether an agent passed on the console, a lookup in flight, and what the
last answered request heard (so that Twilio's retry of it hears the same).

Rules of this file:
* A live call is stored as one JSON dict (``to_stored`` / ``from_stored``). The dict
  also carries the summary fields the store indexes for listings (flow, node, phase,
  score, caller, outcome: ``ivr.store.base.SUMMARY_FIELDS``), always taken from the
  session. Keys this version does not know are kept as they are (``other``), so hosts of
  two versions can share a store during an upgrade.
* Nothing here performs I/O except ``load`` and ``mark`` (one store read; one store
  update whose change function is pure, as ``SessionStore.update`` demands).
"""
from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ivr.model.actions import Action, Listen, Speak
from ivr.model.plain import evolved
from ivr.model.session import Session
from ivr.store import SessionStore, Stored

__all__ = ["Answer", "HeardSpeech", "LiveCall", "LookupClaim"]

_KNOWN = {"session", "seq", "stream_secret", "streaming", "stream_gen", "stream_socket", "pending_speech",
          "listen_phrases", "listening",
          "declined_attempt", "agent_leg", "agent_attempt", "agent_answered", "agent_joined", "off_hold_seq",
          "off_hold_at", "ended_status", "lookup_claim", "answer",
          "flow", "node", "phase", "score", "caller", "outcome"}


@dataclass(frozen=True)
class HeardSpeech:
    """What our own recogniser heard the caller say, waiting to be applied to the prompt
    rendered at ``seq`` (the media socket saves it; the step webhook applies it).
    ``rejected``: the caller spoke but said none of the prompt's answers (a no-match)."""

    text: str
    confidence: float = 1.0
    loudness_dbfs: float | None = None
    duration: float | None = None
    seq: int | None = None
    rejected: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "confidence": self.confidence, "loudness_dbfs": self.loudness_dbfs,
                "duration": self.duration, "seq": self.seq, "rejected": self.rejected}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HeardSpeech:
        seq, confidence = data.get("seq"), _number(data.get("confidence"))
        return cls(str(data.get("text", "")), 1.0 if confidence is None else confidence,
                   _number(data.get("loudness_dbfs")),
                   _number(data.get("duration")), seq if isinstance(seq, int) else None,
                   bool(data.get("rejected")))


@dataclass(frozen=True)
class LookupClaim:
    """A data lookup one request is performing for the call right now.

    ``token`` names that request; ``until`` (Unix seconds) is when another request may
    take the lookup over (its owner is presumed gone); ``for_seq`` is the ``seq`` of the
    request it answers and ``said`` what that request's caller hears before the result."""

    token: str
    until: float
    for_seq: int
    said: tuple[Speak, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"token": self.token, "until": self.until, "for_seq": self.for_seq,
                "said": [_speak_dict(s) for s in self.said]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LookupClaim:
        return cls(str(data.get("token", "")), float(data.get("until") or 0.0), int(data.get("for_seq") or 0),
                   tuple(_speak_of(s) for s in data.get("said") or ()))


@dataclass(frozen=True)
class Answer:
    """What the request with ``seq == for_seq`` heard before its waiting action, while
    the call is still at ``at_seq``: a retry of that request hears it again."""

    for_seq: int
    at_seq: int
    said: tuple[Speak, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"for_seq": self.for_seq, "at_seq": self.at_seq, "said": [_speak_dict(s) for s in self.said]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Answer:
        return cls(int(data.get("for_seq") or 0), int(data.get("at_seq") or 0),
                   tuple(_speak_of(s) for s in data.get("said") or ()))


@dataclass(frozen=True)
class LiveCall:
    """One call that is going on, as the web shells keep it (see the module's rules)."""

    session: Session
    seq: int = 1  # prompt answers applied so far, plus one; every Gather action URL carries it
    stream_secret: str = ""  # the media stream of this call must present it
    streaming: bool = False  # the media stream is up: its socket sent its start and is open (streams.py)
    stream_gen: int = 0  # the number of the newest media stream a prompt started
    stream_socket: str = ""  # the socket that feeds our recogniser while the stream is up
    pending_speech: HeardSpeech | None = None
    listen_phrases: tuple[str, ...] = ()  # what the recogniser should expect now
    listening: bool = False  # the call waits at a prompt
    declined_attempt: str = ""  # the transfer attempt an agent passed on at the console
    agent_leg: str = ""  # the call sid of the agent leg being rung (warm transfer)
    agent_attempt: int = 0  # the transfer attempt that leg belongs to
    agent_answered: bool = False  # the agent's phone picked up (its whisper was fetched): end it, never cancel it
    agent_joined: bool = False  # the agent's phone was sent into the caller's conference
    off_hold_seq: int = 0  # the caller must be taken off hold to where the call is at this seq
    off_hold_at: float = 0.0  # when that redirect was last asked of Twilio (Unix seconds)
    ended_status: str = ""  # Twilio's final CallStatus, once the call is over
    lookup_claim: LookupClaim | None = None
    answer: Answer | None = None
    other: Mapping[str, Any] = field(default_factory=dict)

    # -- the store ------------------------------------------------------------------------

    @classmethod
    def load(cls, store: SessionStore, call_sid: str) -> LiveCall | None:
        """The live call ``call_sid`` from the store; None when the line does not know it."""
        if not call_sid:
            return None
        return cls.of(store.load(call_sid))

    @classmethod
    def of(cls, stored: Stored | None) -> LiveCall | None:
        """The live call in what a store returned (None for nothing or a foreign record)."""
        if stored is None or not isinstance(stored.data.get("session"), dict):
            return None
        return cls.from_stored(stored.data)

    @classmethod
    def mark(cls, store: SessionStore, call_sid: str, **fields: Any) -> LiveCall | None:
        """Set ``fields`` (names of this class, not the session) on the stored call, in
        one versioned update; None when the call is unknown."""
        saved = store.update(call_sid, lambda current: None if (live := cls.of(current)) is None
                             else replace(live, **fields).to_stored())
        return cls.of(saved)

    # -- the stored dict ------------------------------------------------------------------

    @classmethod
    def from_stored(cls, data: Mapping[str, Any]) -> LiveCall:
        pending, claim, answer = data.get("pending_speech"), data.get("lookup_claim"), data.get("answer")
        return cls(
            session=Session.from_dict(data["session"]),
            seq=int(data.get("seq") or 0),
            stream_secret=str(data.get("stream_secret") or ""),
            streaming=bool(data.get("streaming")),
            stream_gen=int(data.get("stream_gen") or 0),
            stream_socket=str(data.get("stream_socket") or ""),
            pending_speech=HeardSpeech.from_dict(pending) if isinstance(pending, dict) else None,
            listen_phrases=tuple(str(p) for p in data.get("listen_phrases") or ()),
            listening=bool(data.get("listening")),
            declined_attempt=str(data.get("declined_attempt") or ""),
            agent_leg=str(data.get("agent_leg") or ""),
            agent_attempt=int(data.get("agent_attempt") or 0),
            agent_answered=bool(data.get("agent_answered")),
            agent_joined=bool(data.get("agent_joined")),
            off_hold_seq=int(data.get("off_hold_seq") or 0),
            off_hold_at=float(data.get("off_hold_at") or 0.0),
            ended_status=str(data.get("ended_status") or ""),
            lookup_claim=LookupClaim.from_dict(claim) if isinstance(claim, dict) else None,
            answer=Answer.from_dict(answer) if isinstance(answer, dict) else None,
            other={k: v for k, v in data.items() if k not in _KNOWN},
        )

    def to_stored(self) -> dict[str, Any]:
        """The dict a store keeps (empty optional fields left out), with the summary."""
        session = self.session
        data: dict[str, Any] = {
            **self.other,
            "session": session.to_dict(), "seq": self.seq, "stream_secret": self.stream_secret,
            "streaming": self.streaming, "listen_phrases": list(self.listen_phrases), "listening": self.listening,
            "flow": session.flow, "node": session.node, "phase": str(session.phase), "score": session.score,
            "caller": session.caller, "outcome": session.outcome,
        }
        optional: dict[str, Any] = {
            "pending_speech": self.pending_speech.to_dict() if self.pending_speech else None,
            "declined_attempt": self.declined_attempt, "agent_leg": self.agent_leg,
            "agent_attempt": self.agent_attempt, "agent_answered": self.agent_answered,
            "agent_joined": self.agent_joined,
            "off_hold_seq": self.off_hold_seq, "off_hold_at": self.off_hold_at,
            "stream_gen": self.stream_gen, "stream_socket": self.stream_socket,
            "ended_status": self.ended_status,
            "lookup_claim": self.lookup_claim.to_dict() if self.lookup_claim else None,
            "answer": self.answer.to_dict() if self.answer else None,
        }
        data.update({key: value for key, value in optional.items() if value})
        return data

    # -- what the shells ask of a live call -----------------------------------------------

    @classmethod
    def new(cls, session: Session, actions: list[Action]) -> LiveCall:
        """A call that just reached the line, with a fresh media-stream secret."""
        return cls(session, seq=1, stream_secret=secrets.token_urlsafe(18)).now_at(session, actions)

    def now_at(self, session: Session, actions: list[Action]) -> LiveCall:
        """This call with the engine's new session, and what the recogniser should expect
        for the prompt in ``actions`` (none when the call does not wait at a prompt)."""
        listen = next((a for a in actions if isinstance(a, Listen)), None)
        return evolved(self, {"session": session, "listen_phrases": tuple(listen.phrases) if listen else (),
                              "listening": listen is not None})

    @property
    def call_sid(self) -> str:
        return self.session.call_sid

    @property
    def phase(self) -> str:
        return str(self.session.phase)

    def is_attempt_live(self, attempt: object) -> bool:
        """Whether transfer attempt ``attempt`` (a number, or the text of a URL's
        ``attempt``) is the one the caller is waiting on now."""
        return self.phase == "transfer" and str(self.session.transfer_attempt) == str(attempt)

    def taken_on(self, attempt: object) -> bool:
        """Whether an agent took the call on transfer attempt ``attempt`` (by whisper key
        or console button), whether or not their phone has joined the caller yet."""
        return self.phase == "connected" and str(self.session.transfer_attempt) == str(attempt)

    def was_declined(self, attempt: object) -> bool:
        """Whether an agent passed on transfer attempt ``attempt`` at the console."""
        return bool(self.declined_attempt) and self.declined_attempt == str(attempt)

    def said_for(self, seq: int | None) -> tuple[Speak, ...]:
        """What the request with ``seq`` heard before its waiting action, if the call has
        not moved on since: Twilio's retry of that request hears it again."""
        answer = self.answer
        if seq is None or answer is None or answer.for_seq != seq or answer.at_seq != self.seq:
            return ()
        return answer.said

    def said_since(self, at_seq: int | None) -> tuple[Speak, ...]:
        """What the step that brought the call to ``at_seq`` said, if the call is still
        there: a caller redirected out of the hold conference hears it."""
        answer = self.answer
        if at_seq is None or answer is None or answer.at_seq != at_seq or self.seq != at_seq:
            return ()
        return answer.said


def _speak_dict(speak: Speak) -> dict[str, Any]:
    return {"text": speak.text, "audio": speak.audio, "language": speak.language, "voice": speak.voice}


def _speak_of(data: Any) -> Speak:
    data = data if isinstance(data, dict) else {}
    audio = data.get("audio")
    return Speak(str(data.get("text") or ""), str(audio) if audio else None, str(data.get("language") or "en-US"),
                 str(data.get("voice") or ""))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)
