"""Each signal on its own, its negations and polite cases, and how they combine."""
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from ivr.model.session import Reason, Session, Turn
from ivr.escalation import ALL_SIGNALS, SIGNALS, Assessment, EscalationSettings, assess, combine
from ivr.escalation.signals import CHECKS, DEFAULT_WEIGHTS

from escalation_caller import Caller


def test_every_signal_has_a_check_and_a_default_weight():
    assert set(CHECKS) == set(ALL_SIGNALS) == set(DEFAULT_WEIGHTS)
    assert set(SIGNALS) <= set(ALL_SIGNALS)  # the flow-configurable ones come first


def test_a_call_with_no_turns_scores_zero():
    assert Caller().assess() == Assessment(0.0, (), False, "")


# explicit request --------------------------------------------------------------------

def test_pressing_zero_needs_a_person_now(call):
    call.at("order").press("0", result="operator")
    found = call.assess()
    assert found.immediate and found.reasons[0].signal == "explicit_request"
    assert "pressed 0" in found.reasons[0].detail


def test_asking_inside_a_longer_sentence(call):
    call.say("I'd like to speak with a representative about my bill")
    assert call.assess().immediate


def test_agent_inside_another_sentence_is_not_a_request(call):
    call.say("my agent number is 4 4 2", result="matched", intent="billing")
    assert "explicit_request" not in call.fired()
    assert not call.needs_person()


def test_only_the_newest_turn_asks(call):
    call.say("agent").say("no I'm fine, order status", result="matched", intent="order")
    assert not call.assess().immediate


# human topics ------------------------------------------------------------------------

@pytest.mark.parametrize("text, topic", [
    ("I want to cancel my account", "cancel"),
    ("I'd like to file a complaint about the driver", "complaint"),
    ("there's a fraudulent charge on my card", "fraud"),
    ("my card was stolen", "fraud"),
    ("there are charges on it I didn't make", "fraud"),
    ("my father passed away in May", "bereavement"),
    ("I'm going to talk to my lawyer", "legal"),
])
def test_human_topics_need_a_person_now(call, text, topic):
    call.say(text)
    found = call.assess()
    assert found.immediate and found.topic == topic


@pytest.mark.parametrize("text", [
    "I don't want to cancel my account",
    "this isn't a complaint, just the hours",
    "it's not fraud or anything",
    "my phone died earlier",
])
def test_negated_or_unrelated_topics_do_not_fire(call, text):
    call.say(text, result="matched", intent="hours")
    assert "human_topic" not in call.fired()


def test_topics_come_from_the_settings():
    call = Caller(EscalationSettings(human_topics={"warranty": ("warranty claim",)}))
    call.say("I have a warranty claim")
    assert call.assess().topic == "warranty"
    call.say("I want to cancel my account")
    assert not call.assess().immediate


# failures ----------------------------------------------------------------------------

def test_one_misunderstanding_is_a_slip_two_need_a_person(call):
    call.say("returns")
    assert 0 < call.fired()["no_match"] < 0.7 and not call.needs_person()
    call.say("I want to return something")
    assert call.needs_person()
    assert "2 time(s) in a row at 'main'" in call.assess().reasons[0].detail


def test_failures_at_another_node_do_not_count(call):
    call.say("returns")
    call.at("order").say("four five six")
    assert call.fired()["no_match"] < 0.7


def test_a_success_resets_the_run(call):
    call.say("returns").say("order status", result="matched", intent="order")
    assert "no_match" not in call.fired()


def test_silences(call):
    call.at("order").silent()
    assert not call.needs_person()
    call.silent()
    assert 0 < call.fired()["no_input"] < 0.7
    call.silent()
    assert call.needs_person()


# revisits and repeats ----------------------------------------------------------------

def test_returning_to_the_same_node(call):
    call.press("1", intent="order").at("order").at("anything_else").at("main")
    call.press("2", intent="billing")
    assert 0 < call.fired()["revisit"] < 0.3
    call.at("billing").at("main").press("3", intent="hours")
    assert call.fired()["revisit"] > call.fired().get("repeated_intent", 0)


