"""What the caller experiences next: the closed set of actions the engine returns.

Actions are plain data. A shell decides how to carry them out: the webhooks render them
to TwiML (``ivr.twiml``), the simulator prints them, the tests read them. A step's action
list always ends in exactly one *waiting* action (``Listen``, ``DataLookup``,
``Transfer``, ``Record``, ``SwitchFlow`` or ``Hangup``): the call is never left without a
next step.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Speak:
    """Play ``audio`` (a file under the audio directory) if set, else say ``text``."""

    text: str
    audio: str | None = None
    language: str = "en-US"
    voice: str = ""


@dataclass(frozen=True)
class Listen:
    """Play ``prompts`` and wait for keys or speech (barge-in allowed).

    ``phrases`` are what the recogniser should expect here (the node's phrases plus the
    operator phrases); ``max_digits`` ends key entry early when reached (None: until
    ``finish_on_key`` or the timeout); ``timeout`` is seconds of silence after the prompt.
    """

    node: str
    prompts: tuple[Speak, ...]
    phrases: tuple[str, ...] = ()
    max_digits: int | None = None
    finish_on_key: str = "#"
    timeout: int = 5
    speech: bool = True
    language: str = "en-US"


@dataclass(frozen=True)
class DataLookup:
    """Fetch data over HTTP for node ``node``; answer with a ``LookupResult`` event."""

    node: str
    url: str
    method: str = "GET"
    timeout: float = 3.0
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Transfer:
    """Connect the caller to a person at ``target`` (attempt ``attempt`` of ``attempts``).

    ``target`` is ``+E164``, ``client:NAME``, ``sip:URI`` or ``queue:NAME``. ``context`` is
    the JSON-able record of the call so far (path, keys, speech, masked slots, escalation
    score and reasons); ``summary`` a short sentence for the agent's whisper. The shell
    answers with a ``TransferResult`` event.
    """

    target: str
    reason: str
    attempt: int = 1
    attempts: int = 1
    whisper: bool = True
    summary: str = ""
    context: Mapping[str, Any] = field(default_factory=dict)
    timeout: int = 20


@dataclass(frozen=True)
class Record:
    """Take a voicemail after the prompts; answer with a ``RecordingDone`` event."""

    node: str
    max_length: int = 120
    finish_on_key: str = "#"


@dataclass(frozen=True)
class SwitchFlow:
    """Continue the call in another flow (``goto``); the shell re-pins the session."""

    flow: str


@dataclass(frozen=True)
class Hangup:
    """End the call (always after a goodbye)."""


Action = Speak | Listen | DataLookup | Transfer | Record | SwitchFlow | Hangup

WAITING_ACTIONS: tuple[type, ...] = (Listen, DataLookup, Transfer, Record, SwitchFlow, Hangup)
