"""Lookups (local table and HTTP), branches, business hours and after-hours starts."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from engine_support import T0, Phone, flow_from

from ivr.model.actions import DataLookup, Listen, Transfer

NY = ZoneInfo("America/New_York")

DATA_FLOW = """
flow: data-test
numbers: ["+15005550006"]
env: {ORDER_API: "https://orders.example.com/api"}
hours:
  timezone: America/New_York
  open: {mon-fri: "08:00-20:00", sat: "09:00-14:00"}
  holidays: ["2026-12-25"]
operator: {digit: "0", to: desk}
retry: {no_input: 2, no_match: 2, then: desk}
start: main
nodes:
  main:
    menu:
      prompt: "1 table, 2 web, 3 web with error route, 4 hours, 5 route by caller and time."
      options:
        - {keys: "1", go: table_order}
        - {keys: "2", go: web_order}
        - {keys: "3", go: web_order_routed}
        - {keys: "4", go: store_hours}
        - {keys: "5", go: route}
  table_order:
    collect:
      prompt: "Order number?"
      slot: {name: order_id, kind: digits, length: 6}
      go: table_lookup
  table_lookup:
    lookup:
      table:
        key: "{order_id}"
        rows:
          "123456": {status: shipped, eta: on Friday, total: 42.5}
          "222222": {status: lost, eta: never, total: 0}
      found: route_status
      not_found: unknown_order
  route_status:
    branch:
      - if: {lookup.status: shipped, lookup.total: {gt: 10}}
        go: shipped
      - if: {lookup.status: {in: [lost, damaged]}}
        go: problem_desk
      - else: other_status
  shipped:
    hangup: "Your order {order_id} has {lookup.status}. It arrives {lookup.eta}."
  other_status:
    hangup: "Status {lookup.status}."
  unknown_order:
    hangup: "I could not find order {order_id}."
  web_order:
    collect:
      prompt: "Order number?"
      slot: {name: order_id, kind: digits, length: 6}
      go: web_lookup
  web_lookup:
    lookup:
      http: {url: "${ORDER_API}/orders/{order_id}", timeout: 2}
      found: shipped
      not_found: unknown_order
  web_order_routed:
    collect:
      prompt: "Order number?"
      slot: {name: order_id, kind: digits, length: 6}
      go: web_lookup_routed
  web_lookup_routed:
    lookup:
      http: {url: "${ORDER_API}/orders/{order_id}", timeout: 2}
      found: shipped
      not_found: unknown_order
      error: backend_sorry
  backend_sorry:
    hangup: "Our systems are down. Please call back later."
  store_hours:
    hours: {open: is_open, closed: is_closed, holiday: is_holiday}
  is_open:
    hangup: "We are open."
  is_closed:
    hangup: "We are closed."
  is_holiday:
    hangup: "Happy holidays, we are closed."
  route:
    branch:
      - if: {caller: {starts_with: "+44"}}
        go: uk_caller
      - if: {time: {before: "12:00"}, weekday: {in: [mon, tue, wed, thu, fri]}}
        go: weekday_morning
      - else: other_time
  uk_caller:
    hangup: "Hello from the UK."
  weekday_morning:
    hangup: "Good morning."
  other_time:
    hangup: "Good day."
  problem_desk:
    transfer: {to: ["client:dave"], reason: "Order problem"}
  desk:
    transfer: {to: ["client:alice"], reason: "Caller asked for a person"}