def test_the_same_value_again_means_the_answer_did_not_help(call):
    call.at("order").press("454545", intent="order_id").at("main").at("order")
    call.press("454545", intent="order_id")
    assert call.fired()["repeated_intent"] >= 0.7


def test_a_second_order_with_another_number_is_routine(call):
    call.at("order").press("111111", intent="order_id").at("main").at("order")
    call.press("222222", intent="order_id")
    assert call.fired()["repeated_intent"] < 0.3 and not call.needs_person()


def test_yes_at_anything_else_is_not_a_repeat(call):
    call.at("anything_else").say("yes", "matched", "yes").at("main").at("anything_else")
    call.say("yes", "matched", "yes")
    assert "repeated_intent" not in call.fired()


# sentiment ---------------------------------------------------------------------------

def test_anger_alone_is_enough(call):
    call.say("this is ridiculous")
    assert call.needs_person()


def test_negated_emotion_does_not_fire(call):
    call.say("I'm not upset, I just want to know where my package is", "matched", "order")
    assert "negative_sentiment" not in call.fired()


def test_a_sigh_fades_over_later_turns(call):
    call.say("ugh this is annoying", "matched", "order")
    first = call.fired()["negative_sentiment"]
    call.at("order").press("123456", intent="order_id")
    assert call.fired().get("negative_sentiment", 0) < first


# loudness ----------------------------------------------------------------------------

def test_louder_than_the_callers_own_start(call):
    call.say("order status", "matched", "order", loudness=-26.0)
    call.say("order status", "matched", "order", loudness=-15.0)
    details = {r.signal: r.detail for r in call.assess().reasons}
    assert "11 dB louder" in details["loudness"]
    assert call.fired()["loudness"] > 0.3


def test_loudness_needs_measurements(call):
    call.say("order status", "matched", "order")
    call.say("order status", "matched", "order", loudness=-10.0)
    assert "loudness" not in call.fired()


def test_a_loud_line_that_stays_loud_is_fine(call):
    call.say("billing", "matched", "billing", loudness=-14.0)
    call.say("no", "matched", "no", loudness=-15.0)
    assert "loudness" not in call.fired()


# long and multi-request utterances ---------------------------------------------------

STORY = ("so the fridge was delivered yesterday but the door is dented and the installer "
         "would not take the old one away and nobody has called me back")


def test_a_long_story_is_judged_by_what_it_says_not_by_its_length(call):
    call.say(STORY)
    found = call.assess()
    assert found.immediate and found.topic == "damaged"
    assert 0 < call.fired()["long_utterance"] < 0.7


def test_length_alone_never_sends_a_call(call):
    call.say("my granddaughter set this phone up for me and I'm never sure which buttons to press, "
             "so I thought I would just ring up and see what the recording says")
    assert "long_utterance" in call.fired() and not call.needs_person()


def test_a_long_but_routine_sentence_stays_automated(call):
    call.say("hi there I placed an order last week for my daughter's birthday and I "
             "just wanted to check on the status of it", "matched", "order")
    assert not call.needs_person()


def test_several_requests_in_one_sentence(call):
    call.say("I need to change my address and also update my payment card and check why I was charged twice",
             "matched", "billing")
    assert call.fired()["multi_intent"] >= 0.7


def test_one_request_with_and_is_not_several(call):
    call.say("yes and what time do you close", "matched", "hours")
    assert "multi_intent" not in call.fired()


# confidence and time -----------------------------------------------------------------

def test_low_confidence_repeatedly(call):
    call.say("bal ants", confidence=0.3)
    assert "low_confidence" not in call.fired()
    call.say("ah wan bal ants", confidence=0.35)
    assert call.fired()["low_confidence"] > 0


def test_one_low_confidence_turn_is_not_a_signal(call):
    call.say("balance", "matched", "billing", confidence=0.4)
    call.at("billing_account").press("12345678", intent="account")
    assert "low_confidence" not in call.fired()


