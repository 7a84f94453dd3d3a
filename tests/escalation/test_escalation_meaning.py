"""Signals on meaning: what a sentence is about decides, not which words it contains.

Each row is a sentence a caller says at the main menu (not placed by the menu unless the
row says so), whether the signal fires, and the words the agent reads when it does."""
import pytest

from ivr.understanding.meaning import read

from escalation_caller import Caller


def _said(text, result="no_match", intent=""):
    call = Caller()
    call.say(text, result=result, intent=intent)
    return call


# needs only a person can meet ---------------------------------------------------------

@pytest.mark.parametrize("text, topic, reason", [
    ("my husband died last month and the account is in his name", "bereavement", "death in the family"),
    ("we buried my brother on monday and his subscription is still running", "bereavement", "death in the family"),
    ("my sister is no longer with us and there's a delivery in her name", "bereavement", "death in the family"),
    ("there are three charges on my card I didn't make", "fraud", "did not make"),
    ("somebody changed my password and I can't get into my account", "fraud", "fraud or security"),
    ("I clicked a link in a text that looked like it came from you and now money's gone", "fraud", "fraud"),
    ("I've been served court papers about a debt with you", "legal", "legal"),
    ("if this isn't put right I'm going to the ombudsman", "legal", "legal"),
    ("the charger I got from you started smoking and melted the plug", "safety", "dangerous"),
    ("the ladder collapsed under me and I've hurt my back", "safety", "hurt someone"),
    ("I'm partially sighted and I can't read the letters you send me", "accessibility", "disability"),
    ("since my stroke I can't press the buttons properly", "accessibility", "disability"),
    ("I can't pay my bill this month, I've been made redundant", "hardship", "money difficulty"),
    ("I've missed two payments and I'm worried about what happens now", "hardship", "money difficulty"),
    ("I've shopped with you since the nineties but I'm taking my business elsewhere", "cancel", "leave or close"),
    ("I hold lasting power of attorney for my mother", "third_party", "for someone else"),
    ("my mum's gone into a care home and I need to take over her account", "third_party", "for someone else"),
    ("the cake stand arrived smashed and the party is tomorrow", "damaged", "needed by a date (tomorrow)"),
    ("you sent the wrong colour and I need it for a christening this weekend", "damaged", "damaged or wrong goods"),
    ("we need fifty laptops for our company, who do I talk to about a quote", "bulk", "large or business order"),
    ("I'm a builder and I'd like to open a trade account", "bulk", "large or business order"),
])
def test_a_need_only_a_person_can_meet(text, topic, reason):
    found = _said(text).assess()
    assert found.immediate and found.topic == topic, found.summary()
    assert reason in found.summary()


@pytest.mark.parametrize("text", [
    "my old kettle died so I ordered a new one, has it shipped",
    "I'm dying to know when my parcel gets here",
    "I ordered flowers for a friend's funeral, can you check the delivery",
    "I had a fraud alert on my bank card but it's sorted, I just want to pay my bill",
    "my card was stolen last month but it's all been replaced now, what's my balance",
    "I'm a lawyer and I work late, are you open after six",
    "where are the tennis court shoes I ordered",
    "I'm a firefighter on nights, when do you open in the morning",
    "sorry I've broken my arm so I'm slow at typing",
    "where's the wheelchair cushion I ordered",
    "I've just paid off what I owed, can you check my balance is zero",
    "my flight was cancelled so I'll be home for the delivery, where's my order",
    "I'm checking my husband's order for him, he's at work",
    "the box got a bit wet in the rain but it's all fine, I want to check my other order",
    "I ordered two hundred balloons for the party, where's the order",
    "I don't want to cancel my account, I just want to check my balance",
])
def test_a_look_alike_is_routine(text):
    call = _said(text, result="matched", intent="order status")
    assert "human_topic" not in call.fired(), call.assess().summary()
    assert not call.needs_person()


# several problems, pushing back, giving up, repeat contact ----------------------------------

@pytest.mark.parametrize("text, fires, reason", [
    ("the parcel is late, the price was wrong, and the driver was rude to my wife", True, "3 separate problems"),
    ("I want to return a lamp and also get a refund for the shipping", True, "a return, a refund"),
    ("I've got three things to sort out", True, "3 separate problems"),
    ("yes and what time do you close", False, ""),
    ("my order is late, can you check the status", False, ""),
])
def test_several_separate_problems(text, fires, reason):
    call = _said(text)
    assert ("multi_intent" in call.fired()) is fires
    if fires:
        assert reason in call.assess().summary()


def _after_an_answer(text):
    call = Caller()
    call.press("1", intent="order status").at("order").press("313131", intent="order_id")
    call.at("anything_else").say(text, result="no_match")
    return call


