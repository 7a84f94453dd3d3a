"""Call state across webhooks on a real SQLite store: status callbacks close calls,
duplicate answers are applied once, unknown calls get a person, concurrent requests for
one call lose nothing."""
from __future__ import annotations

import contextlib
import threading
import time

from web_support import AUTH_TOKEN, PUBLIC_URL, check_reply


def test_status_completed_ends_the_session_and_keeps_its_events(line):
    call = line.call()
    call.press("1")
    assert [c["call_sid"] for c in line.store.list_calls(active=True)] == [call.call_sid]
    reply = call.hang_up(duration=33)
    assert reply.status == 204
    assert line.store.list_calls(active=True) == []
    [summary] = line.store.list_calls(active=False)
    assert summary["call_sid"] == call.call_sid and summary["finished"]
    assert summary["outcome"] == "abandoned" and summary["node"] == "order"
    assert summary["finished_at"] is not None
    assert [e["type"] for e in line.events(call)] == ["CallStarted", "DigitsPressed", "CallEnded"]
    # a late duplicate of the callback changes nothing
    again = call.post("/twilio/status", CallStatus="completed")
    assert again.status == 204
    assert [e["type"] for e in line.events(call)] == ["CallStarted", "DigitsPressed", "CallEnded"]


def test_status_for_a_live_call_that_is_not_over_changes_nothing(line):
    call = line.call()
    before = line.store.load(call.call_sid)
    assert call.post("/twilio/status", CallStatus="in-progress").status == 204
    assert line.store.load(call.call_sid).version == before.version
    call.press("3")
    assert call.heard("Our stores are open")


def test_duplicate_gather_action_is_applied_once(line):
    call = line.call()
    action = call.gather.action                       # .../twilio/step?node=main&seq=1
    first = call.post(action, Digits="1")
    second = call.post(action, Digits="1")            # Twilio's retry of the same answer
    assert first.status == second.status == 200
    assert "six digit order number" in first.body
    assert "six digit order number" in second.body     # the current prompt, again
    data = line.store.load(call.call_sid).data
    assert data["seq"] == 2 and data["session"]["node"] == "order"
    assert [e["type"] for e in line.events(call)] == ["CallStarted", "DigitsPressed"]
    assert len(data["session"]["turns"]) == 1
    late = call.post(action, Digits="3")              # a late answer to the old prompt
    assert "six digit order number" in late.body
    assert line.store.load(call.call_sid).data["seq"] == 2


def test_duplicate_recording_action_is_applied_once(line):
    line.clock.set(line.clock.at.replace(day=8))      # Sunday: after hours
    call = line.call()
    call.press("2")
    action = call.recording.action
    params = {"RecordingUrl": "https://api.twilio.com/rec/RE1", "RecordingDuration": "9"}
    assert "has been recorded" in call.post(action, **params).body
    call.post(action, **params)
    kinds = [e["type"] for e in line.events(call)]
    assert kinds.count("RecordingDone") == 1


def test_unknown_call_gets_an_apology_and_a_person(line):
    stranger = line.caller(call_sid="CA" + "0" * 32)
    for path in ("/twilio/step?seq=1&node=main", "/twilio/dial?attempt=1", "/twilio/recording?seq=3"):
        reply = stranger.post(path, Digits="1", DialCallStatus="busy")
        root = check_reply(reply)
        assert root is not None, path
        assert [child.tag for child in root] == ["Say", "Dial", "Say", "Hangup"], reply.body
        assert "Sorry" in root[0].text
        assert root[1][0].text.strip(), "the apology must dial someone"
    assert line.store.load(stranger.call_sid) is None


def test_unknown_call_dials_the_fallback_number(tmp_path):
    from web_support import Clock, Line, make_app

    clock = Clock()
    line = Line(make_app(tmp_path, clock, IVR_FALLBACK_NUMBER="+15005550099"), clock)
    reply = line.caller().post("/twilio/step?seq=4", Digits="1")
    assert "<Number>+15005550099</Number>" in reply.body
    line.check()


def test_whisper_for_a_call_no_longer_waiting(line):
    call = line.call()
    call.press("0")
    whisper = call.dial.targets[0].url
    call.hang_up()
    reply = call.post(whisper)
    assert "no longer waiting" in reply.body and "<Hangup" in reply.body


def test_two_concurrent_requests_for_one_call_lose_no_update(line, monkeypatch):
    """Both requests read the same version (the store is slowed down between load and
    save so that they always overlap); the version check makes one of them re-run on the
    fresh state, so both answers are in the call."""
    call = line.call()
    store = line.store
    real_load = store.load
    barrier = threading.Barrier(2, timeout=5)

    def slow_load(call_sid):
        stored = real_load(call_sid)
        if threading.current_thread().name.startswith("racer"):
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()                         # both have loaded the same version
            time.sleep(0.01)
        return stored

    monkeypatch.setattr(store, "load", slow_load)
    version = real_load(call.call_sid).version
    results = {}

    def answer(name, form):
        client = line.app.test_client()
        from ivr.testing.signing import sign_request

        signed = sign_request("POST", f"{PUBLIC_URL}/twilio/step", {**call.params, **form},
                              AUTH_TOKEN)
        response = client.post("/twilio/step", base_url=PUBLIC_URL, data=signed.form, headers=signed.headers)
        results[name] = response.status_code

    racers = [threading.Thread(target=answer, name=f"racer-{i}", args=(f"racer-{i}", form))
              for i, form in enumerate([{"SpeechResult": "banana"}, {"SpeechResult": "pineapple"}])]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(10)
    monkeypatch.setattr(store, "load", real_load)
    assert results == {"racer-0": 200, "racer-1": 200}
    stored = store.load(call.call_sid)
    texts = sorted(t["text"] for t in stored.data["session"]["turns"])
    assert texts == ["banana", "pineapple"], texts                   # neither answer lost
    assert stored.data["seq"] == 3
    assert stored.version >= version + 2
    assert sorted(e.get("text", "") for e in store.events(call.call_sid)[1:]) == ["banana", "pineapple"]


def test_many_calls_in_parallel_threads_keep_to_themselves(line):
    """Twelve callers at once on real server-like threads: each call's state is its own."""
    errors = []

    def one_call(i):
        try:
            call = line.caller(caller=f"+1555000{i:04d}")
            call.dial()
            call.press("1")
            call.press("123456")
            assert call.heard("has shipped")
            call.hang_up()
        except Exception as exc:  # reported below with the thread's number
            errors.append((i, repr(exc)))

    threads = [threading.Thread(target=one_call, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    finished = line.store.list_calls(active=False, limit=100)
    assert len(finished) == 12
    assert {c["caller"] for c in finished} == {f"+1555000{i:04d}" for i in range(12)}
