"""The call engine: what the caller experiences, decided by pure functions.

``step(flow, session, event) -> (session, actions)`` applies one event to a call;
``resume`` gives the current waiting action again (a duplicate or stray webhook);
``enter_flow`` continues a call in another flow; ``rescue`` apologises and hands the
caller to a person when something failed. No I/O, no clock, no Flask or Twilio: the
shells (webhooks, media socket, simulator, evaluation) all drive these four.
"""
from ivr.engine.engine import FlowLoop, UnexpectedEvent, enter_flow, rescue, resume, step

__all__ = ["step", "resume", "enter_flow", "rescue", "UnexpectedEvent", "FlowLoop"]
