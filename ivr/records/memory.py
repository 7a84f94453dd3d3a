"""Caller memory in the records database: profiles keyed by a keyed hash of the number.

    key = caller_key("+15551230000", secret)          # HMAC-SHA256, hex; "" for a withheld number
    memory = CallerMemory(records.engine)
    memory.profile(key, now)                          # {"calls": [...], "language", "verified_at", ...} or {}
    memory.remember(key, entry, call_sid=..., flow=..., at=..., retention_days=90)
    memory.history(key, limit=10, before=call_sid)    # the caller's earlier calls, for the console
    memory.forget(key); memory.purge(now)             # ivr forget NUMBER; ivr purge

The raw number is never a key and never stored here: a profile is found by
``caller_key(number, secret)`` only, and the secret (``IVR_MEMORY_KEY``, else
``IVR_SECRET_KEY``) must stay the same for the line to recognise anyone, and for
``ivr forget`` to find them. The call's own record (``calls``) carries the same key, so
the console lists a caller's earlier calls without a second copy of the number.

Rules of this file: every datetime is stored as UTC; writing the same call twice (its
end reported twice, on one host or two) replaces the first, and two hosts writing a
new caller's first calls at once both land (the loser of the insert tries again); a profile's ``expires_at`` is its last call plus
the flow's retention, and ``purge`` drops expired profiles with their calls.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, desc, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ivr.model.memory import MAX_CALLS, is_withheld

from .schema import call_nodes, call_transfers, caller_calls, caller_memory, calls

__all__ = ["caller_key", "normalized_number", "CallerMemory"]


def normalized_number(number: str) -> str:
    """The number as one caller is known by: digits with a leading ``+`` kept, spaces,
    dashes and brackets dropped (``+1 (555) 123-0000`` and ``+15551230000`` are one caller)."""
    plain = number.strip()
    digits = "".join(ch for ch in plain if ch.isdigit())
    return ("+" if plain.startswith("+") else "") + digits


def caller_key(number: str | None, secret: str) -> str:
    """The caller's key: HMAC-SHA256 of the normalised number under ``secret``, as hex;
    "" when the number is withheld or the secret is empty (then nothing is remembered)."""
    if not secret or is_withheld(number):
        return ""
    assert number is not None
    return hmac.new(secret.encode(), normalized_number(number).encode(), hashlib.sha256).hexdigest()


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(moment: datetime | None) -> str:
    return _utc(moment).isoformat() if moment is not None else ""


class CallerMemory:
    """The callers' profiles, in the records database (see the module docstring)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def profile(self, key: str, now: datetime) -> dict[str, Any]:
        """The profile the engine reads (``ivr.model.memory.recall``): ``{}`` for a caller
        the line does not know (or whose profile expired)."""
        if not key:
            return {}
        with self.engine.connect() as conn:
            row = conn.execute(select(caller_memory).where(caller_memory.c.caller_key == key)).mappings().first()
            if row is None or _utc(row["expires_at"]) <= _utc(now):
                return {}
            rows = conn.execute(select(caller_calls).where(caller_calls.c.caller_key == key)
                                .order_by(desc(caller_calls.c.at)).limit(MAX_CALLS)).mappings().all()
        return {
            "known": True,
            "language": row["language"],
            "verified_at": _iso(row["verified_at"]),
            "verified_slots": dict(row["verified_slots"] or {}),
            "calls": [{"at": _iso(r["at"]), "flow": r["flow"], "topic": r["topic"], "slots": dict(r["slots"] or {}),
                       "outcome": r["outcome"], "language": r["language"]} for r in rows],
            "callbacks": [_iso(r["callback_due"]) for r in rows
                          if r["callback_due"] is not None and _utc(r["callback_due"]) >= _utc(now)],
        }

    def remember(self, key: str, entry: Mapping[str, Any], *, call_sid: str, flow: str, at: datetime,
                 retention_days: int) -> None:
        """Add a finished call (``ivr.model.memory.remembered``) to the caller's profile,
        creating it on their first call; mark the call's record with the caller's key and
        topic. Older calls beyond the newest ``MAX_CALLS`` are dropped."""
        if not key:
            return
        for attempt in (1, 2):
            try:
                self._remember(key, entry, call_sid, flow, _utc(at), retention_days)
                return
            except IntegrityError:  # another host wrote this caller's first call (or this call) at the same moment
                if attempt == 2:
                    raise

    def _remember(self, key: str, entry: Mapping[str, Any], call_sid: str, flow: str, at: datetime,
                  retention_days: int) -> None:
        expires = at + timedelta(days=retention_days)
        due = entry.get("callback_due") or None
        with self.engine.begin() as conn:
            current = conn.execute(select(caller_memory.c.expires_at, caller_memory.c.verified_at,
                                          caller_memory.c.verified_slots, caller_memory.c.updated_at)
                                   .where(caller_memory.c.caller_key == key)).mappings().first()
            values: dict[str, Any] = {"language": str(entry.get("language") or ""), "updated_at": at,
                                      "expires_at": expires}
            if entry.get("verified"):
                values.update(verified_at=at, verified_slots=dict(entry.get("slots") or {}))
            if current is None:
                conn.execute(insert(caller_memory).values(caller_key=key, **values))
            else:
                if _utc(current["updated_at"]) > at:  # a late report of an older call: keep the newer profile
                    values = {"expires_at": max(_utc(current["expires_at"]), expires)}
                conn.execute(update(caller_memory).where(caller_memory.c.caller_key == key).values(**values))
            conn.execute(delete(caller_calls).where(caller_calls.c.call_sid == call_sid))
            conn.execute(insert(caller_calls).values(
                caller_key=key, call_sid=call_sid, flow=flow, at=at, topic=str(entry.get("topic") or ""),
                slots=dict(entry.get("slots") or {}), outcome=str(entry.get("outcome") or ""),
                language=str(entry.get("language") or ""),
                callback_due=_utc(datetime.fromisoformat(due)) if due else None))
            keep = select(caller_calls.c.id).where(caller_calls.c.caller_key == key) \
                .order_by(desc(caller_calls.c.at)).limit(MAX_CALLS)
            conn.execute(delete(caller_calls).where(caller_calls.c.caller_key == key,
                                                    caller_calls.c.id.not_in(keep.scalar_subquery())))
            conn.execute(update(calls).where(calls.c.call_sid == call_sid)
                         .values(caller_key=key, topic=str(entry.get("topic") or "") or None))

    def mark_call(self, key: str, call_sid: str, topic: str = "") -> None:
        """Put the caller's key (and the topic) on a call's record (a line without memory
        still lets the console find a caller's earlier calls)."""
        if not key:
            return
        with self.engine.begin() as conn:
            conn.execute(update(calls).where(calls.c.call_sid == call_sid).values(caller_key=key, topic=topic or None))

    def history(self, key: str, limit: int = 10, before: str = "") -> list[dict[str, Any]]:
        """The caller's calls on record, newest first (without ``before``, the call being
        shown): when, topic, outcome, the agent who took it, the survey score."""
        if not key:
            return []
        query = select(calls.c.call_sid, calls.c.started_at, calls.c.topic, calls.c.outcome, calls.c.answered_by,
                       calls.c.csat, calls.c.flow).where(calls.c.caller_key == key)
        if before:
            query = query.where(calls.c.call_sid != before)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(desc(calls.c.started_at)).limit(limit)).mappings().all()
        return [{"call_sid": r["call_sid"], "started_at": _utc(r["started_at"]), "topic": r["topic"] or "",
                 "outcome": r["outcome"], "agent": r["answered_by"] or "", "csat": r["csat"], "flow": r["flow"]}
                for r in rows]

    def key_of_call(self, call_sid: str) -> str:
        """The caller's key on a call's record ("" when the call is not on record or its
        caller is not known): the console finds the history of a call whose live state
        has expired."""
        with self.engine.connect() as conn:
            found = conn.execute(select(calls.c.caller_key).where(calls.c.call_sid == call_sid)).scalar_one_or_none()
        return found or ""

    def forget(self, key: str) -> tuple[int, int]:
        """Delete the caller's profile and its calls, and the call records that carry the
        key (the number written another way). Returns (profiles, call records) deleted."""
        if not key:
            return 0, 0
        theirs = select(calls.c.id).where(calls.c.caller_key == key)
        with self.engine.begin() as conn:
            conn.execute(delete(caller_calls).where(caller_calls.c.caller_key == key))
            profiles = conn.execute(delete(caller_memory).where(caller_memory.c.caller_key == key)).rowcount or 0
            conn.execute(delete(call_nodes).where(call_nodes.c.call_id.in_(theirs)))
            conn.execute(delete(call_transfers).where(call_transfers.c.call_id.in_(theirs)))
            records = conn.execute(delete(calls).where(calls.c.caller_key == key)).rowcount or 0
        return profiles, records

    def purge(self, now: datetime) -> int:
        """Delete the profiles whose retention ran out (with their calls); how many."""
        moment = _utc(now)
        expired = select(caller_memory.c.caller_key).where(caller_memory.c.expires_at <= moment)
        with self.engine.begin() as conn:
            conn.execute(delete(caller_calls).where(caller_calls.c.caller_key.in_(expired)))
            return conn.execute(delete(caller_memory).where(caller_memory.c.expires_at <= moment)).rowcount or 0
