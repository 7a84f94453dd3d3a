"""What happens to a call: the closed set of events the engine accepts.

Events are small frozen dataclasses, named as nouns of the caller's world. Every event
carries the moment it happened (``at``, an aware UTC datetime) because the engine never
reads a clock. Shells (webhooks, media socket, simulator) build events; the engine only
reads them.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class CallStarted:
    """A call reached the line. ``to`` is the dialled number, ``caller`` the caller's.
    ``memory``: the caller's profile as the records hold it (``ivr.model.memory``), or
    None when this call has no memory (not opted in, number withheld, records down)."""

    at: datetime
    call_sid: str
    caller: str = ""
    to: str = ""
    caller_name: str = ""
    memory: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class DigitsPressed:
    """Keys the caller pressed at a prompt (``#`` and ``*`` included as typed)."""

    at: datetime
    digits: str


@dataclass(frozen=True)
class SpeechHeard:
    """A final recognition result for one utterance.

    ``confidence`` is 0..1 (1.0 when the recogniser gives none); ``loudness_dbfs`` is the
    utterance's RMS level in dBFS (None when no audio was measured, e.g. Twilio's own
    recogniser); ``duration`` is seconds of speech (None when unknown). ``understood``
    is False when our recogniser heard speech it rejects (words outside the prompt's
    grammar, or too unsure): a misunderstanding, never silence.
    """

    at: datetime
    text: str
    confidence: float = 1.0
    loudness_dbfs: float | None = None
    duration: float | None = None
    understood: bool = True  # False: the caller spoke, but not in words this prompt expects


@dataclass(frozen=True)
class NoInput:
    """The prompt finished and the caller said and pressed nothing."""

    at: datetime


@dataclass(frozen=True)
class LookupResult:
    """The answer to a ``DataLookup`` action the shell performed.

    ``outcome`` is ``found``, ``not_found`` or ``error``; ``data`` is the JSON object
    returned (for ``found``); ``detail`` says what went wrong (for ``error``).
    """

    at: datetime
    outcome: str
    data: Mapping[str, Any] = field(default_factory=dict)
    detail: str = ""


@dataclass(frozen=True)
class TransferResult:
    """How one transfer attempt ended.

    ``status`` is a ``TransferStatus`` word, as the shell heard it from Twilio:
    ``answered`` (the agent took the call), ``declined``, ``busy``, ``no-answer``,
    ``failed`` or ``canceled``, or ``completed`` once a connected call with the agent is
    over; ``target`` the target that was tried. The engine reads it with
    ``TransferStatus.read``.
    """

    at: datetime
    status: str
    target: str = ""


@dataclass(frozen=True)
class RecordingDone:
    """A voicemail recording finished (``url`` empty when nothing was recorded)."""

    at: datetime
    url: str = ""
    duration: float = 0.0


@dataclass(frozen=True)
class CallEnded:
    """The call is over (the caller hung up, or Twilio reports it completed)."""

    at: datetime
    status: str = "completed"


Event = (
    CallStarted
    | DigitsPressed
    | SpeechHeard
    | NoInput
    | LookupResult
    | TransferResult
    | RecordingDone
    | CallEnded
)

EVENT_TYPES: tuple[type, ...] = (
    CallStarted,
    DigitsPressed,
    SpeechHeard,
    NoInput,
    LookupResult,
    TransferResult,
    RecordingDone,
    CallEnded,
)
