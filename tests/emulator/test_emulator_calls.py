"""The caller emulator against the demo app, in-process and over real HTTP."""
from __future__ import annotations

import pytest
from emulator_demo_app import (AUTH_TOKEN, PUBLIC_URL, LiveServer, create_demo_app,
                               create_proxied_app, seen)
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.testing import (APPLICATION_ERROR, Caller, CallStateError, FlaskTransport,
                         HttpTransport)


def assert_all_signed(app):
    assert app.config["SEEN"], "the app got no request"
    assert all(s.valid for s in app.config["SEEN"]), app.config["SEEN"]


def test_incoming_call_runs_menu_like_twilio(call, app):
    call.dial()
    assert call.state == "listening"
    assert call.heard("press 1 or say ORDERS")
    assert call.heard("[play /audio/chime.wav]")
    assert call.last_heard.startswith("Welcome to Acme support.")
    assert call.gather["numDigits"] == "1" and call.gather.num_digits == 1
    assert call.gather.input == "dtmf speech" and call.gather["hints"] == "orders, billing"
    assert call.gather["timeout"] == "3" and call.gather["speechTimeout"] == "auto"
    assert call.gather.action == f"{PUBLIC_URL}/menu" and not call.gather.action_on_empty_result
    assert [(s.url, s.parameters) for s in call.streams] == [
        ("wss://ivr.example.com/media", {"call_secret": "s3cret"})]
    assert [(p.status, p.content_type) for p in call.played] == [(200, "audio/wav")]
    first = seen(app, "/twilio/voice")[0].params
    assert first["CallStatus"] == "ringing" and first["Direction"] == "inbound"
    assert first["From"] == first["Caller"] == "+15551230000"
    assert first["To"] == first["Called"] == "+15005550006"
    assert first["CallSid"].startswith("CA") and first["AccountSid"].startswith("AC")
    assert first["ApiVersion"] == "2010-04-01"
    url, status, content_type, body = call.responses[0]
    assert (url, status) == (f"{PUBLIC_URL}/twilio/voice", 200) and "<Gather" in body
    assert_all_signed(app)
    assert not call.errors


@pytest.mark.parametrize("forgery", [
    {"signature": "bad"},
    {"signature": ""},
    {"sign_token": "not-the-auth-token"},
    {"sign_url": "https://evil.example.com/twilio/voice"},
])
def test_forged_signatures_are_rejected(transport, app, forgery):
    call = Caller(transport, auth_token=AUTH_TOKEN, public_url=PUBLIC_URL, **forgery)
    call.dial()
    assert [(e.code, e.message) for e in call.errors][0] == (11200, "HTTP 403 from POST")
    assert call.state == "ended" and call.ended_by == "application-error"
    assert call.heard(APPLICATION_ERROR)
    assert not seen(app, "/twilio/voice")[0].valid


def test_wrong_public_url_is_rejected(transport, app):
    call = Caller(transport, auth_token=AUTH_TOKEN, public_url="https://other.example.com")
    call.dial()
    assert call.errors and "403" in str(call.errors[0])


def test_post_signs_and_forges_single_requests(call):
    assert call.post("/twilio/status", CallStatus="completed").status == 204
    assert call.post("/twilio/status", signature="bad").status == 403
    assert call.post("/twilio/status", sign_token="other").status == 403


def test_press_posts_digits_then_hangup_ends_call(call, app):
    call.dial()
    call.press("2")
    assert call.heard("billing is closed") and not call.heard("welcome")
    assert not call.heard_ever("never reached")
    assert call.state == "ended" and call.ended_by == "hangup"
    menu = seen(app, "/menu")[0].params
    assert menu["Digits"] == "2" and menu["CallStatus"] == "in-progress"
    assert menu["CallSid"] == call.call_sid
    status = seen(app, "/twilio/status")[0].params
    assert status["CallStatus"] == "completed" and int(status["CallDuration"]) > 0
    assert ("caller", "pressed 2") in call.transcript
    assert ("ivr", "Billing is closed. Goodbye.") in call.transcript
    assert call.hang_up() is None  # already ended: no second status callback
    assert len(seen(app, "/twilio/status")) == 1
    with pytest.raises(CallStateError, match="ended"):
        call.press("1")
    assert_all_signed(app)


def test_press_keeps_only_num_digits(call, app):
    call.dial()
    call.press("21")
    assert seen(app, "/menu")[0].params["Digits"] == "2"


def test_say_posts_speech_result_and_confidence(call, app):
    call.dial()
    call.say("where is my order", confidence=0.87)
    params = seen(app, "/menu")[0].params
    assert params["SpeechResult"] == "where is my order" and params["Confidence"] == "0.87"
    assert "Digits" not in params
    assert call.heard("orders team") and call.state == "dialing"
    assert ("caller", "said where is my order") in call.transcript


