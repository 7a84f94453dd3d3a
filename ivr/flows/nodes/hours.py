"""``hours``: is the line open now? Business hours with a time zone and holidays.

```yaml
hours: {timezone: America/New_York, open: {mon-fri: "08:00-20:00", sat: "09:00-14:00"},
        holidays: ["2026-12-25"], closed: after_hours}      # flow level: checked when a call starts
nodes:
  check_hours:
    hours: {open: store_hours, closed: closed_now, holiday: holiday_message}
```
A node may carry its own ``schedule:`` (same shape as the flow's ``hours``); otherwise it
uses the flow's. ``holiday`` defaults to ``closed``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ivr.model.flow import Node, Schedule
from ivr.model.problems import Where, did_you_mean

from ..reader import Context, Reader
from ..schema_parts import obj, ref
from ..yamlpos import Y
from .base import NodeKind, Step

__all__ = ["HoursNode", "parse_schedule", "status", "KIND"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")


@dataclass(frozen=True)
class HoursNode(Node):
    schedule: Schedule | None = None
    open: str = ""
    closed: str = ""
    holiday: str = ""

    kind = "hours"

    def edges(self) -> tuple[tuple[str, str], ...]:
        out = [("open", self.open), ("closed", self.closed)]
        if self.holiday:
            out.append(("holiday", self.holiday))
        return tuple(out)


class Hours(NodeKind[HoursNode]):
    key = "hours"
    node = HoursNode
    description = "Open or closed."
    rank = 60
    automatic = True
    dot_shape = "diamond"

    def parse(self, node_id: str, body: Y, node: Reader, ctx: Context) -> HoursNode:
        r = Reader(body, ctx, f"hours '{node_id}'")
        schedule = None
        s = r.sub("schedule", f"the schedule of hours '{node_id}'")
        if s is not None and s.ok:
            schedule = parse_schedule(s, ctx)
            s.done()
        open_, closed = r.ref("open", node_id), r.ref("closed", node_id)
        holiday = r.ref("holiday", node_id, required=False)
        r.done()
        return HoursNode(node_id, node.y.where, schedule, open_, closed, holiday)

    def enter(self, node: HoursNode, call: Step) -> None:
        schedule = node.schedule or call.flow.hours
        now = schedule.status(call.at) if schedule else "open"
        call.goto({"open": node.open, "closed": node.closed, "holiday": node.holiday or node.closed}[now])

    def schema_defs(self) -> dict[str, Any]:
        return {"hours": obj("Is the line open now?", {
            "schedule": ref("schedule", "Hours of this node (default: the flow's)."),
            "open": ref("nodeId", "Where the call goes while the line is open."),
            "closed": ref("nodeId", "Where it goes outside the hours."),
            "holiday": ref("nodeId", "Where it goes on a holiday (default: closed)."),
        }, ("open", "closed"))}


KIND = Hours()


def parse_schedule(r: Reader, ctx: Context) -> Schedule:
    """Reads timezone, open and holidays from ``r`` (the caller reads any other keys)."""
    tz = r.text("timezone", "UTC") or "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        ctx.error(r.where("timezone"), f"unknown time zone '{tz}'", "use an IANA name such as America/New_York or Europe/London")
        tz = "UTC"
    week: dict[int, list[tuple[int, int]]] = {}
    spec = r.get("open")
    if spec is None:
        r.missing("open", 'e.g. open: {mon-fri: "08:00-20:00", sat: "09:00-14:00"}')
    elif not isinstance(spec.value, dict):
        ctx.error(spec.where, "'open' must map days to hours, e.g. {mon-fri: \"08:00-20:00\"}")
    else:
        for days, value in spec.value.items():
            where = spec.key_where[days]
            numbers = _days(days, where, ctx)
            for text in (value.value if isinstance(value.value, list) else [value]):
                span = _span(str(text.value), text.where, ctx)
                for d in numbers:
                    if span:
                        week.setdefault(d, []).append(span)
    holidays: set[date] = set()
    listed = r.get("holidays") if r.has("holidays") else None  # only a key that is there counts as read
    for item in (listed.value if listed is not None and isinstance(listed.value, list) else []):
        value = item.value
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, date):
            holidays.add(value)
            continue
        try:
            holidays.add(date.fromisoformat(str(value)))
        except ValueError:
            ctx.error(item.where, f"holiday '{value}' is not a date", 'write dates as "2026-12-25"')
    if listed is not None and not isinstance(listed.value, list):
        ctx.error(listed.where, "'holidays' must be a list of dates")
    return Schedule(tz, {d: tuple(sorted(s)) for d, s in week.items()}, frozenset(holidays), r.y.where)


def _days(spec: str, where: Where, ctx: Context) -> list[int]:
    out: list[int] = []
    for part in str(spec).lower().replace(" ", "").split(","):
        ends = part.split("-")
        if len(ends) > 2 or any(e not in DAYS for e in ends):
            ctx.error(where, f"'{spec}' is not a day or a range of days",
                      did_you_mean(ends[0], DAYS)
                      or "use mon, tue, wed, thu, fri, sat, sun, ranges like mon-fri, or lists like sat,sun")
            return []
        a, b = DAYS.index(ends[0]), DAYS.index(ends[-1])
        out.extend(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return out


def _span(text: str, where: Where, ctx: Context) -> tuple[int, int] | None:
    if text.strip().lower() == "closed":
        return None
    m = _RANGE.fullmatch(text.strip())
    if not m:
        ctx.error(where, f"'{text}' is not a time range", 'write hours as "08:00-20:00", or "closed"')
        return None
    h1, m1, h2, m2 = map(int, m.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
        ctx.error(where, f"'{text}' has an impossible time")
        return None
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end <= start:
        ctx.error(where, f"'{text}' ends before it starts", "split an overnight shift over two days")
        return None
    return start, end


def status(schedule: Schedule, at: datetime) -> str:
    """``open``, ``closed`` or ``holiday`` at moment ``at`` (an aware datetime)."""
    return schedule.status(at)
