"""Where a transfer can send a caller: the written forms of a target.

``+15551234567`` (E.164), ``client:NAME`` (a Twilio Client app), ``sip:user@host``,
``queue:NAME`` (``<Enqueue>``) and ``flex:WW...`` (a TaskRouter workflow).
"""
from __future__ import annotations

import re

__all__ = ["TARGET_FORMS", "TARGET_HINT", "target_kind", "rings_a_person"]

TARGET_FORMS: dict[str, re.Pattern[str]] = {
    "number": re.compile(r"\+[1-9]\d{6,14}"),
    "client": re.compile(r"client:[A-Za-z0-9_.@-]{1,121}"),
    "sip": re.compile(r"sip:[^@\s]+@[A-Za-z0-9.-]+(:\d+)?(;[^\s]*)?"),
    "queue": re.compile(r"queue:[A-Za-z0-9 _.-]{1,64}"),
    "flex": re.compile(r"flex:WW[0-9a-fA-F]{32}"),
}
TARGET_HINT = "use +15551234567 (E.164), client:NAME, sip:user@host, queue:NAME or flex:WORKFLOW_SID"


def target_kind(target: str) -> str | None:
    """``number``, ``client``, ``sip``, ``queue`` or ``flex``; None for anything else."""
    return next((kind for kind, form in TARGET_FORMS.items() if form.fullmatch(target)), None)


def rings_a_person(target: str) -> bool:
    """Whether reaching ``target`` means dialling one person's phone (not a queue or a
    TaskRouter workflow, which find a person by themselves)."""
    return target_kind(target) not in ("queue", "flex", None)
