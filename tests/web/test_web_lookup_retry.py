"""Twilio retries a webhook it got no answer to (same URL, same form). When the answer
sent the call to a lookup, the customer's back end (mocked with ``responses``) is asked
once, whether the retry comes while the lookup is in flight or after it, and every
answer tells the caller what was found."""
from __future__ import annotations

import json
import threading
import time
from dataclasses import replace

import pytest
import responses
from test_web_lookup_http import http_line
from web_support import AUTH_TOKEN, PUBLIC_URL, Line, gather_node, query

from ivr.model.events import DigitsPressed
from ivr.testing import Caller, FlaskTransport
from ivr.web.line import Line as LineOfCalls
from ivr.web.live import LiveCall
from ivr.web.services import services

ORDER = "http://backend.test/orders/123456"
FOUND = "Your order 123456 is on its way."


@pytest.fixture
def backend():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def twin(line: Line, call: Caller) -> Caller:
    """The same call, as Twilio's retry of a request sees it (its own connection)."""
    return Caller(FlaskTransport(line.app), auth_token=AUTH_TOKEN, public_url=PUBLIC_URL, call_sid=call.call_sid,
                  account_sid=call.params["AccountSid"], caller=call.params["From"], to=call.params["To"])


def at_the_order_prompt(line: Line) -> tuple[Caller, str]:
    call = line.call(to="+15005550077")
    assert gather_node(call) == "order"
    return call, call.gather.action


def test_a_retry_while_the_lookup_is_in_flight_waits_for_it_and_asks_the_back_end_once(tmp_path, backend):
    line = http_line(tmp_path)
    asked, release = threading.Event(), threading.Event()

    def slow_back_end(request):
        asked.set()
        release.wait(10)
        return 200, {}, json.dumps({"status": "on its way"})

    backend.add_callback(responses.GET, ORDER, callback=slow_back_end, content_type="application/json")
    call, action = at_the_order_prompt(line)
    replies: dict[str, object] = {}

    def answer(name: str, leg: Caller) -> None:
        replies[name] = leg.post(action, Digits="123456")

    first = threading.Thread(target=answer, args=("first", call))
    first.start()
    assert asked.wait(5), "the back end was never asked"
    retry = threading.Thread(target=answer, args=("retry", twin(line, call)))  # Twilio gave up waiting
    retry.start()
    time.sleep(0.3)
    assert "retry" not in replies  # it waits for the lookup in flight rather than guess
    release.set()
    first.join(10)
    retry.join(10)

    for name in ("first", "retry"):
        reply = replies[name]
        assert reply.status == 200 and FOUND in reply.body and "<Hangup" in reply.body, (name, reply.body)
    assert len(backend.calls) == 1
    assert [e["type"] for e in line.events(call)] == ["CallStarted", "DigitsPressed"]
    assert line.session(call)["lookups"] == [{"node": "lookup", "outcome": "found", "data": {"status": "on its way"}}]
    line.check()


def test_a_retry_after_the_lookup_hears_the_same_answer_without_asking_again(tmp_path, backend):
    line = http_line(tmp_path)
    backend.get(ORDER, json={"status": "on its way"})
    call, action = at_the_order_prompt(line)
    first = call.post(action, Digits="123456")
    again = twin(line, call).post(action, Digits="123456")
    assert FOUND in first.body and "<Hangup" in first.body
    assert again.body == first.body  # the caller hears the same thing
    assert len(backend.calls) == 1
    assert len(line.session(call)["lookups"]) == 1
    line.check()


def test_a_retried_answer_that_leads_to_a_person_does_not_look_up_twice(tmp_path, backend):
    line = http_line(tmp_path)
    backend.get("http://backend.test/orders/654321", status=404)
    call, action = at_the_order_prompt(line)
    first = call.post(action, Digits="654321")
    again = twin(line, call).post(action, Digits="654321")
    for reply in (first, again):
        assert "I could not find order 654321" in reply.body and "<Dial" in reply.body, reply.body
    assert len(backend.calls) == 1
    line.check()


def test_a_lookup_whose_host_died_is_taken_over_by_the_retry(tmp_path, backend, monkeypatch):
    """The host that claimed the lookup died before asking (its claim ran out): Twilio's
    retry asks the back end itself, once, and the caller hears the answer."""
    line = http_line(tmp_path)
    backend.get(ORDER, json={"status": "on its way"})
    call, action = at_the_order_prompt(line)
    the_line = services(line.app).line

    def dies(self, call_sid, applied, token, at):  # the request's host goes down after claiming
        raise ConnectionAbortedError("the host went down")

    with monkeypatch.context() as patch:
        patch.setattr(LineOfCalls, "_looked_up", dies)
        with pytest.raises(ConnectionAbortedError):
            the_line.apply(call.call_sid, DigitsPressed(line.clock(), "123456"), seq=int(query(action)["seq"]))
    live = LiveCall.load(line.store, call.call_sid)
    assert live is not None and live.phase == "lookup" and live.lookup_claim is not None and not backend.calls
    LiveCall.mark(line.store, call.call_sid, lookup_claim=replace(live.lookup_claim, until=0.0))  # it ran out

    again = twin(line, call).post(action, Digits="123456")
    assert FOUND in again.body and "<Hangup" in again.body, again.body
    assert len(backend.calls) == 1
    line.check()
