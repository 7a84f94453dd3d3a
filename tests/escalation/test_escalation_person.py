"""asks_for_person: the operator escape by voice, at every prompt."""
import time

import pytest

from ivr.understanding.person import asks_for_person

PHRASES = ["agent", "representative", "operator", "human", "a person", "someone"]


@pytest.mark.parametrize("text", [
    "agent",
    "Agent.",
    "representative please",
    "let me talk to someone",
    "can I speak to a real person",
    "I want a human",
    "operator",
    "get me a human",
    "is there a human I can talk to",
    "I'd like to speak with a representative about my bill",
    "uh yes agent",
    "I said agent",
    "agent agent agent",
    "put me through to someone",
    "transfer me to customer service please",
    "I need to speak to your supervisor",
    "can I have a person please",
    "I don't want the menu I want a person",
])
def test_asks_for_a_person(text):
    assert asks_for_person(text, PHRASES)


@pytest.mark.parametrize("text", [
    "no need for an agent",
    "I don't want to talk to anyone",
    "my agent number is 4 4 2",
    "the agent at the store told me",
    "I'm not asking for a person",
    "someone stole my card",
    "I spoke to an agent yesterday",
    "no agent",
    "I don't need a person I just want my balance",
    "you people are useless",
    "I'm an agent",
    "I have a person here who wants to know the hours",
    "I have a customer service question about my bill",
    "where is my order",
    "",
])
def test_does_not_ask_for_a_person(text):
    assert not asks_for_person(text, PHRASES)


def test_uses_the_flows_own_phrases():
    assert asks_for_person("I want a clerk", ["clerk"])
    assert not asks_for_person("I want a clerk", ["agent"])


def test_is_fast_enough_for_every_utterance():
    utterances = ["where is my order", "my agent number is 4 4 2", "can I speak to a real person",
                  "I don't want to talk to anyone", "four five six one two three"] * 2000
    start = time.perf_counter()
    for text in utterances:
        asks_for_person(text, PHRASES)
    assert time.perf_counter() - start < 1.0  # 10 000 utterances; typically ~50 ms
