"""A line whose clock a script moves by hand (``hand_clock``)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Flask

from ivr.web.forking import STOP_WITHIN, SWEEPER
from ivr.web.services import services

__all__ = ["hand_clock"]


def hand_clock(app: Flask, clock: Callable[[], datetime]) -> Flask:
    """Give the line ``clock`` (moved by the script) and stop its hold sweep.

    The sweep wakes every few seconds of real time and acts on the line's clock: with a
    clock moved by hand it finds a caller taken off hold "long ago" and asks Twilio's API
    again, between the script's steps and after it ended (into whatever answers for
    Twilio then). A script that needs a sweep calls ``services(app).warm.sweep(clock())``
    at the moment it chooses."""
    services(app).clock = clock
    sweeper = app.extensions.get(SWEEPER)
    if sweeper is not None and not sweeper.stop(wait=STOP_WITHIN):
        raise RuntimeError("the hold sweep did not stop")
    return app
