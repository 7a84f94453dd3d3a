"""The line's own words per language, as ops meet them: ``ivr validate`` refuses a flow
whose language has no messages and a messages file that lacks keys, names a key that is
not a message or a {field} a message does not have (at file:line:col); an ops file
changes what callers hear; the product's catalogues are complete and every key the code
says exists."""
from __future__ import annotations

import io
import re
import shutil
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import yaml
from hypothesis import given
from hypothesis import strategies as st

from ivr.engine.engine import step
from ivr.flows.catalogues import GUIDE_END, GUIDE_START, write_guide
from ivr.flows.loader import load_directory, load_text
from ivr.flows.report import run_validate
from ivr.model.actions import Listen, Speak
from ivr.model.events import CallStarted, DigitsPressed, NoInput, SpeechHeard, TransferResult
from ivr.model.messages import BUILT_IN_LANGUAGES, KEYS, allowed_fields, built_in, english, fields_of

REPO = Path(__file__).resolve().parents[2]
AT = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)

FLOW = """\
flow: {name}
language: {language}
operator: {{to: desk}}
start: main
nodes:
  main:
    menu:
      prompt: {prompt}
      options:
        - {{keys: "1", say: [one], go: desk, label: orders}}
        - {{keys: "2", say: [two], go: bye, label: hours}}
  bye:
    hangup: "Au revoir."
  desk:
    transfer: {{to: [client:ann, client:sam], reason: "Question"{whisper}}}
"""


