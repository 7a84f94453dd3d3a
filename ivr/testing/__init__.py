"""Test tools: a caller emulator that behaves like Twilio towards the Flask app.

Usage::

    from ivr.testing import Caller, FlaskTransport
    call = Caller(FlaskTransport(app), auth_token="secret")
    call.dial("/twilio/voice")
    assert call.heard("welcome")
    call.press("1")

Modules: ``caller`` (the test API), ``leg`` (runs TwiML), ``twiml`` (parses it),
``signing`` (X-Twilio-Signature), ``transport`` (in-process or real HTTP), ``clock`` (a
line whose clock the script moves by hand).
"""
from .caller import AgentLeg, Caller, CallLeg
from .clock import hand_clock
from .leg import APPLICATION_ERROR, CallError, CallStateError, Played
from .signing import Forgery, compute_signature, sign_request
from .transport import FlaskTransport, HttpTransport, Reply, Transport, TransportError

__all__ = [
    "APPLICATION_ERROR", "AgentLeg", "CallError", "CallLeg", "CallStateError", "Caller",
    "FlaskTransport", "Forgery", "HttpTransport", "Played", "Reply", "Transport",
    "TransportError", "compute_signature", "hand_clock", "sign_request",
]