"""


def local(y, mo, d, h, mi=0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=NY)


def dial(keys: str, at: datetime = T0, caller: str = "+15551230000", flow_text: str = DATA_FLOW) -> Phone:
    call = Phone(flow_from(flow_text), at=at, caller=caller)
    call.start()
    call.press(keys)
    return call


# --- lookups ---------------------------------------------------------------------------

def test_table_lookup_found_fills_the_template_and_branches_on_its_values():
    call = dial("1")
    call.press("123456")
    assert call.hung_up
    assert call.heard("Your order 123456 has shipped. It arrives on Friday.")
    assert call.session.lookups[-1]["outcome"] == "found"
    assert call.session.path[-3:] == ("table_lookup", "route_status", "shipped")


def test_table_lookup_found_with_a_problem_status_goes_to_a_person():
    call = dial("1")
    call.press("222222")
    assert call.transferring_to == "client:dave"
    assert call.last.reason == "Order problem"


def test_table_lookup_not_found():
    call = dial("1")
    call.say("nine nine nine nine nine nine")
    assert call.heard("I could not find order 999999")
    assert call.session.lookups[-1]["outcome"] == "not_found"


def test_http_lookup_is_a_data_lookup_action_with_the_slot_in_the_url():
    call = dial("2")
    call.press("123456")
    lookup = call.looking_up
    assert isinstance(lookup, DataLookup)
    assert lookup.url == "https://orders.example.com/api/orders/123456"
    assert lookup.timeout == 2
    assert lookup.method == "GET"
    assert call.session.phase == "lookup"


def test_http_lookup_found():
    call = dial("2")
    call.press("123456")
    call.lookup("found", {"status": "shipped", "eta": "tomorrow"})
    assert call.heard("Your order 123456 has shipped. It arrives tomorrow.")
    assert call.hung_up


def test_http_lookup_not_found():
    call = dial("2")
    call.press("123456")
    call.lookup("not_found")
    assert call.heard("I could not find order 123456")


def test_http_lookup_error_without_an_error_route_goes_to_a_person_saying_why():
    call = dial("2")
    call.press("123456")
    call.lookup("error", detail="HTTP 503")
    assert isinstance(call.last, Transfer)
    assert call.last.target == "client:alice"
    assert "back end unavailable" in call.last.reason
    assert "HTTP 503" in call.last.reason
    assert call.last.context["lookups"][-1]["outcome"] == "error"


def test_an_unknown_lookup_outcome_counts_as_an_error():
    call = dial("2")
    call.press("123456")
    call.lookup("teapot")
    assert "back end unavailable" in call.last.reason


def test_http_lookup_error_follows_the_error_route_when_there_is_one():
    call = dial("3")
    call.press("123456")
    call.lookup("error", detail="no answer within 2s")
    assert call.heard("Our systems are down")
    assert call.hung_up


# --- hours -----------------------------------------------------------------------------

@pytest.mark.parametrize("when, says", [
    (local(2026, 11, 24, 10), "We are open"),           # Tuesday morning
    (local(2026, 11, 24, 19, 59), "We are open"),       # a minute before closing
    (local(2026, 11, 24, 20, 0), "We are closed"),      # closing time
    (local(2026, 11, 24, 7, 59), "We are closed"),
    (local(2026, 11, 28, 13), "We are open"),           # Saturday
    (local(2026, 11, 28, 15), "We are closed"),         # Saturday afternoon
    (local(2026, 11, 29, 12), "We are closed"),         # Sunday
    (local(2026, 12, 25, 12), "Happy holidays"),        # a Friday, but a holiday
    # 02:30 UTC on Wednesday is 21:30 on Tuesday in New York: closed, whatever UTC says
    (datetime(2026, 11, 25, 2, 30, tzinfo=UTC), "We are closed"),
    # 13:30 UTC on Christmas Day is 08:30 in New York: the holiday is in the flow's zone
    (datetime(2026, 12, 25, 13, 30, tzinfo=UTC), "Happy holidays"),
])
def test_hours_node(when, says):
    call = dial("4", at=when)
    assert call.heard(says)


AFTER_HOURS_FLOW = DATA_FLOW.replace('  holidays: ["2026-12-25"]\n', '  holidays: ["2026-12-25"]\n  closed: after_hours\n') \
    .replace("  desk:\n", '  after_hours:\n    menu:\n'
             '      prompt: "We are closed now. Press 1 to leave a message."\n'
             '      options:\n        - {keys: "1", go: message}\n'
             '  message:\n    voicemail: {prompt: "Leave a message."}\n  desk:\n')


@pytest.mark.parametrize("when, starts_at", [
    (local(2026, 11, 24, 10), "main"),
    (local(2026, 11, 24, 22), "after_hours"),
    (local(2026, 11, 29, 10), "after_hours"),
    (local(2026, 12, 25, 10), "after_hours"),
])
def test_a_call_outside_the_flow_hours_starts_at_the_closed_node(when, starts_at):
    call = Phone(flow_from(AFTER_HOURS_FLOW), at=when)
    call.start()
    assert call.listening_at == starts_at
    if starts_at == "after_hours":
        assert call.heard("We are closed now")
        call.press("1")
        assert call.recording and call.heard("Leave a message")


# --- branch ----------------------------------------------------------------------------

@pytest.mark.parametrize("caller, when, says", [
    ("+442071234567", local(2026, 11, 24, 10), "Hello from the UK"),
    ("+15551230000", local(2026, 11, 24, 10), "Good morning"),
    ("+15551230000", local(2026, 11, 24, 13), "Good day"),
    ("+15551230000", local(2026, 11, 28, 10), "Good day"),  # Saturday morning
])
def test_branch_on_caller_number_and_local_time(caller, when, says):
    call = dial("5", at=when, caller=caller)
    assert call.heard(says)


def test_nothing_is_looked_up_by_the_engine_itself_for_http():
    """The engine only asks; the shell fetches. No result yet means the call waits."""
    call = dial("2")
    call.press("123456")
    assert not any(isinstance(a, Listen) for a in call.actions)


def test_only_the_record_fields_the_flow_uses_stay_with_the_call():
    """A back end may answer with far more than the flow needs (names, addresses, a
    whole history): only the fields the flow says or decides on are kept in the session."""
    call = dial("2")
    call.press("123456")
    call.lookup("found", {"status": "shipped", "eta": "tomorrow", "customer_address": "1 Main St",
                          "history": ["x"] * 1000})
    assert call.heard("Your order 123456 has shipped. It arrives tomorrow.")
    assert call.session.lookup == {"status": "shipped", "eta": "tomorrow"}
    assert call.session.lookups[-1]["data"] == {"status": "shipped", "eta": "tomorrow"}
