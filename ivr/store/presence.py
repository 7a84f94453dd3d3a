"""Agents' presence, shared by every host of the line: available, busy or away.

``SessionStore.presence`` gives one ``Presence`` per store: rows of the SQLite file
(every process of the host) or keys of Redis (every host). An agent's record
(``AgentState``) says:

* ``state``: ``available`` (may be offered a call), ``busy`` (offered a call or on one:
  ``call`` names it) or ``away`` (set by the agent, or signed out);
* ``since``: when the agent entered that state (Unix seconds): the longest idle
  available agent is offered a call first;
* ``after``: what a busy agent becomes when the call ends (the agent chose "away"
  while on a call: away afterwards);
* ``seen``: when the agent's console last showed a sign of life (the board's event
  stream). An available agent not seen for a while counts as away (``free``).

Rules of this file: every change is a pure transition (``chosen``, ``claimed``,
``released``, ``held``, ``seen_at``) applied by ``Presence.change``, a compare-and-set
loop on the record's version (the same optimistic concurrency as the call store), so
two hosts claiming one agent at once cannot both win. Times come from the caller; the
store reads no clock.
"""
from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .redis import RedisStore
    from .sqlite import SQLiteStore

__all__ = ["AgentState", "MemoryPresence", "Presence", "STATES", "chosen", "claimed", "held", "released"]

STATES = ("available", "busy", "away")
RETRIES = 20


@dataclass(frozen=True)
class AgentState:
    """One agent's presence (see the module)."""

    state: str = "away"
    since: float = 0.0
    call: str = ""
    after: str = ""
    seen: float = 0.0

    def free(self, now: float, gone_after: float) -> bool:
        """Whether the agent may be offered a call now: available, console seen lately."""
        return self.state == "available" and now - self.seen <= gone_after

    def shown(self, now: float, gone_after: float) -> str:
        """The state as the board shows it: an available agent whose console is gone is away."""
        return "away" if self.state == "available" and now - self.seen > gone_after else self.state

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> AgentState:
        data = data if isinstance(data, dict) else {}
        state = data.get("state")
        return cls(state if state in STATES else "away", _num(data.get("since")), str(data.get("call") or ""),
                   str(data.get("after") or ""), _num(data.get("seen")))