def test_silence_falls_through_to_next_verb_and_redirect(call, app):
    call.dial()
    call.silence()
    assert call.heard("we did not get that") and call.heard("welcome")
    assert call.state == "listening"
    assert len(seen(app, "/twilio/voice")) == 2 and not seen(app, "/menu")


def test_redirect_get_and_speech_gather_with_get_action(call, app):
    call.dial()
    call.press("5")
    assert call.heard("how did we do") and call.gather.method == "GET"
    with pytest.raises(CallStateError, match="input='speech'"):
        call.press("1")
    call.say("great service", confidence=None)
    assert call.heard("you said great service, confidence none")
    answer = seen(app, "/survey-answer")[0]
    assert answer.method == "GET" and answer.params["SpeechResult"] == "great service"
    assert_all_signed(app)


def test_silence_with_action_on_empty_result_posts_action(call, app):
    call.dial()
    call.press("5")
    call.silence()
    assert call.heard("no answer, goodbye") and not call.heard_ever("never reached")
    assert "SpeechResult" not in seen(app, "/survey-answer")[0].params
    assert call.state == "ended"


def test_dial_whisper_agent_accepts_and_dial_action_runs(call, app):
    call.dial()
    call.press("1")
    assert call.state == "dialing" and call.heard("connecting you to the orders team")
    assert [(t.kind, t.address, t.url) for t in call.dial.targets] == [
        ("number", "+15550001111", f"{PUBLIC_URL}/whisper"), ("client", "alice", None)]
    assert call.dial.action == f"{PUBLIC_URL}/dial-done" and call.dial.conference is None
    agent = call.agent_leg(0)
    assert agent.state == "listening" and agent.heard("press 1 to accept")
    whisper = seen(app, "/whisper")[0].params
    assert whisper["ParentCallSid"] == call.call_sid != whisper["CallSid"] == agent.call_sid
    assert whisper["Direction"] == "outbound-dial" and whisper["To"] == "+15550001111"
    assert whisper["From"] == "+15005550006"  # the Dial's callerId
    agent.press("1")
    assert agent.heard("connecting") and agent.state == "bridged"
    call.dial_result("completed", duration=42)
    assert call.heard("dial status completed") and not call.heard_ever("never reached")
    done = seen(app, "/dial-done")[0].params
    assert done["DialCallSid"] == agent.call_sid and done["DialCallDuration"] == "42"
    assert call.state == "ended"
    assert_all_signed(app)


def test_agent_rejects_whisper_and_caller_hears_busy(call, app):
    call.dial()
    call.press("1")
    agent = call.agent_leg()
    agent.press("2")
    assert agent.state == "ended" and agent.ended_by == "hangup"
    assert call.agent_leg(1).state == "bridged"  # the client has no whisper url
    call.dial_result("no-answer")
    assert call.heard("all agents are busy")
    with pytest.raises(CallStateError, match="has 2 parties"):
        call.agent_leg(2)


def test_dial_without_action_runs_next_verb(call, app):
    call.dial()
    call.press("6")
    assert call.dial.targets[0].address == "+15550002222" and call.dial.action is None
    call.dial_result("completed", duration=5)
    assert call.heard("the call has ended") and call.state == "ended"


def test_record_posts_action_and_recording_status_callback(call, app):
    call.dial()
    call.press("3")
    assert call.state == "recording" and call.recording.action == f"{PUBLIC_URL}/recorded"
    call.record(url="https://api.twilio.com/rec/RE1", duration=7)
    assert call.heard("thanks, we got 7 seconds")
    recorded = seen(app, "/recorded")[0].params
    assert recorded["RecordingUrl"] == "https://api.twilio.com/rec/RE1"
    assert recorded["Digits"] == "#"
    status = seen(app, "/recording-status")[0].params
    assert status["RecordingStatus"] == "completed" and status["RecordingDuration"] == "7"
    assert_all_signed(app)


def test_empty_recording_skips_action(call, app):
    call.dial()
    call.press("3")
    call.silence()
    assert call.heard("we got no recording") and not seen(app, "/recorded")
    assert call.state == "ended" and call.ended_by == "end-of-document"


def test_enqueue_fetches_wait_url_once_and_dequeue_posts_action(call, app):
    call.dial()
    call.press("4")
    assert call.state == "queued" and call.queue.name == "support"
    assert call.heard("you are number 1 in line") and call.heard("[play /audio/hold.wav]")
    assert len(seen(app, "/hold")) == 1
    assert seen(app, "/hold")[0].params["CurrentQueueSize"] == "1"
    call.dequeue("bridged", queue_time=30)
    assert call.heard("queue result bridged") and not call.heard("queue over")
    assert seen(app, "/queue-done")[0].params["QueueTime"] == "30"


