"""The worklists' table on SQLite and PostgreSQL: one item per call and kind whatever the
order and the number of hosts that file it; a transcript before its voicemail; done
once; call-back outcomes only for the attempt they belong to."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from ivr.records import open_records
from ivr.records.worklists import Worklists

T = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def voicemail(sid: str, at: datetime = T, caller: str = "+15551230000") -> dict:
    return {"kind": "voicemail", "call_sid": sid, "flow": "acme-support", "caller": caller,
            "line_number": "+15005550006", "created_at": at, "due_at": None,
            "recording_url": f"https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE{sid}",
            "duration_s": 9.0}


def callback(sid: str, due: datetime, caller: str = "+15551230000") -> dict:
    return {"kind": "callback", "call_sid": sid, "flow": "acme-support", "caller": caller,
            "line_number": "+15005550006", "created_at": T, "due_at": due, "recording_url": None,
            "duration_s": None}


def test_two_hosts_filing_the_same_call_at_once_make_one_item(records):
    url = records.engine.url.render_as_string(hide_password=False)
    other = open_records(url.replace("postgresql+psycopg", "postgresql"))
    lists = [Worklists(records.engine), Worklists(other.engine)]
    results: list[bool] = []
    start = threading.Barrier(2)

    def file(worklists: Worklists) -> None:
        start.wait()
        results.append(worklists.add(voicemail("CA1"))[1])
    threads = [threading.Thread(target=file, args=(w,)) for w in lists]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    other.close()
    assert sorted(results) == [False, True]
    assert len(lists[0].items("voicemail")) == 1


def test_a_transcript_before_the_voicemail_is_kept_and_the_item_is_new_once(records):
    lists = Worklists(records.engine)
    assert lists.set_transcript("CA2", "call me back", "twilio", T) is False
    assert lists.items("voicemail") == []  # nothing to play yet
    item, created = lists.add(voicemail("CA2"))
    assert created and item.transcript == "call me back" and item.recording_url
    again, created_again = lists.add(voicemail("CA2"))
    assert not created_again and again.id == item.id
    assert lists.set_transcript("CA2", "  ", "twilio", T) is False and lists.get(item.id).transcript == "call me back"


def test_done_once_and_lists_in_their_order(records):
    lists = Worklists(records.engine)
    late, _ = lists.add(callback("CA3", T + timedelta(hours=3), "+15550000003"))
    soon, _ = lists.add(callback("CA4", T + timedelta(hours=1), "+15550000004"))
    assert [i.id for i in lists.items("callback")] == [soon.id, late.id]
    assert lists.mark_done(soon.id, "alice", T + timedelta(minutes=5))
    assert not lists.mark_done(soon.id, "bob", T + timedelta(minutes=6))
    done = lists.items("callback", "done")
    assert [(i.id, i.done_by) for i in done] == [(soon.id, "alice")]
    assert lists.counts(T + timedelta(hours=4)) == {"voicemail": 0, "callback": 1, "overdue": 1}


def test_call_back_outcomes_belong_to_their_attempt(records):
    lists = Worklists(records.engine)
    item, _ = lists.add(callback("CA5", T + timedelta(hours=1)))
    lists.attempt_started(item.id, "CAfirst", "alice", T)
    lists.attempt_started(item.id, "CAsecond", "alice", T + timedelta(minutes=2))
    assert lists.attempt_ended("CAfirst", "busy") is None  # replaced by the second attempt
    assert lists.attempt_ended("CAsecond", "reached").outcome == "reached"
    assert lists.attempt_ended("CAsecond", "agent-missed", only_if_calling=True).outcome == "reached"


def test_forget_takes_the_callers_items_and_purge_the_old_ones(records):
    lists = Worklists(records.engine)
    lists.add(voicemail("CA6", caller="+15550000006"))
    lists.add(callback("CA7", T, caller="+15550000006"))
    lists.add(voicemail("CA8", at=T + timedelta(days=30), caller="+15550000008"))
    records.forget("+15550000006")
    assert [i.call_sid for i in lists.items("voicemail")] == ["CA8"] and lists.items("callback") == []
    records.purge(T + timedelta(days=30 + 366))
    assert lists.items("voicemail") == []
