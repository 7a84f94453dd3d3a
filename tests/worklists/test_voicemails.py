"""Voicemails as a worklist: whole calls through the emulator leave a message; the item
is filed in the records, announced once by a signed notification without the caller's
number, played in the console through the server, transcribed when Twilio sends a
transcript (in whatever order it arrives), and marked done with who and when."""
from __future__ import annotations

import base64
import logging

import responses
from worklist_support import ACCOUNT_SID, CALLER, PUBLIC_URL, csrf_of, leave_message

from ivr.records import open_records
from ivr.records.worklists import Worklists
from ivr.web.services import services

RECORDING = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/RE0123456789abcdef0123456789abcdef"


def test_a_message_is_filed_announced_once_played_and_marked_done(work, caplog):
    caplog.set_level(logging.INFO)
    call = leave_message(work, seconds=12)
    call.hang_up()  # Twilio's status callback comes again: still one item, one notification
    work.settle()

    taken = work.taken()
    assert len(taken) == 1, work.delivered
    note = taken[0]["body"]
    assert note["event"] == "worklist.voicemail"
    assert note["item"]["call_sid"] == call.call_sid and note["item"]["duration_s"] == 12.0
    assert note["console_url"].startswith(f"{PUBLIC_URL}/console/work/voicemails#item-")
    assert CALLER not in taken[0]["raw"].decode() and "Recordings" not in taken[0]["raw"].decode()
    assert taken[0]["headers"]["X-IVR-Delivery"] == f"voicemail-{note['item']['id']}"

    alice = work.agent()
    page = alice.get("/console/work/voicemails").get_data(as_text=True)
    item_id = note["item"]["id"]
    assert f'id="item-{item_id}"' in page and CALLER in page
    assert "Recordings" not in page and ACCOUNT_SID not in page  # the browser gets our route, not Twilio's URL

    audio_url = f"/console/work/voicemails/{item_id}/audio"
    assert audio_url in page
    recorded = work.api.add(responses.GET, _recording_of(work, item_id) + ".mp3", body=b"ID3-fake-mp3-bytes",
                            content_type="audio/mpeg")
    played = alice.get(audio_url)
    assert played.status_code == 200 and played.data == b"ID3-fake-mp3-bytes"
    assert played.mimetype == "audio/mpeg"
    sent = recorded.calls[0].request.headers["Authorization"]
    assert sent == "Basic " + base64.b64encode(f"{ACCOUNT_SID}:test-auth-token-worklists-0123456789".encode()).decode()

    assert work.app.test_client().get(audio_url).status_code == 302  # signed out: sent to sign in

    done = alice.post(f"/console/work/items/{item_id}/done", data={"csrf_token": csrf_of(page)})
    assert done.status_code == 302
    assert f'id="item-{item_id}"' not in alice.get("/console/work/voicemails").get_data(as_text=True)
    finished = alice.get("/console/work/voicemails?show=done").get_data(as_text=True)
    assert f'id="item-{item_id}"' in finished and "Done by alice" in finished
    again = alice.post(f"/console/work/items/{item_id}/done", data={"csrf_token": csrf_of(page)}, follow_redirects=True)
    assert "was done already" in again.get_data(as_text=True)
    assert CALLER not in caplog.text  # never in the log


def _recording_of(work, item_id: int) -> str:
    records = open_records(services(work.app).settings.records_url)
    try:
        item = Worklists(records.engine).get(item_id)
        assert item is not None and item.recording_url
        return item.recording_url
    finally:
        records.close()


def test_a_transcript_shows_whether_it_comes_before_or_after_the_call_ends(work):
    late = leave_message(work)
    work.settle()
    reply = late.post("/twilio/transcription", TranscriptionText="Hi, it's Dana about order 123456, call me.",
                      TranscriptionStatus="completed", RecordingSid="RE1")
    assert reply.status == 204

    early = work.call(caller="+15557770999")
    early.press("2")
    early.record(duration=8)
    assert early.post("/twilio/transcription", TranscriptionText="Please ring me back tomorrow.",
                      TranscriptionStatus="completed").status == 204  # before the call has ended
    early.hang_up()
    work.settle()

    page = work.agent().get("/console/work/voicemails").get_data(as_text=True)
    assert "Hi, it&#39;s Dana about order 123456, call me." in page
    assert "Please ring me back tomorrow." in page
    assert page.count('class="item"') == 2
    assert len(work.taken()) == 2  # the early transcript did not announce a second item

    forged = late.post("/twilio/transcription", sign_token="not-the-token", TranscriptionText="forged")
    assert forged.status == 403


def test_a_caller_who_records_nothing_leaves_no_item(work):
    call = work.call()
    call.press("2")
    call.silence()  # the Record times out empty
    if call.state != "ended":
        call.hang_up()
    work.settle()
    assert work.delivered == []
    assert "No voicemail waiting" in work.agent().get("/console/work/voicemails").get_data(as_text=True)


def test_a_receiver_that_fails_gets_the_notification_again_and_a_refusal_is_not_retried(work):
    work.hook_status = [503, 500, 200]
    leave_message(work)
    work.settle()
    assert [d["headers"]["X-IVR-Delivery"] for d in work.delivered] == ["voicemail-1"] * 3

    work.delivered.clear()
    work.hook_status = [400]
    leave_message(work, caller="+15557770456")
    work.settle()
    assert len(work.delivered) == 1  # refused: not sent again


def test_twilio_is_asked_to_transcribe_when_the_line_says_so(tmp_path, api):
    from worklist_support import WorkLine, make_app

    line = WorkLine(make_app(tmp_path, IVR_VOICEMAIL_TRANSCRIPTS="twilio"), api)
    call = line.call()
    call.press("2")
    record = call.responses[-1].body
    record = record.decode() if isinstance(record, bytes) else record
    assert 'transcribe="true"' in record and f'transcribeCallback="{PUBLIC_URL}/twilio/transcription"' in record
    call.record(duration=5)
    line.check()
    services(line.app).store.close()


def test_by_default_twilio_is_not_asked_to_transcribe(work):
    call = work.call()
    call.press("2")
    record = call.responses[-1].body
    record = record.decode() if isinstance(record, bytes) else record
    assert "<Record" in record and "transcribe" not in record
