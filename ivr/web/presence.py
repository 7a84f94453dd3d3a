"""Agents' presence as the web shell uses it: the board's list, an agent's own choice,
offering a pooled transfer to the next free agent, and freeing agents when calls end.

* An agent is **available** when they say so on the console (signing in makes them
  available), **busy** from the moment an agent pool offers them a call (claimed in the
  store, so two calls on two hosts never ring the same agent) or they take a call rung
  to them directly, until their leg or the call ends, and **away** when they say so,
  sign out, or their console has not been seen for ``GONE_AFTER`` seconds (the board's
  event stream marks them seen when it opens and at every heartbeat).
* ``Desk.offer`` picks for an agent pool: the agents of the file in the pool
  (languages, skills), available, not offered this call yet, longest idle first
  (``agents.offer_order``), and claims the first it can; another host's claim in
  between moves it to the next.

The presence records live in the store (``SessionStore.presence``): every host sees them.
Nothing here is on the caller's path except ``offer`` (run on the background worker).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ivr.model.targets import AgentPool
from ivr.store import SessionStore

from .agents import GONE_AFTER, Agent, AgentsFile, offer_order
from .line import CONSOLE_CHANNEL
from .live import LiveCall

__all__ = ["Desk", "PRESENCE_CHANGED", "desk", "stale_offer"]

log = logging.getLogger(__name__)
LABELS = {"available": "Available", "busy": "Busy", "away": "Away"}
PRESENCE_CHANGED = "presence"  # the bus message (on the console's channel) that says someone's presence changed


class Desk:
    """The agents of the agents file and their presence in the store."""

    def __init__(self, agents: AgentsFile, store: SessionStore, now: Callable[[], datetime],
                 gone_after: float = GONE_AFTER) -> None:
        self.agents, self.store, self.now, self.gone_after = agents, store, now, gone_after

    @property
    def presence(self):
        return self.store.presence

    def _names(self) -> list[str]:
        roster = self.agents.roster()
        return list(roster.agents) if roster else []

    def _stamp(self) -> float:
        return self.now().timestamp()

    def _changed(self) -> None:
        """Tell every console (every host) to show the agents' presence again."""
        try:
            self.store.bus.publish(CONSOLE_CHANNEL, {"kind": PRESENCE_CHANGED})
        except Exception:  # a view: a bus outage must not hurt a call
            log.warning("presence: could not tell the consoles", exc_info=True)

    # -- the console ------------------------------------------------------------------

    def board(self) -> list[dict[str, Any]]:
        """Every agent of the file, as the board lists them: name, state, since when."""
        roster = self.agents.roster()
        if roster is None:
            return []
        now = self._stamp()
        try:
            states = self.presence.states(roster.agents)
        except Exception:  # the store is down: the board still shows the calls
            log.warning("presence: cannot read the agents' presence", exc_info=True)
            return []
        out = []
        for agent in roster.agents.values():
            state = states.get(agent.name)
            shown = state.shown(now, self.gone_after) if state is not None else "away"
            out.append({"name": agent.name, "display_name": agent.display_name, "state": shown,
                        "label": LABELS[shown], "since": state.since if state is not None else None,
                        "after": state.after if state is not None and state.state == "busy" else "",
                        "languages": list(agent.languages), "skills": list(agent.skills)})
        return out

    def choose(self, agent: Agent, wanted: str, quiet: bool = False) -> dict[str, Any]:
        """The agent chose ``available`` or ``away`` on their console (``quiet``: by signing
        in or out, which a store outage must not stop: it is logged)."""
        try:
            state = self.presence.choose(agent.name, wanted, self._stamp())
        except Exception:
            if not quiet:
                raise
            log.warning("presence: could not make %s %s", agent.name, wanted, exc_info=True)
            return {"name": agent.name, "state": "away", "label": LABELS["away"]}
        self._changed()
        log.info("console: %s is now %s", agent.name, state.state if state.state != "busy" else f"busy ({wanted} after)")
        return self.mine(agent)

    def mine(self, agent: Agent) -> dict[str, Any]:
        return next((row for row in self.board() if row["name"] == agent.name),
                    {"name": agent.name, "state": "away", "label": LABELS["away"]})

    def seen(self, name: str) -> None:
        """The agent's console is open (the board's event stream)."""
        try:
            self.presence.seen(name, self._stamp())
        except Exception:  # a view: never break the stream
            log.warning("presence: could not mark %s seen", name, exc_info=True)

    def offered_card(self, card: dict[str, Any], live: LiveCall | None) -> dict[str, Any]:
        """A waiting call's card whose attempt is an agent pool: its target is the agent
        the pool offers the call to now (so only they may accept or pass), none while an
        agent is being chosen."""
        if live is None:
            live = LiveCall.load(self.store, card.get("call_sid", ""))
        name = str(live.other.get("offered_agent") or "") if live is not None else ""
        roster = self.agents.roster()
        agent = roster.get(name) if roster and name else None
        pool = AgentPool.of(str(card.get("target", "")))
        return {**card, "pool": pool.describe() if pool else "", "offered_to": agent.display_name if agent else "",
                "offered_name": agent.name if agent else "",
                "target": agent.dial_target if agent else ""}

    # -- transfers --------------------------------------------------------------------

    def offer(self, pool: AgentPool, call_sid: str, offered: tuple[str, ...]) -> Agent | None:
        """Claim the agent this pool offers ``call_sid`` to next, or None when nobody of
        the pool is free (the caller then goes on to the next target at once)."""
        roster = self.agents.roster()
        if roster is None:
            return None
        members = roster.in_pool(pool)
        now = self._stamp()
        states = self.presence.states(agent.name for agent in members)
        for agent in offer_order(members, states, offered, now, self.gone_after):
            if self.presence.claim(agent.name, call_sid, now):
                self._changed()
                return agent
            log.info("call %s: %s was taken by another call meanwhile; trying the next agent", call_sid, agent.name)
        return None

    def release(self, name: str, call_sid: str) -> None:
        """The agent's leg of ``call_sid`` is over (passed, not answered, ended)."""
        if name and self.presence.release(name, call_sid, self._stamp()):
            self._changed()

    def release_target(self, target: str, call_sid: str) -> None:
        """The leg of ``call_sid`` rung to ``target`` (directly, not through a pool) is over."""
        roster = self.agents.roster()
        for agent in roster.agents.values() if roster and target else ():
            if agent.offered(target) and self.presence.release(agent.name, call_sid, self._stamp()):
                self._changed()

    def took(self, target: str, call_sid: str) -> None:
        """Whoever answers ``target`` took ``call_sid`` (rung directly): busy with it."""
        roster = self.agents.roster()
        for agent in roster.agents.values() if roster else ():
            if agent.offered(target):
                self.presence.hold(agent.name, call_sid, self._stamp())
                self._changed()

    def free_stale(self) -> list[str]:
        """Free every agent busy with a call the line no longer has going on (its status
        callbacks were lost): for the hold sweep. Returns who was freed."""
        roster = self.agents.roster()
        if roster is None:
            return []
        freed = []
        for name, state in self.presence.states(roster.agents).items():
            if state.state != "busy":
                continue
            live = LiveCall.load(self.store, state.call)
            if (live is None or live.phase == "ended") and self.presence.release(name, state.call, self._stamp()):
                freed.append(name)
        if freed:
            log.warning("presence: %s freed (their call ended without word)", ", ".join(freed))
            self._changed()
        return freed

    def call_over(self, call_sid: str) -> None:
        """``call_sid`` ended: every agent busy with it is free again."""
        try:
            if self.presence.release_call(self._names(), call_sid, self._stamp()):
                self._changed()
        except Exception:
            log.warning("presence: could not free the agents of call %s", call_sid, exc_info=True)


def stale_offer(call_sid: str, offer: str, leg: str) -> bool:
    """Whether an agent leg's request belongs to an agent pool's earlier offer of the call
    (``offer``: the call's ``seq`` when that agent was chosen; ``leg``: the leg's sid): the
    call has moved on to another agent since, or another agent's leg took it."""
    if not offer:
        return False
    live = LiveCall.load(desk().store, call_sid)
    if live is None:
        return False  # the caller's side decides: the call is gone
    if live.phase == "transfer":
        return str(live.seq) != offer
    return live.phase == "connected" and bool(live.agent_leg) and bool(leg) and leg != live.agent_leg


def desk() -> Desk:
    """The desk of the app handling this request."""
    from .services import services

    parts = services()
    return Desk(parts.agents, parts.store, parts.now)
