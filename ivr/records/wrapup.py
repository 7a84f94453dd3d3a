"""What is added to a call's record after the call: the agent's wrap-up (a code from the
flow's list, "did this call need a person?", who said so and when) and what the
escalation detector can learn from those answers.

* ``set_wrap_up``: the agent's answer, on the record of a finished call. The last word
  counts (a second answer replaces the first and names its agent).
* ``kept_after_the_call``: a call's record can be written again (its end reported twice,
  or the caller still in the survey when the agent wrapped up): the wrap-up and the
  survey answers of the record it replaces are kept when the new one has none.
* ``labelled_calls``: every call an agent answered "did it need a person?" for, with the
  detector's score and whether the detector was what sent it to a person; what
  ``ivr eval escalation --from-records`` measures.

Rules of this file: an agent's wrap-up may come before the call's record exists (the
caller rates the call while the agent wraps up); the web shell keeps it in the call's
event log too, and ``build.build_record`` reads it from there (see ``ivr.web.keeper``).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, select, update

from .schema import calls

__all__ = ["AFTER_THE_CALL", "LabelledCall", "set_wrap_up", "kept_after_the_call", "labelled_calls"]

# filled after the call, by the survey and the agent's wrap-up
AFTER_THE_CALL = ("csat", "survey", "disposition", "disposition_by", "needed_person", "disposition_at")


def set_wrap_up(conn: Connection, call_sid: str, code: str, by: str, needed_person: bool, at: datetime) -> bool:
    """The agent's wrap-up on the record of ``call_sid``; False when the call is not on
    record (yet)."""
    done = conn.execute(update(calls).where(calls.c.call_sid == call_sid).values(
        disposition=code, disposition_by=by, needed_person=needed_person, disposition_at=at))
    return bool(done.rowcount)


def kept_after_the_call(conn: Connection, call_sid: str, row: dict[str, Any]) -> dict[str, Any]:
    """``row`` (a call's new ``calls`` row) with the answers given after the call that the
    record it replaces holds and ``row`` does not; a wrap-up given later wins over an
    earlier one."""
    old = conn.execute(select(*(calls.c[name] for name in AFTER_THE_CALL))
                       .where(calls.c.call_sid == call_sid)).first()
    if old is None:
        return row
    was = dict(old._mapping)
    out = dict(row)
    for name in ("csat", "survey"):
        if out.get(name) is None:
            out[name] = was[name]
    newer = was["disposition_at"] is not None and (
        out.get("disposition_at") is None or _naive(was["disposition_at"]) > _naive(out["disposition_at"]))
    if newer:
        for name in ("disposition", "disposition_by", "needed_person", "disposition_at"):
            out[name] = was[name]
    return out


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None) if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class LabelledCall:
    """One call an agent said did (or did not) need a person."""

    call_sid: str
    score: float  # the detector's score when the call ended
    escalated: bool  # the detector is what sent the call to a person
    needed_person: bool  # the agent's answer


def labelled_calls(conn: Connection, since: datetime | None = None, until: datetime | None = None,
                   flow: str | None = None) -> Iterator[LabelledCall]:
    """Every call with an agent's "did it need a person?" answer, started in [since, until)."""
    c = calls.c
    where: list[ColumnElement[bool]] = [c.needed_person.is_not(None)]
    if since is not None:
        where.append(c.started_at >= since)
    if until is not None:
        where.append(c.started_at < until)
    if flow:
        where.append(c.flow == flow)
    query = select(c.call_sid, c.score, c.transfer_kind, c.needed_person).where(and_(*where)).order_by(c.started_at)
    for row in conn.execute(query):
        yield LabelledCall(row.call_sid, float(row.score or 0.0), row.transfer_kind == "escalated",
                           bool(row.needed_person))