def test_hang_up_in_queue_posts_queue_result_hangup(call, app):
    call.dial()
    call.press("4")
    reply = call.hang_up(duration=61)
    assert reply.status == 204 and call.state == "ended"
    assert seen(app, "/queue-done")[0].params["QueueResult"] == "hangup"
    status = seen(app, "/twilio/status")[0].params
    assert (status["CallDuration"], status["Duration"]) == ("61", "2")


def test_end_of_document_hangs_up(call, app):
    call.dial()
    call.press("7")
    assert call.last_heard == "Goodbye." and call.state == "ended"
    assert call.ended_by == "end-of-document" and seen(app, "/twilio/status")


@pytest.mark.parametrize("key, code, words", [
    ("9", 11200, "HTTP 500"), ("8", 12300, "text/plain"), ("0", 12100, "parse")])
def test_application_errors_are_recorded_and_end_the_call(call, key, code, words):
    call.dial()
    call.press(key)
    assert len(call.errors) == 1 and call.errors[0].code == code
    assert words in call.errors[0].message and call.errors[0].url == f"{PUBLIC_URL}/menu"
    assert call.heard("application error") and call.state == "ended"


def test_exception_in_testing_app_is_a_500_naming_it(app):
    app.testing = True  # Flask now propagates exceptions to the test client
    call = Caller(FlaskTransport(app), auth_token=AUTH_TOKEN, public_url=PUBLIC_URL)
    call.dial("/boom")
    assert call.errors[0].code == 11200
    assert call.errors[0].message == "HTTP 500 from POST: RuntimeError: kaboom"


def test_302_is_followed_with_get(call, app):
    call.dial("/moved")
    assert call.heard("stream closed") and seen(app, "/after-stream")[0].method == "GET"
    assert not call.errors


def test_hang_up_while_recording_posts_action_with_digits_hangup(call, app):
    call.dial()
    call.press("3")
    call.hang_up()
    assert seen(app, "/recorded")[0].params["Digits"] == "hangup"
    assert call.state == "ended" and call.ended_by == "caller"
    assert ("caller", "hung up") in call.transcript


def test_connect_stream_blocks_until_closed(call):
    call.dial("/stream-entry")
    assert call.state == "streaming" and call.streams[0].bidirectional
    call.close_stream()
    assert call.heard("stream closed") and call.state == "ended"


def test_conference_dial_records_room_and_wait_url(call, app):
    call.dial("/conference-entry")
    assert call.state == "dialing" and call.dial.conference == "room-42"
    assert call.dial.targets[0].attrs["startConferenceOnEnter"] == "false"
    assert call.heard("please hold while we find an agent")
    call.dial_result("completed")
    assert "DialCallSid" not in seen(app, "/dial-done")[0].params


def test_update_replaces_what_the_call_is_doing(call, app):
    call.dial()
    call.update("/survey", method="GET")
    assert call.heard("how did we do") and not call.heard("welcome")
    assert seen(app, "/survey")  # fetched like calls(sid).update(url=..., method="GET")


def test_unreachable_server_is_an_application_error():
    call = Caller(HttpTransport("http://127.0.0.1:9", timeout=2), auth_token=AUTH_TOKEN,
                  status_path=None)
    call.dial()
    assert call.errors and call.errors[0].code == 11200 and call.state == "ended"


@pytest.mark.parametrize("kind", ["flask", "http"])
def test_app_validating_request_url_behind_proxyfix(kind):
    app = create_proxied_app()
    server = LiveServer(app) if kind == "http" else None
    transport = HttpTransport(server.url) if server else FlaskTransport(app)
    try:
        call = Caller(transport, auth_token=AUTH_TOKEN, public_url=PUBLIC_URL, status_path=None)
        call.dial()
    finally:
        if server:
            server.stop()
    assert not call.errors
    assert call.heard(f"validated {PUBLIC_URL}/twilio/voice")


@settings(max_examples=40, deadline=None)
@given(text=st.text(min_size=1, max_size=60).filter(str.strip))
def test_any_speech_is_signed_so_the_app_accepts_it(text):
    app = create_demo_app()
    call = Caller(FlaskTransport(app), auth_token=AUTH_TOKEN, public_url=PUBLIC_URL)
    call.dial()
    call.say(text)
    assert seen(app, "/menu")[0].params["SpeechResult"] == text
    assert_all_signed(app)
    assert not call.errors