def _num(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


# -- the transitions (pure) -------------------------------------------------------------

def chosen(current: AgentState | None, wanted: str, at: float) -> AgentState:
    """The agent chose ``available`` or ``away`` (on their console, or by signing in or
    out). A busy agent stays busy and becomes ``wanted`` when the call ends; choosing
    the state one is in keeps its ``since`` (an available agent stays as idle as before)."""
    if wanted not in ("available", "away"):
        raise ValueError(f"an agent can choose available or away, not {wanted!r}")
    now = current or AgentState(seen=at)
    if now.state == "busy":
        return replace(now, after=wanted, seen=max(now.seen, at))
    if now.state == wanted and current is not None:
        return replace(now, seen=max(now.seen, at))
    return AgentState(wanted, at, "", "", max(now.seen, at))


def seen_at(current: AgentState | None, at: float) -> AgentState | None:
    """The agent's console showed a sign of life at ``at`` (nothing for an unknown agent)."""
    return None if current is None or current.seen >= at else replace(current, seen=at)


def claimed(current: AgentState | None, call: str, at: float) -> AgentState | None:
    """Offered ``call``: an available agent becomes busy with it; anyone else is unchanged
    (None)."""
    if current is None or current.state != "available":
        return None
    return AgentState("busy", at, call, "available", current.seen)


def held(current: AgentState | None, call: str, at: float) -> AgentState | None:
    """Rung for ``call`` directly (not through a pool): busy with it, whatever the state
    was; when it ends, back to what the agent was (away stays away). An agent busy with
    another call stays busy with that one."""
    if current is not None and current.state == "busy":
        return None  # busy already (with this call, or another: that one frees them)
    before = current.state if current is not None else "away"
    return AgentState("busy", at, call, before, current.seen if current is not None else at)


def released(current: AgentState | None, call: str, at: float) -> AgentState | None:
    """``call`` is over for the agent (passed, not answered, or ended): busy with it ->
    what they chose meanwhile (available by default), idle from ``at``."""
    if current is None or current.state != "busy" or current.call != call:
        return None
    return AgentState(current.after or "available", at, "", "", current.seen)


# -- the stores -------------------------------------------------------------------------

class Presence(ABC):
    """Agents' presence records, shared as far as the store reaches."""

    @abstractmethod
    def _read(self, names: list[str]) -> dict[str, tuple[AgentState, int]]:
        """The records of ``names`` that exist, with their versions."""

    @abstractmethod
    def _write(self, name: str, state: AgentState, expected: int | None) -> bool:
        """Save ``state`` if the record's version is ``expected`` (None: no record yet)."""

    def states(self, names: Iterable[str]) -> dict[str, AgentState]:
        """The presence of these agents (an agent never seen has no entry: away)."""
        wanted = sorted(set(names))
        return {name: state for name, (state, _) in self._read(wanted).items()} if wanted else {}

    def change(self, name: str, fn: Callable[[AgentState | None], AgentState | None]) -> AgentState | None:
        """Apply the pure transition ``fn`` to the agent's record atomically; returns the
        new state, or None when ``fn`` changed nothing."""
        for _ in range(RETRIES):
            found = self._read([name]).get(name)
            new = fn(found[0] if found else None)
            if new is None:
                return None
            if self._write(name, new, found[1] if found else None):
                return new
        raise RuntimeError(f"presence of {name}: too many concurrent changes")

    def choose(self, name: str, wanted: str, at: float) -> AgentState:
        new = self.change(name, lambda current: chosen(current, wanted, at))
        assert new is not None
        return new

    def seen(self, name: str, at: float) -> None:
        self.change(name, lambda current: seen_at(current, at))

    def claim(self, name: str, call: str, at: float) -> bool:
        """Atomically make an available agent busy with ``call``; False if someone else
        (another call, another host) got them first or they are not available."""
        return self.change(name, lambda current: claimed(current, call, at)) is not None

    def hold(self, name: str, call: str, at: float) -> None:
        self.change(name, lambda current: held(current, call, at))

    def release(self, name: str, call: str, at: float) -> bool:
        return self.change(name, lambda current: released(current, call, at)) is not None

    def release_call(self, names: Iterable[str], call: str, at: float) -> list[str]:
        """Release every one of ``names`` busy with ``call`` (the call ended); who was."""
        busy = [name for name, state in self.states(names).items() if state.state == "busy" and state.call == call]
        return [name for name in busy if self.release(name, call, at)]


class MemoryPresence(Presence):
    """The same in this process only (a store with nothing better)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, tuple[AgentState, int]] = {}

    def _read(self, names: list[str]) -> dict[str, tuple[AgentState, int]]:
        with self._lock:
            return {name: self._records[name] for name in names if name in self._records}

    def _write(self, name: str, state: AgentState, expected: int | None) -> bool:
        with self._lock:
            found = self._records.get(name)
            if (found[1] if found else None) != expected:
                return False
            self._records[name] = (state, (expected or 0) + 1)
            return True


class SQLitePresence(Presence):
    """Presence in the store's file (table ``agent_presence``): one statement per write."""

    SCHEMA = ("CREATE TABLE IF NOT EXISTS agent_presence (name TEXT PRIMARY KEY, data TEXT NOT NULL,"
              " version INTEGER NOT NULL)")

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store
        with store._db() as db:
            db.execute(self.SCHEMA)

    def _read(self, names: list[str]) -> dict[str, tuple[AgentState, int]]:
        marks = ",".join("?" * len(names))
        with self.store._db() as db:
            rows = db.execute(f"SELECT name, data, version FROM agent_presence WHERE name IN ({marks})",
                              names).fetchall()
        return {name: (AgentState.from_dict(json.loads(data)), int(version)) for name, data, version in rows}

    def _write(self, name: str, state: AgentState, expected: int | None) -> bool:
        import sqlite3

        text = json.dumps(state.to_dict())
        with self.store._db() as db:
            if expected is None:
                try:
                    db.execute("INSERT INTO agent_presence (name, data, version) VALUES (?, ?, 1)", (name, text))
                except sqlite3.IntegrityError:
                    return False
                return True
            cursor = db.execute("UPDATE agent_presence SET data = ?, version = version + 1"
                                " WHERE name = ? AND version = ?", (text, name, expected))
            return cursor.rowcount == 1


_CAS = """
local cur = redis.call('HGET', KEYS[1], 'version') or ''
if cur ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'data', ARGV[3])
return 1
"""


class RedisPresence(Presence):
    """Presence in Redis (a hash ``<p>:presence:<name>`` per agent), compare-and-set by script."""

    def __init__(self, store: RedisStore) -> None:
        self.store = store
        self._cas = store.client.register_script(_CAS)

    def _key(self, name: str) -> str:
        return f"{self.store.prefix}:presence:{name}"

    def _read(self, names: list[str]) -> dict[str, tuple[AgentState, int]]:
        with self.store._redis() as client:
            pipe = client.pipeline(transaction=False)
            for name in names:
                pipe.hmget(self._key(name), "data", "version")
            rows = pipe.execute()
        return {name: (AgentState.from_dict(json.loads(data)), int(version))
                for name, (data, version) in zip(names, rows) if data and version}

    def _write(self, name: str, state: AgentState, expected: int | None) -> bool:
        now = "" if expected is None else str(expected)
        with self.store._redis():
            return bool(self._cas(keys=[self._key(name)],
                                  args=[now, str((expected or 0) + 1), json.dumps(state.to_dict())]))
