"""What the pipeline decides a caller said, on whole streams: the real Korean model hears
the committed recordings streamed as Twilio Media Stream frames through ``MediaSession``.

* A transfer to a person rests on a stable result, never on a partial that flickers.
* Speech that is none of the prompt's answers is ``NotUnderstood``: not a forced guess,
  not a transfer, and not silence.
* How long the caller's silence must last before an utterance ends follows the prompt
  kind (given by the server, or told from the phrases).
"""
from __future__ import annotations

import math
import struct
from pathlib import Path

import pytest

from ivr.speech.audio import pcm16_to_ulaw, rms_dbfs, ulaw_to_pcm16
from ivr.speech.endpoint import ENDPOINTING, prompt_kind
from ivr.speech.pipeline import Heard, NotUnderstood, OperatorNow, Prompt
from ivr.speech.recognizer import Partial

UTTERANCES = Path(__file__).resolve().parents[2] / "audio" / "test_utterances"


def rows(name: str) -> list[list[str]]:
    text = (UTTERANCES / name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="session")
def out_of_grammar():
    """id -> (text, audio): Korean sentences in no demo node's grammar."""
    return {r[0]: (r[4], (UTTERANCES / f"{r[0]}.ulaw").read_bytes()) for r in rows("out_of_grammar.tsv")}


@pytest.fixture(scope="session")
def variants():
    """id -> (node, answer, audio): in-grammar answers with more words, noise, phone band."""
    return {r[0]: (r[1], r[6], (UTTERANCES / f"{r[0]}.ulaw").read_bytes()) for r in rows("variants.tsv")}


def spoken(log) -> list:
    return [o for _, o in log if isinstance(o, (Heard, NotUnderstood, OperatorNow))]


def listen_to_partials(caller) -> list[str]:
    """The partial results the session's recogniser gives, as they come (a spy: it only
    listens)."""
    seen: list[str] = []
    recognizer = caller.session._recognizer
    feed = recognizer.feed

    def spying(pcm):
        results = feed(pcm)
        seen.extend(r.text for r in results if isinstance(r, Partial))
        return results

    recognizer.feed = spying
    return seen


def speak(call, node, audio: bytes, lead: float = 0.5, **options) -> list:
    caller = call(node, **options)
    caller.silence(lead)
    caller.play(audio)
    caller.silence(1.5)
    caller.hang_up()
    return spoken(caller.log)


def hum(seconds: float = 0.8, hz: float = 150.0) -> bytes:
    """A low hum on the line (mu-law): no word of any language."""
    n = int(8000 * seconds)
    pcm = struct.pack(f"<{n}h", *(round(6000 * math.sin(2 * math.pi * hz * i / 8000)) for i in range(n)))
    return pcm16_to_ulaw(pcm)


# -- a person only on a stable result ---------------------------------------------------------


@pytest.mark.parametrize(
    "uid, node, lead",
    [
        ("order_status", "menu", 0.8),  # "상담원" flickers up on the way to "주문 상태"
        ("digits_1234", "digits", 0.4),  # "이 영 상담원" on the way to a digit string
    ],
)
def test_a_partial_that_flickers_through_the_operator_phrase_does_not_reach_a_person(
    call, utterances, uid, node, lead
):
    caller = call(node)
    partials = listen_to_partials(caller)
    caller.silence(lead)
    caller.say(utterances[uid], pause=1.2)
    caller.hang_up()
    assert any(p.split()[-1] == "상담원" for p in partials), partials  # it did flicker
    outcomes = spoken(caller.log)
    assert not [o for o in outcomes if isinstance(o, OperatorNow)], outcomes
    assert len(outcomes) == 1, outcomes


def test_an_in_grammar_answer_whose_partial_flickered_is_delivered_as_that_answer(call, utterances):
    caller = call("menu")
    caller.silence(0.8)
    caller.say(utterances["order_status"], pause=1.2)
    assert spoken(caller.log) == [Heard("주문 상태", *_measures(caller.log))]


def _measures(log):
    [heard] = [o for _, o in log if isinstance(o, Heard)]
    return heard.confidence, heard.loudness_dbfs, heard.duration


@pytest.mark.parametrize(
    "uid, node",
    [("agent", "menu"), ("agent_at_yes_no", "yes_no"), ("agent", "digits"), ("long_then_agent", "menu")],
)
def test_a_stable_operator_phrase_reaches_a_person(call, utterances, uid, node):
    assert speak(call, node, utterances[uid].audio) == [OperatorNow("상담원")]


def test_the_operator_phrase_in_noise_reaches_a_person(call, variants):
    node, _answer, audio = variants["agent_noise"]
    assert speak(call, node, audio) == [OperatorNow("상담원")]


@pytest.mark.parametrize("uid", ["no_thanks", "no_thanks_noise", "digits_2345", "digits_2345_noise",
                                 "hours_noise", "order_status_noise", "digits_502_noise"])
def test_in_grammar_answers_with_more_words_or_noise_never_reach_a_person(call, variants, uid):
    node, _answer, audio = variants[uid]
    for lead in (0.3, 0.6, 1.1):
        outcomes = speak(call, node, audio, lead)
        assert not [o for o in outcomes if isinstance(o, OperatorNow)], (lead, outcomes)


# -- out of grammar: a misunderstanding, not a guess --------------------------------------------


