"""A flow whose lookup is a real HTTP call (requests, mocked with ``responses``): found,
not found, a broken back end, a slow one, and one that cannot be reached."""
from __future__ import annotations

import pytest
import requests
import responses
from web_support import Clock, Line, gather_node, make_app

from ivr.web.services import services

ORDERS = "http://backend.test/orders/{order_id}"
FLOW = f"""
flow: http-orders
numbers: ["+15005550077"]
language: en-US
operator: {{digit: "0", phrases: [agent, a person], to: desk}}
retry: {{no_input: 2, no_match: 2, then: desk}}
start: order
nodes:
  order:
    collect:
      prompt: "Please key in your six digit order number."
      slot: {{name: order_id, kind: digits, length: 6}}
      go: lookup
  lookup:
    lookup:
      http: {{url: "{ORDERS}", timeout: 2}}
      found: status
      not_found: not_found
  status:
    say: "Your order {{order_id}} is {{lookup.status}}."
    go: bye
  not_found:
    say: "I could not find order {{order_id}}."
    go: desk
  bye:
    hangup: "Goodbye."
  desk:
    transfer:
      to: ["+15005550010", "+15005550011"]
      reason: "Caller asked for a person"
      whisper: true
"""
WITH_ERROR_ROUTE = FLOW.replace("      not_found: not_found\n",
                                "      not_found: not_found\n      error: sorry\n") + """
  sorry:
    say: "Our order system is having trouble."
    go: desk
"""


def http_line(tmp_path, flow_text: str = FLOW) -> Line:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "http-orders.yaml").write_text(flow_text)
    clock = Clock()
    app = make_app(tmp_path, clock, flows_dir=flows)
    assert "http-orders" in services(app).library.flows, "the test flow did not load"
    return Line(app, clock)


@pytest.fixture
def backend():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def line(tmp_path):
    line = http_line(tmp_path)
    yield line
    line.check()


def order_call(line: Line, order_id: str = "123456"):
    call = line.call(to="+15005550077")
    assert gather_node(call) == "order"
    call.press(order_id)
    return call


def test_found(line, backend):
    backend.get("http://backend.test/orders/123456", json={"status": "on its way"})
    call = order_call(line)
    assert call.heard("Your order 123456 is on its way.")
    assert call.state == "ended"
    assert backend.calls[0].request.headers["Accept"] == "application/json"
    lookups = line.session(call)["lookups"]
    assert lookups == [{"node": "lookup", "outcome": "found", "data": {"status": "on its way"}}]


def test_not_found_takes_the_not_found_path(line, backend):
    backend.get("http://backend.test/orders/654321", status=404)
    call = order_call(line, "654321")
    assert call.heard("I could not find order 654321")
    assert call.state == "dialing"
    assert line.session(call)["lookups"][0]["outcome"] == "not_found"


def test_connection_error_twice_goes_to_a_person_with_the_reason(line, backend):
    url = "http://backend.test/orders/123456"
    backend.get(url, body=requests.ConnectionError("connection refused"))
    backend.get(url, body=requests.ConnectionError("connection refused"))
    call = order_call(line)
    assert len(backend.calls) == 2                    # one retry, then give up
    assert call.state == "dialing"
    assert [t.address for t in call.dial.targets] == ["+15005550010"]
    agent = call.agent_leg(0)
    assert agent.heard("back end unavailable"), agent.last_heard
    session = line.session(call)
    assert session["transfer_reason"].startswith("back end unavailable")
    assert session["lookups"][0]["outcome"] == "error"


def test_connection_error_once_is_retried(line, backend):
    url = "http://backend.test/orders/123456"
    backend.get(url, body=requests.ConnectionError("reset"))
    backend.get(url, json={"status": "shipped"})
    call = order_call(line)
    assert call.heard("Your order 123456 is shipped.")


@pytest.mark.parametrize("broken", [
    {"status": 500, "body": "oops"},
    {"status": 503, "body": ""},
    {"status": 200, "body": "<html>not json</html>"},
    {"status": 200, "json": ["not", "an", "object"]},
    {"body": requests.Timeout("read timed out")},
])
def test_broken_back_end_takes_the_error_path(tmp_path, backend, broken):
    line = http_line(tmp_path, WITH_ERROR_ROUTE)
    backend.get("http://backend.test/orders/123456", **broken)
    call = order_call(line)
    assert call.heard("Our order system is having trouble"), call.last_heard
    assert call.state == "dialing"
    assert line.session(call)["lookups"][0]["outcome"] == "error"
    assert len(backend.calls) == 1                    # only connection errors are retried
    line.check()


def test_500_without_an_error_route_goes_to_a_person(line, backend):
    backend.get("http://backend.test/orders/123456", status=500)
    call = order_call(line)
    agent = call.agent_leg(0)
    assert agent.heard("back end unavailable (HTTP 500)"), agent.last_heard


def test_timeout_is_the_nodes_timeout(line, backend, monkeypatch):
    """The node says timeout: 2; the lookup waits at most that long, in all."""
    import ivr.runtime.lookups

    seen = []
    real = ivr.runtime.lookups._session.request

    def spy(*args, **kwargs):
        seen.append(kwargs.get("timeout"))
        return real(*args, **kwargs)

    monkeypatch.setattr(ivr.runtime.lookups._session, "request", spy)
    backend.get("http://backend.test/orders/123456", body=requests.ReadTimeout("slow"))
    call = order_call(line)
    assert len(seen) == 1 and all(0 < part <= 2.0 for part in seen[0])  # (connect, read), both within 2 s
    assert call.state == "dialing"
    assert line.session(call)["transfer_reason"].startswith("back end unavailable")


def test_slot_values_are_quoted_into_the_url(line, backend):
    backend.get("http://backend.test/orders/123456", json={"status": "fine"})
    call = order_call(line, "123456#")
    assert call.heard("is fine")
