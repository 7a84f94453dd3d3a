"""Every call leaves one durable record when it ends: whole calls through the webhooks,
then the records database read back (``ivr.records``, SQLite in the line's var folder)."""
from __future__ import annotations

import logging

from web_support import Line, make_app

from ivr.records import open_records
from ivr.web.services import services


def records_of(line: Line):
    parts = services(line.app)
    parts.background.wait_idle()  # the record is written off the webhook's thread
    return open_records(parts.settings.records_url)


def test_a_contained_call_and_a_hang_up_in_the_menu_are_on_record(line):
    done = line.call()
    done.press("1")
    done.press("123456")
    done.press("2")
    assert done.heard("please rate this call")  # served: the survey after the call
    done.press("4")
    done.record(duration=3)
    assert done.heard("Goodbye") and done.state == "ended"
    done.hang_up()  # Twilio's status callback after the goodbye: still one record

    gone = line.call()
    gone.press("1")
    gone.hang_up()  # hung up at the order-number prompt

    records = records_of(line)
    assert records.count() == 2
    figures = records.report()
    assert (figures["calls"], figures["contained"], figures["abandoned"]) == (2, 1, 1)
    assert figures["csat"] == {"responses": 1, "average": 4.0}
    assert figures["nodes"]["order"]["hung_up"] == 1


def test_a_record_holds_no_slot_value(line):
    call = line.call()
    call.press("1")
    call.press("123456")
    call.press("2")
    call.hang_up()
    records = records_of(line)
    with records.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.exec_driver_sql("SELECT * FROM calls")]
    assert len(rows) == 1
    assert "123456" not in repr(rows)  # the order number was said, never kept


def test_unreachable_records_never_touch_the_call(tmp_path, clock, caplog):
    """A records database that cannot be opened is logged at start; callers are served."""
    with caplog.at_level(logging.ERROR):
        app = make_app(tmp_path, clock, IVR_RECORDS_URL="postgresql://nobody@127.0.0.1:1/none")
    assert "call records are off" in caplog.text
    line = Line(app, clock)
    call = line.call()
    call.press("1")
    assert call.heard("six digit order number")
    line.check()