@pytest.mark.parametrize(
    "uid, node",
    [
        ("oog_refund", "menu"),
        ("oog_refund", "yes_no"),
        ("oog_password", "yes_no"),
        ("oog_password", "menu"),
        ("oog_late", "yes_no"),
        ("oog_card", "yes_no"),
        ("oog_hello", "yes_no"),
        ("oog_coupon", "menu"),
        ("oog_hello", "digits"),
        ("oog_membership", "digits"),
    ],
)
def test_out_of_grammar_speech_is_not_understood(call, out_of_grammar, uid, node):
    """At a yes/no question "환불하고 싶어요" used to come out as "상담원 네 아니요"
    (a transfer); now it is a no-match the flow can apologise for and ask again."""
    _text, audio = out_of_grammar[uid]
    outcomes = speak(call, node, audio)
    assert outcomes and all(isinstance(o, NotUnderstood) for o in outcomes), outcomes
    assert all(o.why for o in outcomes)


def test_a_sound_of_unknown_words_only_is_a_misunderstanding_not_silence(call, grammars):
    """A hum is heard as the model's unknown word and nothing else: that is something
    said and not understood (before, an empty ``Heard`` the engine took for silence)."""
    for node in grammars:
        outcomes = speak(call, node, hum())
        assert len(outcomes) == 1 and isinstance(outcomes[0], NotUnderstood), (node, outcomes)
        assert outcomes[0].heard == ""


def test_out_of_grammar_recordings_are_rarely_taken_as_an_answer(call, out_of_grammar, grammars, capsys):
    """Every out-of-grammar sentence at every demo node. Before the rejection rules, 22
    of 36 calls were taken as an answer and 16 were sent to a person (bench/asr.py);
    today 9-10 and 2-3. Vosk's confidences move a little with what the process decoded
    before, so a figure can differ by one between runs; the ceilings allow that."""
    rows, accepted, person = [], 0, 0
    for uid, (text, audio) in out_of_grammar.items():
        for node in grammars:
            outcomes = speak(call, node, audio)
            took = any(isinstance(o, Heard) for o in outcomes)
            sent = any(isinstance(o, OperatorNow) for o in outcomes)
            accepted, person = accepted + took, person + sent
            mark = "person" if sent else "ANSWER" if took else "ok"
            rows.append(f"  {mark:6} {uid:16} {node:7} {text:14} -> {outcomes}")
    calls = len(out_of_grammar) * len(grammars)
    with capsys.disabled():
        print(f"\nout-of-grammar calls taken as an answer: {accepted}/{calls}, sent to a person: {person}/{calls}")
        print("\n".join(rows))
    assert accepted <= 11, "\n".join(rows)
    assert person <= 4, "\n".join(rows)


# -- endpointing per prompt kind -------------------------------------------------------------------


def test_the_prompt_kind_is_told_from_the_phrases(grammars):
    assert prompt_kind(grammars["yes_no"]) == "yes_no"
    assert prompt_kind(grammars["menu"]) == "menu"
    assert prompt_kind(grammars["digits"]) == "digits"
    assert prompt_kind(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]) == "digits"
    assert prompt_kind(["billing", "order status"], ("agent",)) == "menu"
    assert prompt_kind(["agent"], ("agent",)) == "open"


def words_only(audio: bytes) -> bytes:
    """The recording without the silence espeak and sox put before and after the words."""
    frames = [audio[i : i + 160] for i in range(0, len(audio), 160)]
    loud = [i for i, f in enumerate(frames) if rms_dbfs(ulaw_to_pcm16(f)) > -45]
    return b"".join(frames[loud[0] : loud[-1] + 1])


def test_a_digit_string_with_a_pause_is_one_answer_at_a_digits_prompt(call, utterances):
    """A caller reads 502, pauses 0.45 s, reads 235: at a digits prompt that is one
    number; with a yes/no prompt's shorter wait it would have been cut in two."""
    first, second = words_only(utterances["digits_502"].audio), words_only(utterances["digits_235"].audio)
    said = first + b"\xff" * int(8000 * 0.45) + second
    as_digits = speak(call, "digits", said)
    assert [o.text for o in as_digits if isinstance(o, Heard)] == ["오 공 이 이 삼 오"], as_digits
    as_yes_no = speak(call, "digits", said, kind="yes_no")
    assert len(as_yes_no) == 2, as_yes_no


def test_the_server_can_name_the_prompt_kind_with_the_phrases(call, utterances, grammars):
    """``phrases_for_call`` may answer with a ``Prompt``: phrases plus kind."""
    at = {"CA0001": Prompt(tuple(grammars["digits"]), "yes_no")}
    caller = call(phrases_for_call=lambda sid: at[sid])
    assert caller.session.kind == "yes_no"
    assert caller.session._recognizer.endpointing == ENDPOINTING["yes_no"]
    at["CA0001"] = Prompt(tuple(grammars["digits"]))  # the next prompt: kind told from the phrases
    caller.session.switch(at["CA0001"])  # pushed by the server
    assert caller.session.kind == "digits"
    assert caller.session._recognizer.endpointing == ENDPOINTING["digits"]
    caller.silence(0.3)
    assert [o.text for o in caller.say(utterances["digits_235"], pause=1.2) if isinstance(o, Heard)] == ["이 삼 오"]


def test_a_shell_that_passes_phrases_only_still_works(call, utterances, grammars):
    """The shell as it is today: phrases from the store, no kind."""
    caller = call(phrases_for_call=lambda sid: grammars["yes_no"])
    assert caller.session.kind == "yes_no"
    caller.silence(0.3)
    caller.say(utterances["no"], pause=1.2)
    assert [o.text for o in spoken(caller.log)] == ["아니요"]


def test_a_prompt_kind_the_pipeline_does_not_know_waits_like_an_open_prompt(call):
    caller = call("menu", kind="number")
    assert caller.session.kind == "open"
    assert caller.session._recognizer.endpointing == ENDPOINTING["open"]
