"""The contract every session store backend passes (mixed into each backend's tests).

A backend's test class inherits ``StoreContract`` and provides a ``store_url`` fixture:
a URL for ``open_store`` that points at an empty store of its own.
"""
from __future__ import annotations

import multiprocessing
import threading
import time
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.store import Bus, SessionStore, Stored, VersionConflict, open_store
from store_support import increment, increment_worker

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)
json_dicts = st.dictionaries(st.text(), json_values, max_size=8)


def new_sid() -> str:
    return "CA" + uuid.uuid4().hex


def session(**fields) -> dict:
    base = {"flow": "support", "node": "main_menu", "phase": "listening", "score": 0.0,
            "caller": "+15550100", "outcome": "", "slots": {}}
    base.update(fields)
    return base


class StoreContract:
    # -- fixtures ---------------------------------------------------------------------

    @pytest.fixture
    def store(self, store_url) -> SessionStore:
        store = open_store(store_url)
        yield store
        store.close()

    @pytest.fixture
    def other_host(self, store_url) -> SessionStore:
        """A second, independent handle on the same store, as another host would open."""
        store = open_store(store_url)
        yield store
        store.close()

    # -- create, load, save -----------------------------------------------------------

    def test_unknown_call_loads_as_none(self, store):
        assert store.load(new_sid()) is None

    def test_create_then_load(self, store):
        sid = new_sid()
        assert store.save(sid, session(), None) == 1
        assert store.load(sid) == Stored(data=session(), version=1)

    def test_create_twice_conflicts_and_keeps_the_first(self, store):
        sid = new_sid()
        store.save(sid, session(node="first"), None)
        with pytest.raises(VersionConflict) as info:
            store.save(sid, session(node="second"), None)
        assert (info.value.call_sid, info.value.expected, info.value.actual) == (sid, None, 1)
        assert store.load(sid).data["node"] == "first"

    def test_save_with_the_right_version_increments_it(self, store):
        sid = new_sid()
        store.save(sid, session(node="a"), None)
        assert store.save(sid, session(node="b"), 1) == 2
        assert store.save(sid, session(node="c"), 2) == 3
        assert store.load(sid) == Stored(data=session(node="c"), version=3)

    def test_save_with_a_stale_version_conflicts_and_writes_nothing(self, store):
        sid = new_sid()
        store.save(sid, session(node="a"), None)
        store.save(sid, session(node="b"), 1)
        with pytest.raises(VersionConflict) as info:
            store.save(sid, session(node="stale"), 1)
        assert (info.value.expected, info.value.actual) == (1, 2)
        assert store.load(sid) == Stored(data=session(node="b"), version=2)
        assert "version 1" in str(info.value) and "version 2" in str(info.value)

    def test_save_with_a_version_for_an_unknown_call_conflicts(self, store):
        sid = new_sid()
        with pytest.raises(VersionConflict) as info:
            store.save(sid, session(), 3)
        assert (info.value.expected, info.value.actual) == (3, None)
        assert store.load(sid) is None

    def test_loaded_data_is_a_copy(self, store):
        sid = new_sid()
        store.save(sid, session(slots={"order": "123"}), None)
        store.load(sid).data["slots"]["order"] = "changed"
        assert store.load(sid).data["slots"] == {"order": "123"}

    @pytest.mark.parametrize("bad", [{"when": object()}, {"x": float("nan")}, ["not", "a", "dict"]])
    def test_non_json_data_is_refused_and_nothing_is_stored(self, store, bad):
        sid = new_sid()
        with pytest.raises((TypeError, ValueError)):
            store.save(sid, bad, None)
        assert store.load(sid) is None
        assert store.list_calls() == []

    def test_unicode_survives(self, store):
        sid = new_sid()
        data = session(caller="+821012345678", slots={"이름": "김민준", "note": "naïve ☎️ 🚀 \u0000 end",
                                                      "rtl": "مرحبا", "emoji🔑": "✓"})
        store.save(sid, data, None)
        assert store.load(sid).data == data
        store.append_event(sid, {"said": "주문 번호는 1234입니다"})
        assert store.events(sid) == [{"said": "주문 번호는 1234입니다"}]

    def test_large_payload_survives(self, store):
        sid = new_sid()
        data = session(
            transcript="x" * 2_000_000,
            turns=[{"t": i * 0.5, "text": f"turn {i} 안녕"} for i in range(10_000)],
        )
        store.save(sid, data, None)
        assert store.load(sid).data == data

    # One test function runs on every backend's class (that is the point of the mixin),
    # and each example uses a fresh call sid, so the shared fixture is fine.
    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.differing_executors],
    )
    @given(data=json_dicts, event=json_dicts)
    def test_any_json_dict_round_trips(self, store, data, event):
        sid = new_sid()
        store.save(sid, data, None)
        assert store.load(sid) == Stored(data=data, version=1)
        assert store.save(sid, data, 1) == 2
        store.append_event(sid, event)
        assert store.events(sid) == [event]

    # -- update -----------------------------------------------------------------------

    def test_update_creates_then_modifies(self, store):
        sid = new_sid()
        first = store.update(sid, increment)
        assert first == Stored(data={"count": 1}, version=1)
        assert store.update(sid, increment) == Stored(data={"count": 2}, version=2)
        assert store.load(sid) == Stored(data={"count": 2}, version=2)

    def test_update_returning_none_changes_nothing(self, store):
        sid = new_sid()
        assert store.update(sid, lambda current: None) is None
        assert store.load(sid) is None
        store.save(sid, {"count": 5}, None)
        assert store.update(sid, lambda current: None) == Stored(data={"count": 5}, version=1)
        assert store.load(sid).version == 1

    def test_update_retries_after_a_conflict(self, store, other_host):
        sid = new_sid()
        store.save(sid, {"count": 0, "seen": []}, None)
        seen_versions = []

        def add_one(current):
            seen_versions.append(current.version)
            if len(seen_versions) == 1:  # another host writes between our load and save
                other_host.save(sid, {"count": 10, "seen": ["other"]}, current.version)
            return {**current.data, "count": current.data["count"] + 1}

        result = store.update(sid, add_one)
        assert seen_versions == [1, 2]
        assert result == Stored(data={"count": 11, "seen": ["other"]}, version=3)
        assert store.load(sid) == result

    def test_update_gives_up_after_its_retries(self, store, other_host):
        sid = new_sid()
        store.save(sid, {"count": 0}, None)
        calls = []

        def always_beaten(current):
            calls.append(current.version)
            other_host.save(sid, {"count": -1}, current.version)  # someone always wins
            return {"count": current.data["count"] + 1}

        with pytest.raises(VersionConflict):
            store.update(sid, always_beaten, retries=2)
        assert len(calls) == 3
        assert store.load(sid).data == {"count": -1}

    # -- concurrency ------------------------------------------------------------------

    def test_threads_updating_one_call_lose_no_update(self, store):
        sid = new_sid()
        threads_n, times = 4, 40
        barrier = threading.Barrier(threads_n)
        attempts = []
        errors = []

        def counted(current):
            attempts.append(1)
            return increment(current)

        def work():
            try:
                barrier.wait(timeout=30)
                for _ in range(times):
                    store.update(sid, counted, retries=10_000)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(threads_n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert errors == []
        final = store.load(sid)
        assert final.data["count"] == threads_n * times
        assert final.version == threads_n * times
        assert len(attempts) > threads_n * times, "the writers never collided: the test proves nothing"

    def test_processes_updating_one_call_lose_no_update(self, store, store_url):
        sid = new_sid()
        procs_n, times = 3, 40
        ctx = multiprocessing.get_context("spawn")
        barrier = ctx.Barrier(procs_n)
        procs = [
            ctx.Process(target=increment_worker, args=(store_url, sid, times, barrier, f"p{i}"))
            for i in range(procs_n)
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join(timeout=180)
        assert [p.exitcode for p in procs] == [0] * procs_n
        final = store.load(sid)
        assert final.data["count"] == procs_n * times
        assert final.version == procs_n * times
        events = store.events(sid)
        assert len(events) == procs_n * times
        for i in range(procs_n):  # each process's events are in its own order
            assert [e["i"] for e in events if e["by"] == f"p{i}"] == list(range(times))

    # -- events -----------------------------------------------------------------------

    def test_events_are_kept_in_order_per_call(self, store):
        a, b = new_sid(), new_sid()
        store.append_event(a, {"type": "started"})  # before any save: allowed
        store.append_event(b, {"type": "other"})
        store.append_event(a, {"type": "pressed", "digits": "1"})
        assert store.events(a) == [{"type": "started"}, {"type": "pressed", "digits": "1"}]
        assert store.events(b) == [{"type": "other"}]
        assert store.events(new_sid()) == []

    def test_a_save_writes_its_events_with_it(self, store):
        sid = new_sid()
        store.append_event(sid, {"type": "before"})
        assert store.save(sid, {"count": 1}, None, [{"type": "started"}]) == 1
        assert store.save(sid, {"count": 2}, 1, [{"type": "pressed", "digits": "1"}, {"type": "second"}]) == 2
        assert store.save(sid, {"count": 3}, 2, []) == 3
        assert store.events(sid) == [{"type": "before"}, {"type": "started"}, {"type": "pressed", "digits": "1"},
                                     {"type": "second"}]

    def test_a_save_that_conflicts_logs_nothing(self, store):
        sid = new_sid()
        store.save(sid, {"count": 1}, None, [{"type": "started"}])
        with pytest.raises(VersionConflict):
            store.save(sid, {"count": 9}, 5, [{"type": "stale"}])
        with pytest.raises(VersionConflict):
            store.save(sid, {"count": 9}, None, [{"type": "again"}])
        assert store.events(sid) == [{"type": "started"}]
        assert store.load(sid) == Stored(data={"count": 1}, version=1)

    def test_a_save_with_a_non_json_event_writes_nothing(self, store):
        sid = new_sid()
        store.save(sid, {"count": 1}, None)
        with pytest.raises(TypeError):
            store.save(sid, {"count": 2}, 1, [{"type": "ok"}, {"at": object()}])
        assert store.load(sid) == Stored(data={"count": 1}, version=1)
        assert store.events(sid) == []

    def test_update_logs_the_change_it_saved_once(self, store, other_host):
        sid = new_sid()
        store.save(sid, {"count": 0}, None)
        tries = []

        def add_one(current):
            tries.append(current.version)
            if len(tries) == 1:  # another host writes between our load and save
                other_host.save(sid, {"count": 10}, current.version, [{"type": "other"}])
            return {"count": current.data["count"] + 1}

        saved = store.update(sid, add_one, log=lambda: [{"type": "added", "try": len(tries)}])
        assert saved == Stored(data={"count": 11}, version=3)
        assert store.events(sid) == [{"type": "other"}, {"type": "added", "try": 2}]
        assert store.update(sid, lambda current: None, log=lambda: [{"type": "never"}]) == saved
        assert store.events(sid)[-1] == {"type": "added", "try": 2}

    def test_a_non_json_event_is_refused(self, store):
        sid = new_sid()
        with pytest.raises(TypeError):
            store.append_event(sid, {"at": object()})
        assert store.events(sid) == []

    # -- finish and summaries ---------------------------------------------------------

    def test_summary_follows_the_saved_fields(self, store):
        sid = new_sid()
        store.save(sid, session(node="greeting", phase="new", score=0.0), None)
        store.save(sid, session(node="order_status", phase="lookup", score=2.5,
                                caller="+15550123"), 1)
        [summary] = store.list_calls()
        assert summary["call_sid"] == sid
        assert {k: summary[k] for k in ("flow", "node", "phase", "score", "caller", "outcome")} == {
            "flow": "support", "node": "order_status", "phase": "lookup", "score": 2.5,
            "caller": "+15550123", "outcome": "",
        }
        assert summary["finished"] is False and summary["finished_at"] is None
        assert summary["version"] == 2
        assert summary["started_at"] <= summary["updated_at"]
        assert abs(summary["started_at"] - time.time()) < 60

    def test_summary_ignores_odd_summary_values(self, store):
        sid = new_sid()
        store.save(sid, {"flow": ["not", "text"], "score": "high", "node": None}, None)
        [summary] = store.list_calls()
        assert (summary["flow"], summary["score"], summary["node"]) == ("", 0.0, "")

    def test_finish_marks_the_call_and_keeps_events(self, store):
        sid = new_sid()
        store.save(sid, session(), None)
        store.append_event(sid, {"type": "hangup"})
        store.finish(sid, "contained")
        [summary] = store.list_calls()
        assert summary["finished"] is True
        assert summary["outcome"] == "contained"
        assert summary["finished_at"] >= summary["started_at"]
        assert store.events(sid) == [{"type": "hangup"}]
        assert store.load(sid).data == session()  # hot state still there until it expires

    def test_finish_again_updates_the_outcome_not_the_time(self, store):
        sid = new_sid()
        store.save(sid, session(), None)
        store.finish(sid, "abandoned")
        first = store.list_calls()[0]["finished_at"]
        store.finish(sid, "voicemail")
        [summary] = store.list_calls()
        assert (summary["outcome"], summary["finished_at"]) == ("voicemail", first)

    def test_a_save_after_finish_keeps_it_finished(self, store):
        sid = new_sid()
        store.save(sid, session(outcome=""), None)
        store.finish(sid, "transferred")
        store.save(sid, session(node="after", outcome=""), 1)
        [summary] = store.list_calls()
        assert (summary["finished"], summary["outcome"], summary["node"]) == (True, "transferred", "after")

    def test_finish_of_an_unknown_call_does_nothing(self, store):
        store.finish(new_sid(), "contained")
        assert store.list_calls() == []

    def test_list_calls_newest_first_with_limit(self, store):
        sids = [new_sid() for _ in range(5)]
        for sid in sids:
            store.save(sid, session(), None)
            time.sleep(0.002)
        store.save(sids[0], session(node="touched"), 1)  # updating does not reorder
        assert [c["call_sid"] for c in store.list_calls()] == sids[::-1]
        assert [c["call_sid"] for c in store.list_calls(limit=2)] == sids[::-1][:2]
        assert store.list_calls(limit=0) == []

    def test_list_calls_active_filter(self, store):
        a, b, c = new_sid(), new_sid(), new_sid()
        for sid in (a, b, c):
            store.save(sid, session(), None)
            time.sleep(0.002)
        store.finish(b, "contained")
        assert [x["call_sid"] for x in store.list_calls(active=True)] == [c, a]
        assert [x["call_sid"] for x in store.list_calls(active=False)] == [b]
        assert [x["call_sid"] for x in store.list_calls(active=None)] == [c, b, a]
        assert [x["finished"] for x in store.list_calls()] == [False, True, False]

    # -- bus --------------------------------------------------------------------------

    def test_store_has_a_bus(self, store):
        assert isinstance(store.bus, Bus)
        assert store.bus is store.bus

    def test_bus_between_two_handles(self, store, other_host):
        with other_host.bus.subscribe("console", timeout=2) as console, \
                other_host.bus.subscribe("console", timeout=2) as second_tab:
            store.bus.publish("console", {"type": "waiting", "call_sid": "CA1", "score": 3.5})
            store.bus.publish("transfer", {"type": "elsewhere"})
            store.bus.publish("console", {"type": "whisper", "text": "고객님"})
            expected = [{"type": "waiting", "call_sid": "CA1", "score": 3.5},
                        {"type": "whisper", "text": "고객님"}]
            assert [console.get(2), console.get(2)] == expected
            assert [second_tab.get(2), second_tab.get(2)] == expected
            assert console.get(0.2) is None

    def test_bus_only_delivers_to_open_subscriptions(self, store):
        store.bus.publish("late", {"n": 0})
        sub = store.bus.subscribe("late", timeout=0.3)
        store.bus.publish("late", {"n": 1})
        sub.close()
        store.bus.publish("late", {"n": 2})
        assert list(sub) == []
        with store.bus.subscribe("late", timeout=0.3) as again:
            store.bus.publish("late", {"n": 3})
            assert list(again) == [{"n": 3}]

    def test_bus_iteration_ends_after_the_timeout(self, store):
        with store.bus.subscribe("quiet", timeout=0.3) as sub:
            start = time.monotonic()
            assert list(sub) == []
            assert 0.25 <= time.monotonic() - start < 3

    def test_bus_close_from_another_thread_wakes_the_reader(self, store):
        sub = store.bus.subscribe("blocking", timeout=None)
        got = []
        reader = threading.Thread(target=lambda: got.append(list(sub)))
        reader.start()
        time.sleep(0.2)
        sub.close()
        reader.join(timeout=5)
        assert not reader.is_alive() and got == [[]]

    def test_bus_refuses_non_json(self, store):
        with pytest.raises(TypeError):
            store.bus.publish("console", {"x": object()})


class ForgetContract:
    """``forget_caller`` removes every trace of one caller and nothing of anybody else."""

    def test_forget_caller_removes_their_calls_only(self, store):
        mine, mine_too, theirs = new_sid(), new_sid(), new_sid()
        store.save(mine, session(caller="+15550001111", slots={"pin": "4321"}), None)
        store.append_event(mine, {"type": "said", "text": "my account"})
        store.finish(mine, "contained")
        store.save(mine_too, session(caller="+15550001111"), None)
        store.save(theirs, session(caller="+15550002222"), None)
        store.append_event(theirs, {"type": "said"})
        assert store.forget_caller("+15550001111") == 2
        assert store.load(mine) is None and store.load(mine_too) is None
        assert store.events(mine) == []
        assert [c["call_sid"] for c in store.list_calls()] == [theirs]
        assert store.load(theirs) is not None and store.events(theirs) == [{"type": "said"}]
        assert store.forget_caller("+15550001111") == 0


class ExpiryContract:
    """Hot state of a finished call expires; the summary and the event log stay. A
    backend's test class provides ``expiring_url(ttl)``: a store URL with that
    ``finished_ttl``."""

    def test_finished_hot_state_expires_but_events_and_summary_stay(self, expiring_url):
        store = open_store(expiring_url(0.3))
        sid = new_sid()
        store.save(sid, session(slots={"pin": "4321"}), None)
        store.append_event(sid, {"type": "hangup"})
        store.finish(sid, "abandoned")
        assert store.load(sid) is not None
        assert wait_until(lambda: store.load(sid) is None), "the finished call's hot state never expired"
        assert store.events(sid) == [{"type": "hangup"}]
        [summary] = store.list_calls(active=False)
        assert (summary["call_sid"], summary["outcome"], summary["finished"]) == (sid, "abandoned", True)
        store.close()

    def test_an_active_call_never_expires(self, expiring_url):
        store = open_store(expiring_url(0.2))
        sid = new_sid()
        store.save(sid, session(), None)
        time.sleep(0.5)
        assert store.load(sid) is not None
        store.close()

    def test_a_recreated_call_does_not_reuse_versions(self, expiring_url):
        store = open_store(expiring_url(0.2))
        sid = new_sid()
        store.save(sid, session(), None)
        store.save(sid, session(), 1)
        store.finish(sid, "contained")
        assert wait_until(lambda: store.load(sid) is None)
        assert store.save(sid, session(node="again"), None) == 3  # not 1: a stale writer...
        with pytest.raises(VersionConflict):
            store.save(sid, session(node="stale"), 1)  # ...holding version 1 cannot win
        store.close()

    def test_a_call_created_again_once_expired_with_no_read_between(self, expiring_url):
        store = open_store(expiring_url(0.2))
        sid = new_sid()
        store.save(sid, session(), None)
        store.finish(sid, "contained")
        time.sleep(0.5)  # past its expiry; nothing has read or swept the call since
        assert store.save(sid, session(node="again"), None, [{"type": "again"}]) == 2
        assert store.load(sid).data == session(node="again")
        assert store.events(sid) == [{"type": "again"}]
        live = new_sid()
        store.save(live, session(), None)
        with pytest.raises(VersionConflict):  # a call that has not expired is never created twice
            store.save(live, session(node="twice"), None)
        store.close()

    def test_none_keeps_the_hot_state(self, expiring_url):
        store = open_store(expiring_url("none"))
        sid = new_sid()
        store.save(sid, session(), None)
        store.finish(sid, "contained")
        time.sleep(0.3)
        assert store.load(sid) is not None
        store.close()


def wait_until(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False
