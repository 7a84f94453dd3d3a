"""``ivr eval escalation --from-records``: the detector judged by the agents' wrap-up
answers kept in the call records (SQLite and PostgreSQL), and the threshold scan."""
from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st
from records_support import T0, a_day_of_calls

from ivr.cli import main
from ivr.records.detector import Scored, judge, scan, suggest
from ivr.records import open_records

# what the agents said of the calls that reached a person (CA05 was sent by the detector)
ANSWERS = {"CA04": True, "CA05": True, "CA09": False, "CA10": True}


def test_the_detector_is_judged_by_the_agents_answers(records_url, capsys):
    records = open_records(records_url)
    try:
        day = a_day_of_calls()
        records.write_many(day)
        kinds = {r.call_sid: r.transfer_kind for r in day}
        assert kinds["CA05"] == "escalated" and {kinds[s] for s in ("CA04", "CA09", "CA10")} == {
            "asked", "retries", "error"}
        for sid, needed in ANSWERS.items():
            assert records.wrap_up(sid, "resolved", "ann", needed, T0)
    finally:
        records.close()
    assert main(["eval", "escalation", "--from-records", "--records", records_url]) == 0
    out = capsys.readouterr().out
    assert "calls with an answer: 4 (needed a person: 3; did not: 1)" in out
    assert "the detector sent 1: precision 1.00 (1 of 1), recall 0.33 (1 of 3)" in out
    assert "suggested threshold:" in out and "only 4 answers" in out

    assert main(["eval", "escalation", "--from-records", "--records", records_url, "--since", "2027-01-01"]) == 1
    assert "No call in the records has an agent's answer" in capsys.readouterr().out
    assert main(["eval", "escalation", "--from-records", "--url", records_url, "--since", "last tuesday"]) == 2
    assert "is not a date or time" in capsys.readouterr().out


def test_the_scan_on_calls_worked_out_by_hand():
    calls = [Scored(0.9, True, True), Scored(0.8, True, False), Scored(0.6, False, True),
             Scored(0.3, False, False), Scored(0.2, False, True)]
    detector = judge(calls)
    assert (detector.flagged, detector.right, detector.precision, detector.recall) == (2, 1, 0.5, 0.3333)
    by = {j.threshold: j for j in scan(calls)}
    assert (by[0.5].flagged, by[0.5].precision, by[0.5].recall, by[0.5].f1) == (3, 0.6667, 0.6667, 0.6667)
    assert (by[0.85].flagged, by[0.85].precision, by[0.85].recall, by[0.85].f1) == (1, 1.0, 0.3333, 0.5)
    assert (by[0.1].flagged, by[0.1].precision, by[0.1].recall, by[0.1].f1) == (5, 0.6, 1.0, 0.75)
    assert by[0.95].flagged == 0 and by[0.95].precision is None
    best = suggest(scan(calls))
    assert best is not None and best.threshold == 0.2 and best.f1 == 0.75  # the highest of the best


answered = st.lists(st.builds(Scored, st.floats(0, 1), st.booleans(), st.booleans()), min_size=1, max_size=40)


@given(answered)
def test_a_higher_threshold_never_flags_more_nor_finds_more(calls):
    scanned = scan(calls)
    for lower, higher in pairwise(scanned):
        assert higher.flagged <= lower.flagged and higher.right <= lower.right
    best = suggest(scanned)
    if best is not None:
        assert best.f1 == max(j.f1 or 0.0 for j in scanned)
    else:
        assert all(not j.right for j in scanned)
