"""Where a call is (``Phase``) and how a transfer attempt ended (``TransferStatus``).

Both are closed vocabularies, like h11's connection states: every phase a session can
be in and every way a transfer attempt can end is named here and nowhere else. They are
``StrEnum``s, so a member equals its plain string (``Phase.ENDED == "ended"``): a session
saved as JSON reads back unchanged, and a shell that still compares strings keeps working.

What may happen in which phase is the engine's table (``ivr.engine.engine._HANDLERS``);
this module only names the phases.
"""
from __future__ import annotations

from enum import StrEnum

__all__ = ["Phase", "TransferStatus"]


class Phase(StrEnum):
    """The phase of a call, as the engine sees it between two events."""

    NEW = "new"  # the call reached the line; nothing has been said yet
    LISTENING = "listening"  # a prompt is waiting for keys or speech
    CONFIRMING = "confirming"  # a collect node read a value back and waits for yes or no
    OFFERING = "offering"  # the caller was offered a person and waits to answer yes or no
    LOOKUP = "lookup"  # the shell is fetching data for a lookup node
    TRANSFER = "transfer"  # an agent (or a queue) is being rung while the caller holds
    CONNECTED = "connected"  # an agent took the call
    RECORDING = "recording"  # the caller is leaving a voicemail
    PROMISING = "promising"  # the caller is being told of a callback; it counts once it was heard
    SURVEY = "survey"  # the call was served; the caller is asked to rate it (and may leave a comment)
    ENDED = "ended"  # the call is over (a late recording may still be filed)

    @property
    def at_prompt(self) -> bool:
        """The caller is being asked something: keys, speech and silence are expected."""
        return self in _AT_PROMPT


_AT_PROMPT = frozenset({Phase.LISTENING, Phase.CONFIRMING, Phase.OFFERING})


class TransferStatus(StrEnum):
    """How one transfer attempt ended, in Twilio's words where Twilio has one.

    ``answered``: the agent took the call. ``declined``: the agent passed (pressed 2,
    let the whisper time out, or passed on the console). ``busy``, ``no-answer``,
    ``failed``, ``canceled``: the agent's leg did not connect. ``completed``: the
    conversation with the agent is over: after the call was connected, or, for a plain
    ``<Dial>`` the agent answered without a whisper, the answer and the end at once
    (recorded as ``answered``). ``timeout``: the caller held longer than the flow allows.
    ``unavailable``: an agent pool target had nobody free (the next target is tried).
    """

    ANSWERED = "answered"
    DECLINED = "declined"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    FAILED = "failed"
    CANCELED = "canceled"
    COMPLETED = "completed"
    TIMEOUT = "timeout"
    UNAVAILABLE = "unavailable"  # an agent pool had nobody free to offer the call to

    @classmethod
    def read(cls, status: str) -> TransferStatus:
        """The status a shell reported; a word this line does not know counts as ``failed``
        (the attempt did not reach anyone, so the next target is tried)."""
        try:
            return cls(status)
        except ValueError:
            return cls.FAILED
