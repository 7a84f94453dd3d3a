"""Caller memory outside the line's hours: a caller who first rings while the line is
closed hears the notice before the after-hours menu, is never offered a shortcut into
menus that are closed, and the call counts in their profile, so the next call in
opening hours welcomes them back with what they did after hours."""
from __future__ import annotations

import pytest
from test_memory_calls import NOTICE, NUMBER, WELCOME, order_call
from web_support import CLOSED, Clock


@pytest.fixture
def clock():
    return Clock(CLOSED)  # Sunday morning in New York: the demo line is closed


def test_a_first_call_after_hours_hears_the_notice_and_is_remembered_when_the_line_opens(line):
    first = order_call(line)  # the after-hours menu also checks orders on 1
    assert first.heard_ever(NOTICE) and first.heard_ever("We're closed right now")
    assert not first.heard_ever(WELCOME)

    line.clock.advance(24 * 3600)  # Monday morning: open
    again = line.call(caller=NUMBER)
    assert again.heard(WELCOME) and again.heard("order status, 1 2 3 4 5 6 again")
    assert not again.heard_ever(NOTICE)
    again.press("1")
    assert again.heard("Your order 123456 has shipped")
    again.hang_up()


def test_a_returning_caller_after_hours_hears_the_closed_menu_not_a_shortcut(line):
    order_call(line)
    line.clock.advance(3600)  # still Sunday: closed
    again = line.call(caller=NUMBER)
    assert again.heard_ever("We're closed right now")
    assert not again.heard_ever(WELCOME) and not again.heard_ever(NOTICE)
    again.hang_up()
