"""One call, several hosts: the webhooks of a call alternate between two server
processes on one Redis; a host is killed (SIGKILL) mid-call and a fresh one takes over;
a host that never loaded the call's flow version still serves exactly that version."""
from __future__ import annotations

from collections import Counter

from scale_line import flow_text
from scale_support import AUTH_TOKEN, NUMBER, PUBLIC_URL, RoundRobin

from ivr.store import open_store
from ivr.testing import Caller


def caller(transport) -> Caller:
    return Caller(transport, auth_token=AUTH_TOKEN, public_url=PUBLIC_URL, to=NUMBER)


def hot_state(store_url: str, sid: str) -> dict:
    store = open_store(store_url)
    try:
        stored = store.load(sid)
        assert stored is not None, f"no state saved for {sid}"
        return stored.data
    finally:
        store.close()


def test_a_call_alternating_between_two_hosts_keeps_its_slots_and_retries(servers):
    a, b = servers(2)
    hosts = RoundRobin(a.base, b.base)
    call = caller(hosts)
    call.dial()
    assert call.heard("Welcome to the scale line, version one")
    call.press("1")
    assert call.heard("eight digit account number")
    call.press("12345678")
    assert call.heard("four digit PIN")
    call.press("12")  # a wrong PIN length: no match, counted in the store
    assert call.heard("Sorry, I didn't get that")
    assert hot_state(servers.store_url, call.call_sid)["session"]["no_match"] == 1
    call.press("4321")
    assert call.heard("Account 12345678, your balance is 42.50 dollars, version one")
    call.press("1")  # hear it again: the lookup's data came through the store too
    assert call.heard("Account 12345678, your balance is 42.50 dollars")
    call.press("2")
    assert call.heard("Goodbye from the scale line, version one")
    call.hang_up()
    assert not call.all_errors and call.state == "ended"

    served = Counter(host for host, _ in hosts.sent)
    assert served[a.base] >= 3 and served[b.base] >= 3, served
    assert "POST /twilio/step" in a.log() and "POST /twilio/step" in b.log()
    data = hot_state(servers.store_url, call.call_sid)
    session = data["session"]
    assert session["phase"] == "ended" and session["outcome"] == "contained"
    assert session["slots"]["account_number"] == "12345678"


def test_a_retry_counted_on_one_host_is_known_to_the_other(servers):
    a, b = servers(2)
    call = caller(RoundRobin(a.base, b.base))
    call.dial()
    call.press("1")
    call.press("99")  # host A (or B): first no match
    assert call.heard("Sorry, I didn't get that")
    call.press("98")  # the other host: second no match -> the retry policy sends a person
    assert call.heard("connect you to someone"), call.last_heard
    assert call.state == "dialing"


def test_a_host_killed_mid_call_is_replaced_and_the_call_goes_on(servers):
    a, b = servers(2)
    hosts = RoundRobin(a.base, b.base)
    call = caller(hosts)
    call.dial()
    call.press("1")
    call.press("12345678")
    call.press("1")  # one no match at the PIN prompt
    assert call.heard("Sorry, I didn't get that")
    before = hot_state(servers.store_url, call.call_sid)

    a.kill()  # between two webhooks: nothing is flushed, nothing says goodbye
    assert a.process.returncode == -9
    (c,) = servers(1)  # a fresh process, nothing in its memory
    hosts.replace(a.base, c.base)

    assert hot_state(servers.store_url, call.call_sid) == before  # acknowledged = saved
    call.press("4321")
    assert call.heard("Account 12345678, your balance is 42.50 dollars, version one")
    call.press("2")
    assert call.heard("Goodbye")
    call.hang_up()
    assert not call.all_errors
    assert c.base in {host for host, _ in hosts.sent}
    assert "POST /twilio/step" in c.log()


def test_all_hosts_restarted_on_a_new_flow_still_serve_a_live_call_its_version(servers, flows_dir):
    """The call began on version one; every host that knew version one is gone and the
    file now says version two. The new host loads version one from the store's archive."""
    (a,) = servers(1)
    call = caller(RoundRobin(a.base))
    call.dial()
    assert call.heard("version one")
    call.press("1")
    call.press("87654321")

    a.kill()
    (flows_dir / "scale.yaml").write_text(flow_text("version two"))
    (c,) = servers(1)
    call.transport.replace(a.base, c.base)

    call.press("9999")
    assert call.heard("Account 87654321, your balance is 7 dollars, version one"), call.last_heard
    call.press("2")
    assert call.heard("Goodbye from the scale line, version one")
    assert "loaded from the store's archive" in c.log()

    fresh = caller(RoundRobin(c.base))
    fresh.dial()
    assert fresh.heard("Welcome to the scale line, version two")
