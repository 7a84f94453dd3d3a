"""Menu answers are matched as whole utterances (``ivr.understanding.text``): a word that
looks like an option inside a story does not choose it, number words inside a sentence
are never key presses, and a person-only option needs a clear match."""
import pytest

from ivr.understanding.text import digits_in, key_in, match_option, match_phrase

MAIN = [["order status", "order", "package", "parcel", "delivery"],
        ["billing", "bill", "payment", "balance"],
        ["store hours", "hours", "open", "close", "closing"]]
ANYTHING_ELSE = [["yes", "yeah", "main menu"], ["no", "nope", "thanks", "thank you", "that's all", "all set"],
                 ["order status", "order"], ["billing", "balance", "bill"], ["store hours", "hours"]]


@pytest.mark.parametrize("text, option", [
    ("order status", 0),
    ("order statis", 0),  # a recogniser slip, the whole utterance is close
    ("where's my parcel", 0),
    ("I ordered two of the blue cushions, has it shipped", 0),
    ("my bank blocked the payment at first but it went through, where's my order", 0),
    ("I called yesterday about my bill, today it's my order", 0),
    ("never mind the order, what time do you close", 2),
    ("billing please", 1),
    ("I'm not cancelling anything, I just want to pay my bill", 1),
    ("I want to return something", None),
    ("order status and billing", None),  # two requests together: ask again
    ("I don't want the order status", None),
])
def test_main_menu(text, option):
    found = match_phrase(text, MAIN)
    assert (found.index if found else None) == option, found


@pytest.mark.parametrize("text, option", [
    ("no thanks", 1),
    ("yes my balance", 3),
    ("oh right, I thought it was lost, no that's fine thanks", 1),
    ("no, my agent id is on the letter but I'm all set", 1),
    ("no that's not right, the app says it was sent back to you", None),
    ("yes, um, my dad is gone now and I'm sorting out his things, how do I stop his orders", 2),
])
def test_anything_else(text, option):
    found = match_phrase(text, ANYTHING_ELSE)
    assert (found.index if found else None) == option, found


def test_a_person_only_option_needs_a_clear_match():
    options = [["order status"], ["cancel my account"]]
    strict = [0.78, 0.95]
    assert match_option("cancel my account", options, strict).index == 1
    assert match_option("cancel my acount", options, strict) is None  # close, not clear
    assert match_option("cancel my acount", options, [0.78, 0.78]).index == 1
    assert match_option("I don't want to cancel my account", options, strict) is None


@pytest.mark.parametrize("text, digits", [
    ("four five one two two eight", "451228"),
    ("my order number is four five six one two three", "456123"),
    ("sorry I cut my finger so it's hard to type, four five one two eight eight", "451288"),
    ("my agent number is 4 4 2", "442"),
    ("double five", "55"),
    ("twenty one", "21"),
    ("one", "1"),
    ("I ordered two lamps and one arrived broken", ""),
    ("I've got one question about something", ""),
])
def test_digits_said(text, digits):
    assert digits_in(text) == digits


@pytest.mark.parametrize("text, key", [
    ("one", "1"), ("two please", "2"), ("press three", "3"), ("option 2", "2"), ("number four", "4"),
    ("I've got one question", ""), ("I ordered two lamps", ""), ("twenty one", ""), ("to", ""),
])
def test_a_key_said_is_the_whole_utterance(text, key):
    assert key_in(text) == key