def test_time_in_the_automated_part(call):
    call.press("1", intent="order").wait(200)
    assert "time_in_ivr" not in call.fired()
    call.wait(120).press("1", intent="order")
    assert "5 min" in dict((r.signal, r.detail) for r in call.assess().reasons)["time_in_ivr"]


# combining ---------------------------------------------------------------------------

def test_weights_can_be_overridden_and_turned_off():
    loud = Caller(EscalationSettings(weights={"negative_sentiment": 0.2}))
    loud.say("this is ridiculous")
    assert loud.fired()["negative_sentiment"] <= 0.2 and not loud.needs_person()
    off = Caller(EscalationSettings(weights={"explicit_request": 0}))
    off.say("agent please")
    assert not off.assess().immediate


def test_noisy_or():
    assert combine([]) == 0.0
    assert combine([0.5, 0.5]) == 0.75
    assert combine([0.3, 0.4]) > 0.4
    assert combine([1.5]) == 1.0


def test_two_moderate_signals_add_up(call):
    call.say("I have a question about a charge", loudness=-27.0)
    alone = call.assess().score
    call.say("this is annoying", loudness=-16.0)
    found = call.assess()
    assert found.score > alone and len(found.reasons) >= 3
    assert found.reasons == tuple(sorted(found.reasons, key=lambda r: -r.weight))


def test_assess_is_pure(call):
    call.say("this is ridiculous", loudness=-20.0)
    before = call.session
    assert call.assess() == call.assess()
    assert call.session == before


_turns = st.builds(
    Turn,
    t=st.floats(0, 1000), node=st.sampled_from(["main", "order", "billing"]),
    kind=st.sampled_from(["keys", "speech", "silence"]),
    text=st.sampled_from(["", "0", "agent", "this is ridiculous", "order status", "123456",
                          "I don't want to cancel my account", "uh"]),
    confidence=st.floats(0, 1), loudness_dbfs=st.none() | st.floats(-60, 0),
    duration=st.none() | st.floats(0, 30),
    result=st.sampled_from(["matched", "no_match", "operator", "invalid", "silence"]),
    intent=st.sampled_from(["", "order", "order_id", "yes"]),
)


@hsettings(max_examples=200, deadline=None)
@given(turns=st.lists(_turns, max_size=12), path=st.lists(st.sampled_from(["main", "order", "billing"]), max_size=12),
       t=st.floats(0, 2000))
def test_score_is_always_between_0_and_1_and_reasons_are_known(turns, path, t):
    session = Session(call_sid="x", flow="f", flow_version="1", started_at="", turns=tuple(turns),
                      path=tuple(path), t=t)
    found = assess(EscalationSettings(), session)
    assert 0.0 <= found.score <= 1.0
    assert all(isinstance(r, Reason) and r.signal in ALL_SIGNALS and 0 < r.weight <= 1 for r in found.reasons)
    assert found.immediate == any(r.signal in ("explicit_request", "human_topic") for r in found.reasons)


def test_a_flow_can_weigh_the_signals_read_from_meaning():
    """pushback, giving_up and repeat_contact are signals like the others: a flow's
    escalation block may set their weights, and validation knows their names."""
    from ivr.flows.loader import load_text

    text = """
flow: weights
numbers: ["+15005550006"]
escalation: {threshold: 0.7, weights: {pushback: 0.2, giving_up: 0, repeat_contact: 0.9}}
operator: {to: desk}
start: main
nodes:
  main:
    menu:
      prompt: "Press 1."
      options: [{keys: "1", go: bye}]
  bye:
    hangup: "Goodbye."
  desk:
    transfer: {to: ["+15005550010"]}
"""
    flow, problems = load_text(text, "weights.yaml")
    assert flow is not None, [p.message for p in problems]
    assert dict(flow.escalation.weights) == {"pushback": 0.2, "giving_up": 0.0, "repeat_contact": 0.9}
