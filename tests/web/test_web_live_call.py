"""The live-call record the web shells keep per call: what the store sees of it, and what
it answers about a transfer attempt or a retried request."""
from __future__ import annotations

from dataclasses import replace

from ivr.model.actions import Hangup, Listen, Speak
from ivr.model.session import Session
from ivr.store.base import SUMMARY_FIELDS, summary_fields
from ivr.web.live import Answer, HeardSpeech, LiveCall, LookupClaim

SESSION = Session(call_sid="CA1", flow="acme-support", flow_version="v1", started_at="2026-03-04T15:00:00+00:00",
                  caller="+15551230000", to="+15005550006", node="main", phase="listening")
MENU = Listen("main", (Speak("Press 1 for orders."),), phrases=("orders", "agent"))


def test_a_new_call_is_stored_with_the_summary_the_store_indexes():
    live = LiveCall.new(SESSION, [MENU])
    data = live.to_stored()
    assert summary_fields(data) == {"flow": "acme-support", "node": "main", "phase": "listening", "score": 0.0,
                                    "caller": "+15551230000", "outcome": ""}
    assert set(SUMMARY_FIELDS) <= set(data)
    assert data["seq"] == 1 and len(data["stream_secret"]) >= 20 and data["listening"] is True
    assert data["listen_phrases"] == ["orders", "agent"]
    assert "declined_attempt" not in data and "agent_leg" not in data and "pending_speech" not in data


def test_the_record_round_trips_and_keeps_what_it_does_not_know():
    live = replace(LiveCall.new(SESSION, [MENU]), seq=4, streaming=True, declined_attempt="2", agent_leg="CAleg",
                   agent_attempt=2, ended_status="completed",
                   pending_speech=HeardSpeech("where is my order", 0.8, -20.5, 1.2, 4),
                   lookup_claim=LookupClaim("t0", 12.5, 3, (Speak("One moment."),)),
                   answer=Answer(3, 4, (Speak("Thanks.", audio="thanks.wav"),)),
                   other={"added_by_a_newer_version": [1, 2]})
    again = LiveCall.from_stored(live.to_stored())
    assert again == live


def test_a_transfer_attempt_is_live_only_while_the_caller_waits_on_it():
    waiting = LiveCall(replace(SESSION, phase="transfer", transfer_attempt=2))
    assert waiting.is_attempt_live(2) and waiting.is_attempt_live("2")
    assert not waiting.is_attempt_live("1") and not waiting.is_attempt_live("")
    assert not LiveCall(replace(SESSION, phase="connected", transfer_attempt=2)).is_attempt_live("2")
    passed = replace(waiting, declined_attempt="2")
    assert passed.was_declined("2") and not passed.was_declined("1") and not waiting.was_declined("2")


def test_a_retry_of_the_last_answered_request_hears_what_it_heard():
    said = (Speak("Your order is on its way."),)
    live = LiveCall(replace(SESSION, phase="ended"), seq=5, answer=Answer(for_seq=4, at_seq=5, said=said))
    assert live.said_for(4) == said
    assert live.said_for(3) == () and live.said_for(None) == ()
    assert replace(live, seq=6).said_for(4) == ()  # the call moved on since: only where it is now
    assert live.said_since(5) == said and live.said_since(4) == ()


def test_what_the_recogniser_expects_follows_the_prompt():
    live = LiveCall.new(SESSION, [MENU]).now_at(replace(SESSION, phase="ended"), [Speak("Goodbye."), Hangup()])
    assert not live.listening and live.listen_phrases == ()
