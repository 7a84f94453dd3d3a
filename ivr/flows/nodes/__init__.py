"""Node kinds of the call-flow language, one module each, and their registry.

The registry maps the YAML key of a kind (``menu:``, ``say:`` ...) to its module. The
loader calls ``module.parse``; the engine dispatches to ``enter`` (every kind),
``listen``/``interpret`` (kinds that listen) and ``on_result``/``on_recording`` (kinds
that wait for the shell).
"""
from __future__ import annotations

from types import ModuleType

from . import branch, callback, collect, goto, hangup, hours, lookup, menu, say, transfer, voicemail

REGISTRY: dict[str, ModuleType] = {
    "menu": menu,
    "collect": collect,
    "say": say,
    "lookup": lookup,
    "branch": branch,
    "hours": hours,
    "transfer": transfer,
    "voicemail": voicemail,
    "callback": callback,
    "hangup": hangup,
    "goto": goto,
}

BY_CLASS: dict[type, ModuleType] = {
    menu.MenuNode: menu,
    collect.CollectNode: collect,
    say.SayNode: say,
    lookup.LookupNode: lookup,
    branch.BranchNode: branch,
    hours.HoursNode: hours,
    transfer.TransferNode: transfer,
    voicemail.VoicemailNode: voicemail,
    callback.CallbackNode: callback,
    hangup.HangupNode: hangup,
    goto.GotoNode: goto,
}
