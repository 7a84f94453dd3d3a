"""The session store: where a call's state lives between two webhooks.

A store keeps, per call (key: Twilio's ``CallSid``):

* the **hot state**: the engine's session as a JSON dict, plus a version number. Twilio
  can send two requests for one call at once, and the media websocket and the webhooks of
  one call may run on different hosts, so every write says which version it read
  (optimistic concurrency). ``update`` wraps load-modify-save in a retry loop.
* an append-only **event log** (JSON dicts) that outlives the hot state;
* a **summary** (flow, node, phase, score, caller, outcome, times, finished flag) for the
  agent console's call list. The store reads those fields from the saved dict and
  interprets nothing else.

Backends (one module each, driver imported lazily): ``sqlite`` (the embedded default, one
host, several threads and processes) and ``redis`` (several hosts). Both pass the same
contract tests (``tests/store/contract.py``).

Errors are for the code that calls the store: ``VersionConflict`` means "someone else
wrote first, load again"; ``StoreUnavailable`` is transient ("the backend cannot be
reached right now") and the caller decides whether to retry or apologise to the caller.
"""
from __future__ import annotations

import json
import math
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .bus import Bus
    from .presence import Presence
    from .shared import Shared

#: The fields of a saved dict that the store copies into the call's summary.
SUMMARY_FIELDS = ("flow", "node", "phase", "score", "caller", "outcome")


class StoreError(Exception):
    """Base class of the store's own errors."""


class VersionConflict(StoreError):
    """A save named a version that is not the stored one.

    ``expected`` is the version the writer read (``None``: it expected no call);
    ``actual`` the version found (``None``: there is no stored call).
    """

    def __init__(self, call_sid: str, expected: int | None, actual: int | None):
        self.call_sid = call_sid
        self.expected = expected
        self.actual = actual
        want = "a new call" if expected is None else f"version {expected}"
        found = "no call" if actual is None else f"version {actual}"
        super().__init__(f"call {call_sid}: expected {want}, found {found}; load it again")


class StoreUnavailable(StoreError):
    """The backend cannot be reached (transient); retrying later may succeed."""


@dataclass(frozen=True)
class Stored:
    """A call's hot state as loaded: the saved dict and its version.

    A new call's first version is 1 (with Redis, a call created again after its hot state
    expired continues from its last version, so an old version number never matches).
    """

    data: dict
    version: int


