"""The nouns every layer shares, importing nothing else of ``ivr``.

``events`` (what happens to a call), ``actions`` (what the caller gets next),
``session`` (a call's state), ``phases`` (where a call is, how a transfer attempt
ended), ``context`` (the record handed to a person), ``flow`` (a loaded call flow and
its parts), ``problems`` (file:line:col errors for flow authors), ``escalation`` (the
detector's settings) and ``targets`` (transfer targets).
"""