def write_flow(folder: Path, name: str = "line", language: str = "fr-FR", prompt: str = '"Bonjour."',
               whisper: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(FLOW.format(name=name, language=language, prompt=prompt, whisper=whisper), encoding="utf-8")
    return path


def write_messages(folder: Path, language: str, text: str) -> Path:
    (folder / "messages").mkdir(parents=True, exist_ok=True)
    path = folder / "messages" / f"{language}.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def validate(*paths: Path) -> tuple[int, list[str]]:
    out, err = io.StringIO(), io.StringIO()
    code = run_validate([str(p) for p in paths], out, err)
    return code, out.getvalue().splitlines()


def french(**overrides: str) -> str:
    """A complete French catalogue (every key; French words for the ones a test listens to)."""
    texts = {key: f"[fr] {english().texts[key]}" for key in KEYS}
    texts.update({"sorry_no_input": "Pardon, je n'ai rien entendu.", "key_help": "Vous pouvez {parts}.",
                  "key_help_option": "appuyer sur {keys} pour {label}", "key_help_or": " ou ",
                  "key_help_person": "appuyer sur {digit} pour parler à quelqu'un"})
    texts.update(overrides)
    return yaml.safe_dump(texts, allow_unicode=True, sort_keys=False)


def test_a_flow_in_a_language_without_messages_is_refused_at_its_language_line(tmp_path):
    path = write_flow(tmp_path)
    code, out = validate(path)
    assert code == 1
    assert out[0] == (f"{path}:2:11: error: there are no messages for the language 'fr': the line could not speak "
                      "its own prompts (hold, key help, voicemail...) in it")
    assert out[1:3] == ["    language: fr-FR", "              ^"]
    assert "add messages/fr.yaml beside the flows" in out[3]


def test_a_prompt_variant_or_a_whisper_language_without_messages_is_refused_where_it_is_written(tmp_path):
    path = write_flow(tmp_path, language="en-US", prompt='{en-US: "Hello.", ja-JP: "こんにちは。"}',
                      whisper=", whisper_language: de-DE")
    code, out = validate(path)
    assert code == 1
    errors = [line for line in out if ": error: " in line]
    assert errors == [
        f"{path}:8:40: error: there are no messages for the language 'ja': the line could not speak its own prompts "
        "(hold, key help, voicemail...) in it",
        f"{path}:15:84: error: there are no messages for the language 'de': the line could not speak its own "
        "prompts (hold, key help, voicemail...) in it",
    ]


def test_the_shipped_languages_need_no_file_and_an_agent_pools_language_counts_too(tmp_path):
    ok = write_flow(tmp_path / "a", language="ko-KR")
    assert validate(ok)[0] == 0
    pool = write_flow(tmp_path / "b", language="en-US").read_text().replace(
        "to: [client:ann, client:sam]", "to: [{agents: {languages: [sv]}}, client:sam]")
    (tmp_path / "b" / "line.yaml").write_text(pool)
    code, out = validate(tmp_path / "b" / "line.yaml")
    assert code == 1 and "no messages for the language 'sv'" in out[0]


def test_a_messages_file_that_lacks_keys_is_refused_with_what_it_lacks(tmp_path):
    path = write_flow(tmp_path)
    messages = write_messages(tmp_path, "fr", """\
        sorry_no_input: "Pardon, je n'ai rien entendu."
        sorry_no_match: "Pardon, je n'ai pas compris."
    """)
    code, out = validate(path)
    assert code == 1
    missing = len(KEYS) - 2
    errors = [line for line in out if ": error: " in line]
    assert len(errors) == 1 and errors[0] == (f"{messages}:2:1: error: the 'fr' messages lack 'key_help', 'key_help_option', 'key_help_or', "
                      f"'key_help_person', 'key_help_message', 'key_help_callback' and {missing - 6} more")
    assert "no messages for the language" not in "\n".join(out)


def test_unknown_keys_and_fields_are_reported_once_for_every_flow_that_uses_the_file(tmp_path):
    write_flow(tmp_path, "one")
    write_flow(tmp_path, "two")
    text = french(key_help_person="appuyer sur {digits} pour parler à quelqu'un")
    messages = write_messages(tmp_path, "fr", text + "stil_trying: \"On essaie encore.\"\n")
    lines = messages.read_text().splitlines()
    person = next(i for i, line in enumerate(lines, 1) if line.startswith("key_help_person:"))
    code, out = validate(tmp_path)
    assert code == 1
    errors = [line for line in out if ": error: " in line]
    assert errors == [
        f"{messages}:{person}:18: error: message 'key_help_person' names {{digits}}, which it does not have",
        f"{messages}:{len(lines)}:1: error: 'stil_trying' is not a message of the line",
    ]
    assert "    hint: did you mean 'digit'?" in out and "    hint: did you mean 'still_trying'?" in out
    assert out[-1] == "2 files, 0 flows ok, 2 errors, 2 warnings"  # the transfers end in voicemail


def test_a_complete_catalogue_of_a_new_language_is_what_its_callers_hear(tmp_path):
    write_flow(tmp_path)
    write_messages(tmp_path, "fr", french())
    assert validate(tmp_path)[0] == 0
    flow = load_directory(tmp_path).flows["line"]
    session, actions = step(flow, None, CallStarted(AT, "CAfr", "+33123456789"))
    session, actions = step(flow, session, NoInput(AT))
    listen = actions[-1]
    assert isinstance(listen, Listen)
    assert [p.text for p in listen.prompts] == [
        "Pardon, je n'ai rien entendu.",
        "Vous pouvez appuyer sur 1 pour orders, appuyer sur 2 pour hours, ou appuyer sur 0 pour parler à quelqu'un."]
    assert {p.language for p in listen.prompts} == {"fr-FR"}


def test_an_ops_file_changes_one_korean_message_and_keeps_the_others(tmp_path):
    write_flow(tmp_path, language="ko-KR", prompt='"안녕하세요."')
    write_messages(tmp_path, "ko", """\
        still_trying: "조금만 더 기다려 주세요. 다른 상담원을 찾고 있습니다."
    """)
    assert validate(tmp_path)[0] == 0
    flow = load_directory(tmp_path).flows["line"]
    session, _ = step(flow, None, CallStarted(AT, "CAko", "+821012345678"))
    session, actions = step(flow, session, DigitsPressed(AT, "1"))
    assert any(isinstance(a, Speak) and "연결해 드리겠습니다" in a.text for a in actions)  # the product's words
    session, actions = step(flow, session, TransferResult(AT, "no-answer", "client:ann"))
    assert [a.text for a in actions if isinstance(a, Speak)] == ["조금만 더 기다려 주세요. 다른 상담원을 찾고 있습니다."]


def test_the_shipped_catalogues_have_every_key_with_only_the_english_fields():
    assert {"en", "ko", "es"} <= set(BUILT_IN_LANGUAGES)
    for language in BUILT_IN_LANGUAGES:
        words = built_in(language)
        assert words is not None
        raw = yaml.safe_load((REPO / "ivr" / "model" / "catalogue" / f"{language}.yaml").read_text(encoding="utf-8"))
        assert list(raw) == list(KEYS), f"{language}: keys differ from en.yaml (or their order)"
        for key in KEYS:
            assert set(fields_of(raw[key])) <= set(allowed_fields(key)), (language, key)
    korean = yaml.safe_load((REPO / "ivr/model/catalogue/ko.yaml").read_text(encoding="utf-8"))
    ascii_words = {k: v for k, v in korean.items() if re.search(r"[A-Za-z]", re.sub(r"\{[a-z_]+\}", "", v))}
    assert not ascii_words, ascii_words  # a Korean line says no English word


def test_every_key_the_code_says_is_a_message():
    said = set()
    for path in (REPO / "ivr").rglob("*.py"):
        if path.name == "messages.py":  # its docstring shows how to add a key
            continue
        text = path.read_text(encoding="utf-8")
        said |= set(re.findall(r"""(?:\bmessage|words\.text|words\([^()]*\)\.text|english\(\)\.text|voice\.text|voice\(\)\.text)\(\s*["']([a-z_]+)["']""",
                               text))
    assert said, "found no message keys in the code"
    assert not said - set(KEYS), sorted(said - set(KEYS))


def test_the_guide_lists_every_key_as_the_catalogue_has_it(tmp_path):
    guide = tmp_path / "GUIDE.md"
    shutil.copy(REPO / "docs" / "GUIDE.md", guide)
    assert not write_guide(guide), "docs/GUIDE.md is stale: python -m ivr.flows.catalogues --guide docs/GUIDE.md"
    listed = guide.read_text(encoding="utf-8").split(GUIDE_START)[1].split(GUIDE_END)[0]
    assert [k for k in KEYS if f"| `{k}` |" in listed] == list(KEYS)


KOREAN_ENDINGS = [("주문 상태", "는"), ("영업 시간", "은"), ("잔액", "은"), ("1", "은"), ("2", "는"), ("3", "은"),
                  ("orders", "은")]


def test_korean_particles_follow_the_word_before_them():
    ko = built_in("ko")
    assert ko is not None
    for label, particle in KOREAN_ENDINGS:
        assert ko.text("key_help_option", label=label, keys="1") == f"{label}{particle} 1번"
    assert ko.text("read_back", value="3월 3일").startswith("3월 3일로 들었습니다")  # ㄹ: 로
    assert ko.text("read_back", value="1 2 3 6").startswith("1 2 3 6으로 들었습니다")  # 육: 으로
    assert ko.text("read_back", value="1 2 3 4").startswith("1 2 3 4로 들었습니다")  # 사: 로


@given(st.sampled_from(KEYS), st.sampled_from(BUILT_IN_LANGUAGES),
       st.dictionaries(st.sampled_from(["digit", "keys", "label", "parts", "value", "count", "low", "high",
                                        "position", "digits", "caller", "intent", "words", "topic", "node", "why"]),
                       st.text(max_size=12)))
def test_any_message_with_any_field_values_fills_without_failing(key, language, fields):
    words = built_in(language)
    assert words is not None
    text = words.text(key, **fields)
    assert "{" not in text.replace("{", "", sum(v.count("{") for v in fields.values()))


DATE_LINE = """\
flow: visits
language: {language}
hours: {{timezone: America/New_York, open: {{mon-fri: "08:00-20:00"}}}}
operator: {{to: desk}}
start: visit
nodes:
  visit:
    collect:
      prompt: "{prompt}"
      slot: {{name: day, kind: date}}
      confirm: true
      go: bye
  bye:
    hangup: "{bye}"
  desk:
    transfer: {{to: [queue:desk]}}
"""


def test_a_date_is_read_back_in_words_of_the_callers_language(tmp_path):
    heard = {}
    for language, prompt, said in (("en-US", "Which day?", "march fifth"), ("ko-KR", "언제 방문하시겠어요?", "3월 5일"),
                                   ("es-US", "¿Qué día?", "0305"), ("es-MX", "¿Qué día?", "03032027")):
        flow = load_text(DATE_LINE.format(language=language, prompt=prompt, bye="."), "visits.yaml")[0]
        assert flow is not None
        session, _ = step(flow, None, CallStarted(AT, "CAday", "+15551234567"))
        event = DigitsPressed(AT, said) if said.isdigit() else SpeechHeard(AT, said, 0.9)
        session, actions = step(flow, session, event)
        heard[language] = actions[-1].prompts[0].text
    assert heard["en-US"].startswith("I heard March fifth. If that's right")  # this year: no year said
    assert heard["ko-KR"].startswith("3월 5일로 들었습니다.")
    assert heard["es-US"].startswith("Entendí el 5 de marzo. Si es correcto")
    assert heard["es-MX"].startswith("Entendí el 3 de marzo de 2027. Si es correcto")


@given(st.sampled_from(BUILT_IN_LANGUAGES), st.integers(1, 12), st.integers(1, 31))
def test_every_month_has_a_name_in_every_language(language, month, day):
    words = built_in(language)
    assert words is not None
    name = words.text(f"month_{month}")
    assert name and name != english().texts.get("nonexistent", "") and "{" not in name
    said = words.text("read_back_date", month=name, day=day, ordinal="x", year=2027, year_words="y")
    assert name in said


def test_a_field_with_a_format_is_refused_where_it_is_written(tmp_path):
    path = write_flow(tmp_path, language="ko-KR", prompt='"안녕하세요."')
    messages = write_messages(tmp_path, "ko", """\
        keypad_digits: "{count:d}자리 숫자를 눌러 주세요."
    """)
    code, out = validate(path)
    assert code == 1
    errors = [line for line in out if ": error: " in line]
    assert errors[0] == f"{messages}:1:16: error: message 'keypad_digits' has a broken {{field}}: write the field as " \
                     "{name}, not {count:d}"


def test_two_files_for_one_language_are_refused(tmp_path):
    path = write_flow(tmp_path, language="ko-KR", prompt='"안녕하세요."')
    first = write_messages(tmp_path, "ko", 'still_trying: "잠시만요."\n')
    second = write_messages(tmp_path, "ko-KR", 'still_trying: "조금만 기다려 주세요."\n')
    code, out = validate(path)
    assert code == 1
    errors = [line for line in out if ": error: " in line]
    assert errors == [f"{first}:1:1: error: {second} already gives the 'ko' messages"]  # read in name order
