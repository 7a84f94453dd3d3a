"""Callers who speak faster, slower, in another voice or over louder noise are heard as
the answers they give (variants.tsv: espeak-ng's ko+m3 voice, 110 and 185-190 words a
minute, pink noise about 8 dB under the words), and out-of-grammar speech in those
voices and speeds still never reaches a person unasked."""
from __future__ import annotations

import pytest
from test_speech_decisions import out_of_grammar, speak, variants  # noqa: F401, F811 (fixtures)

from ivr.speech.pipeline import Heard, OperatorNow

OTHER_CALLERS = ["yes_fast", "no_slow", "no_m3", "yes_ne_loud_noise", "hours_fast", "hours_loud_noise",
                 "agent_fast", "agent_m3"]


@pytest.mark.parametrize("uid", OTHER_CALLERS)
def test_another_voice_speed_or_louder_noise_is_heard_as_its_answer(call, variants, uid):  # noqa: F811
    node, answer, audio = variants[uid]
    for lead in (0.3, 0.7):
        outcomes = speak(call, node, audio, lead)
        if answer == "상담원":
            assert outcomes == [OperatorNow("상담원", None)], (lead, outcomes)
        else:
            assert [(type(o), getattr(o, "text", None)) for o in outcomes] == [(Heard, answer)], (lead, outcomes)


@pytest.mark.parametrize("uid", ["oog_refund_fast", "oog_weather_m3"])
@pytest.mark.parametrize("node", ["menu", "yes_no", "digits"])
def test_out_of_grammar_speech_in_other_voices_never_reaches_a_person(call, out_of_grammar, uid, node):  # noqa: F811
    _text, audio = out_of_grammar[uid]
    outcomes = speak(call, node, audio)
    assert not [o for o in outcomes if isinstance(o, OperatorNow)], outcomes