@pytest.mark.parametrize("text, fires", [
    ("that's what it said last week, the tracking hasn't moved at all", True),
    ("it can't have shipped, I cancelled it on monday", True),
    ("that doesn't match my statement at all", True),
    ("no it says delivered but it's not here", True),
    ("you told me that last time and it never turned up", True),
    ("no, that's all, thanks", False),
    ("oh brilliant, I thought it was lost, no thanks", False),
    ("that's right, thank you, bye", False),
])
def test_pushing_back_on_the_lines_answer(text, fires):
    call = _after_an_answer(text)
    assert ("pushback" in call.fired()) is fires, call.assess().summary()
    if fires:
        assert "Says the line's answer is wrong" in call.assess().summary()
        assert call.needs_person()


def test_pushback_needs_an_answer_to_push_back_on():
    assert "pushback" not in _said("that's not right").fired()


@pytest.mark.parametrize("text, fires", [
    ("forget it", True),
    ("oh never mind, I'll try and sort it out myself", True),
    ("what's the point", True),
    ("doesn't matter, I'll just buy it somewhere else", True),
    ("this is getting me nowhere", True),
    ("I don't know it, forget it", True),
    ("I always forget it, hang on", False),
    ("never mind the order, what time do you close", False),
    ("hang on, never mind, found it", False),
    ("I gave up smoking so I'm treating myself, where's my order", False),
    ("no that's fine, forget it, bye", False),
])
def test_giving_up(text, fires):
    call = _said(text)
    assert ("giving_up" in call.fired()) is fires, call.assess().summary()
    if fires:
        assert "giving up on the automated line" in call.assess().summary()


@pytest.mark.parametrize("text, reason", [
    ("this is my fourth call about the same refund", "fourth call about one problem"),
    ("this is the third time I've rung about the same parcel", "third call about one problem"),
    ("I was promised a call back yesterday and I'm still waiting", "been in touch before"),
    ("your manager said he would phone me and he never did", "been in touch before"),
    ("I've called every day this week about my missing order", "been in touch before"),
])
def test_repeat_contact(text, reason):
    call = _said(text)
    assert "repeat_contact" in call.fired() and call.needs_person()
    assert reason in call.assess().summary()


@pytest.mark.parametrize("text", [
    "I called yesterday about my bill, today it's my order",
    "someone called me back yesterday and fixed it, now I just want my balance",
    "it's my third order this month, I love your stuff, where is it",
])
def test_earlier_calls_that_are_not_repeat_contact(text):
    assert "repeat_contact" not in _said(text, "matched", "order status").fired()


# sentiment aimed at the service ------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "the weather's been awful, has my parcel been held up",
    "ugh I'm such an idiot, I typed it wrong",
    "I've had an awful week, the car broke down and the kids are sick",
    "I hate this rain, is my delivery still coming today",
    "sorry, I'm terrible with these phone things, billing please",
    "my team lost again last night, terrible, anyway where's my order",
    "oh great it's coming tomorrow, thank you",
])
def test_unhappiness_about_other_things_is_not_frustration(text):
    assert "negative_sentiment" not in _said(text, "matched", "order").fired()


@pytest.mark.parametrize("text", [
    "your customer service is a disgrace",
    "you are a shambles of a company",
    "this automated thing is ridiculous",
    "you are honestly the worst shop I've ever dealt with",
    "three weeks late is unacceptable",
])
def test_frustration_with_the_service(text):
    call = _said(text, "matched", "order")
    assert "negative_sentiment" in call.fired() and call.needs_person()
    assert "Sounds frustrated with the service" in call.assess().summary()


# failures at one prompt, and answers the line asked for ------------------------------------

def test_silence_and_misunderstanding_at_one_prompt_count_together(call):
    call.at("order").silent()
    call.say("uh")
    assert not call.needs_person()
    call.silent()
    assert call.needs_person()
    assert "Stuck at 'order': 3 failed tries in a row (1 not understood, 2 no answer)" in call.assess().summary()


def test_a_rejected_read_back_counts_as_a_failure(call):
    call.at("order").say("four five six one two three", result="matched", intent="order_id")
    call.say("no", result="matched", intent="order_id rejected on read-back")
    call.say("um")
    assert call.needs_person()
    assert "read-back rejected" in call.assess().summary()


def test_two_silences_alone_are_not_yet_enough(call):
    call.at("order").silent().silent()
    assert not call.needs_person()


def test_keying_the_account_again_after_a_wrong_pin_is_doing_as_told(call):
    call.at("account").press("12345678", intent="account")
    call.at("pin").press("••••", intent="pin")
    call.at("account").press("12345678", intent="account")
    assert call.fired().get("repeated_intent", 0) < 0.7 and not call.needs_person()


def test_keying_the_same_order_again_after_hearing_its_status_is_a_sign(call):
    call.at("order").press("454545", intent="order_id").at("anything_else").say("yes", "matched", "more")
    call.at("main").press("1", intent="order status").at("order").press("454545", intent="order_id")
    assert call.fired()["repeated_intent"] >= 0.7
    assert "the first answer did not help" in call.assess().summary()


# the reader itself -------------------------------------------------------------------------

def test_the_reader_says_what_a_sentence_asks_for():
    assert read("where's my parcel").request == "order status"
    assert read("what's my balance").request == "billing"
    assert read("what time do you close tonight").request == "store hours"
    assert read("my bill is wrong").request == ""
    assert read("") == read("   ")