class SessionStore(ABC):
    """Per-call versioned JSON state, an event log per call and call summaries.

    Implementations are safe to share between threads. ``data`` passed to ``save`` must
    be a JSON-serialisable dict with string keys (no NaN/Infinity); ``load`` returns a
    fresh copy every time, so callers may mutate it.
    """

    @abstractmethod
    def load(self, call_sid: str) -> Stored | None:
        """The call's hot state, or ``None`` if there is none (never saved, or expired)."""

    @abstractmethod
    def save(self, call_sid: str, data: dict, expected_version: int | None, events: Sequence[dict] = ()) -> int:
        """Write ``data`` if the stored version is ``expected_version``; return the new one.

        ``expected_version=None`` creates the call and conflicts if it exists. Raises
        ``VersionConflict`` when the stored version differs (nothing is written).
        ``events`` (JSON dicts) are appended to the call's event log in the same write:
        both are kept, or neither.
        """

    def update(
        self,
        call_sid: str,
        fn: Callable[[Stored | None], dict | None],
        retries: int = 10,
        *,
        log: Callable[[], Sequence[dict]] | None = None,
    ) -> Stored | None:
        """Load, apply ``fn``, save; on a conflict load again and re-apply, up to ``retries``.

        ``fn`` gets the current ``Stored`` (``None`` for an unknown call) and returns the
        new dict, or ``None`` to leave the call unchanged (then the loaded state is
        returned). ``fn`` may run several times, so it must not have side effects. Returns
        what was saved. Raises ``VersionConflict`` when every attempt lost the race.

        ``log``, when given, is asked after each ``fn`` that returned a change for the
        events that change adds to the call's log; they are written with it, in the same
        write (``save``'s ``events``): a change that is not saved logs nothing.
        """
        for attempt in range(retries + 1):
            current = self.load(call_sid)
            new = fn(current)
            if new is None:
                return current
            expected = current.version if current is not None else None
            try:
                version = self.save(call_sid, new, expected, log() if log is not None else ())
            except VersionConflict:
                if attempt == retries:
                    raise
                _backoff(attempt)
                continue
            return Stored(data=new, version=version)
        raise AssertionError("unreachable")  # pragma: no cover

    @abstractmethod
    def append_event(self, call_sid: str, event: dict) -> None:
        """Append a JSON dict to the call's event log (the call need not be saved yet)."""

    @abstractmethod
    def events(self, call_sid: str) -> list[dict]:
        """The call's event log, oldest first (empty for an unknown call)."""

    @abstractmethod
    def finish(self, call_sid: str, outcome: str) -> None:
        """Mark the call ended with ``outcome`` (``contained``, ``transferred``, ...).

        The summary keeps the outcome and the finished flag; the event log is kept; the
        hot state may expire (Redis: after ``finished_ttl``). Finishing again updates
        the outcome. Finishing an unknown call does nothing.
        """

    @abstractmethod
    def forget_caller(self, caller: str) -> int:
        """Delete every trace of the calls from ``caller`` (their hot state, event logs and
        summaries); return how many calls were forgotten. For ``ivr forget NUMBER``."""

    @abstractmethod
    def list_calls(self, *, active: bool | None = None, limit: int = 50) -> list[dict]:
        """Call summaries, newest (by start) first.

        ``active=True``: unfinished calls only; ``False``: finished only; ``None``: all.
        Each summary has ``call_sid``, ``flow``, ``node``, ``phase``, ``score`` (float),
        ``caller``, ``outcome``, ``started_at``, ``updated_at``, ``finished_at`` (Unix
        seconds, float; ``finished_at`` is ``None`` while active), ``finished`` (bool) and
        ``version`` (the last saved version).
        """

    @property
    @abstractmethod
    def bus(self) -> Bus:
        """The pub/sub bus that goes with this store (same hosts can see it)."""

    @property
    def shared(self) -> Shared:
        """Short-lived counts and records every process on this store sees (``shared.py``).

        This default keeps them in this process; SQLite and Redis share them."""
        found = self.__dict__.get("_shared_default")
        if found is None:
            from .shared import MemoryShared

            found = self.__dict__.setdefault("_shared_default", MemoryShared())
        return found

    @property
    def presence(self) -> Presence:
        """Agents' presence (available, busy, away) every host on this store sees
        (``presence.py``). This default keeps it in this process; SQLite and Redis share it."""
        found = self.__dict__.get("_presence_default")
        if found is None:
            from .presence import MemoryPresence

            found = self.__dict__.setdefault("_presence_default", MemoryPresence())
        return found

    @abstractmethod
    def close(self) -> None:
        """Release connections. The store must not be used afterwards."""

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- helpers shared by the backends -------------------------------------------------


def dump_json(value: Any, what: str = "data") -> str:
    """JSON text for a dict; a clear TypeError/ValueError for anything else."""
    if not isinstance(value, dict):
        raise TypeError(f"{what} must be a dict, not {type(value).__name__}")
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{what} is not JSON-serialisable: {exc}") from None


def summary_fields(data: dict) -> dict[str, Any]:
    """The summary columns read from a saved dict; missing or odd values become empty."""
    out: dict[str, Any] = {}
    for name in SUMMARY_FIELDS:
        value = data.get(name)
        if name == "score":
            out[name] = _as_score(value)
        else:
            out[name] = value if isinstance(value, str) else ""
    return out


def _as_score(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0.0
    try:
        score = float(value)
    except OverflowError:
        return 0.0
    return score if math.isfinite(score) else 0.0


def _backoff(attempt: int) -> None:
    """Sleep a little (randomised, growing) so racing writers stop colliding."""
    time.sleep(random.uniform(0, min(0.05, 0.001 * (2**attempt))))
