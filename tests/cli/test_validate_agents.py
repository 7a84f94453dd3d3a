"""``ivr validate`` on agent pools and the caller memory, through the real command on
flow files written as ops write them: pool skills and languages against the agents file
(``--agents FILE``, else ``IVR_AGENTS_FILE``), a pool with nowhere to go after it, the
memory's windows, words and languages, each at its line and column; and the demo line
clean with and without its agents file."""
from __future__ import annotations

import os
from pathlib import Path

from cli_run import REPO, run_ivr

LINE = """flow: desk
operator: {{to: desk, after_hours: message}}
start: main
nodes:
  main:
    menu:
      prompt: "Press 1 for a person, 2 to hang up."
      options:
        - {{keys: "1", go: desk}}
        - {{keys: "2", go: bye}}
  desk:
    transfer:
      to: {to}
{fallback}  message:
    voicemail: true
  bye:
    hangup: "Goodbye."
"""
AGENTS = """agents:
  - name: minji
    display_name: Minji Park
    password_hash: "scrypt:32768:8:1$abc$def"
    targets: [client:minji]
    languages: [ko, en]
    skills: [orders]

  - name: sam
    display_name: Sam Lee
    password_hash: "scrypt:32768:8:1$abc$def"
    targets: [client:sam]
    languages: [en]
    skills: [billing, returns]
"""


def write(tmp_path: Path, to: str, fallback: bool = True, agents: str = AGENTS) -> tuple[Path, Path]:
    flow = tmp_path / "line.yaml"
    flow.write_text(LINE.format(to=to, fallback="      fallback: message\n" if fallback else ""), encoding="utf-8")
    roster = tmp_path / "agents.yaml"
    roster.write_text(agents, encoding="utf-8")
    return flow, roster


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k != "IVR_AGENTS_FILE"}
    return {**base, **extra}


def validate(*args: str, cwd: Path, code: int, **extra: str) -> list[str]:
    done = run_ivr("validate", *args, cwd=cwd, env=env(**extra))
    assert done.returncode == code, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    return (done.stdout + done.stderr).splitlines()


def caret(col: int) -> str:
    """The caret line under column ``col`` of a quoted source line (indented by 4)."""
    return " " * (4 + col - 1) + "^"


SHOWN = '          to: [{agents: {languages: [ko], skills: [biling]}}, {agents: {languages: [es]}}, "+15005550010"]'


def test_a_skill_and_a_language_no_agent_has_are_named_where_they_are_written(tmp_path):
    write(tmp_path, '[{agents: {languages: [ko], skills: [biling]}}, {agents: {languages: [es]}}, "+15005550010"]')
    out = validate("line.yaml", "--agents", "agents.yaml", cwd=tmp_path, code=1)
    assert out == [
        "line.yaml:13:48: error: no agent in agents.yaml has skill 'biling'",
        SHOWN, caret(48),
        "    hint: did you mean 'billing'? (agents' skills: billing, orders, returns)",
        "line.yaml:13:81: error: no agent in agents.yaml speaks 'es'",
        SHOWN, caret(81),
        "    hint: agents' languages: en, ko",
        "1 file, 0 flows ok, 2 errors, 0 warnings",
    ]
    # Without an agents file the names are not checked: the same flow is valid.
    assert validate("line.yaml", cwd=tmp_path, code=0) == ["1 file, 1 flow ok, 0 errors, 0 warnings"]


def test_a_language_nobody_speaks_beside_one_somebody_does_is_a_warning(tmp_path):
    # A pool takes agents who speak ANY of its languages: Korean speakers still get the call.
    write(tmp_path, "[{agents: {languages: [ko, es]}}, queue:support]")
    out = validate("line.yaml", "--agents", "agents.yaml", cwd=tmp_path, code=0)
    assert out[0] == "line.yaml:13:38: warning: no agent in agents.yaml speaks 'es'"
    assert out[3] == "    hint: agents' languages: en, ko; the pool reaches only agents of its other languages"
    assert out[-1] == "1 file, 1 flow ok, 0 errors, 1 warning"


def test_a_pool_nobody_belongs_to_although_each_word_is_someones(tmp_path):
    write(tmp_path, "[{agents: {languages: [ko], skills: [billing]}}, queue:support]")
    out = validate("line.yaml", "--agents", "agents.yaml", cwd=tmp_path, code=1)
    assert out[0] == "line.yaml:13:12: error: no agent in agents.yaml belongs to this pool (agents speaking ko with billing)"
    assert out[-1] == "1 file, 0 flows ok, 1 error, 0 warnings"
    # Regional codes count as their language (ko-KR is spoken by an agent of 'ko'); skills match whole.
    write(tmp_path, "[{agents: {languages: [ko-KR], skills: [orders]}}, {agents: {skills: [billing, returns]}}, "
                    "queue:support]")
    assert validate("line.yaml", "--agents", "agents.yaml", cwd=tmp_path, code=0)[-1] == \
        "1 file, 1 flow ok, 0 errors, 0 warnings"


def test_an_agent_no_pool_can_ring_does_not_count(tmp_path):
    queue_only = AGENTS.replace("targets: [client:sam]", "targets: [queue:billing]")
    write(tmp_path, "[{agents: {skills: [billing]}}, queue:support]", agents=queue_only)
    out = validate("line.yaml", "--agents", "agents.yaml", cwd=tmp_path, code=1)
    assert out[0] == "line.yaml:13:31: error: no agent in agents.yaml has skill 'billing'"
    assert out[3] == "    hint: agents' skills: orders"


def test_the_agents_file_comes_from_the_environment_unless_given(tmp_path):
    write(tmp_path, "[{agents: {skills: [refunds]}}, queue:support]")
    out = validate("line.yaml", cwd=tmp_path, code=1, IVR_AGENTS_FILE=str(tmp_path / "agents.yaml"))
    assert out[0] == "line.yaml:13:31: error: no agent in agents.yaml has skill 'refunds'"
    assert validate("line.yaml", "--agents", "", cwd=tmp_path, code=0,
                    IVR_AGENTS_FILE=str(tmp_path / "agents.yaml")) == ["1 file, 1 flow ok, 0 errors, 0 warnings"]
    out = validate("line.yaml", cwd=tmp_path, code=2, IVR_AGENTS_FILE=str(tmp_path / "gone.yaml"))
    assert out == [f"ivr validate: error: no such agents file (IVR_AGENTS_FILE): {tmp_path / 'gone.yaml'}"]


def test_a_broken_agents_file_is_named_at_its_lines_and_no_flow_is_judged(tmp_path):
    broken = AGENTS.replace("name: sam", "name: Sam Lee").replace("skills: [orders]", "skills: [Order Desk]")
    write(tmp_path, "[{agents: {skills: [orders]}}, queue:support]", agents=broken)
    out = validate("line.yaml", "--agents", "agents.yaml", cwd=tmp_path, code=1)
    assert out[0] == "agents.yaml:7: agent 'minji': not skill names (lower-case letters, digits, '-' or '_'): " \
                     "Order Desk; write 'skills' like [billing, orders]"
    assert out[1] == "agents.yaml:9: agent 'sam lee': 'name' must be lower-case letters, digits, '.', '_' or '-'"
    assert out[-1].startswith("ivr validate: error: the agents file is not valid; the flows were not checked")
    (tmp_path / "agents.yaml").write_text("agents: [\n", encoding="utf-8")
    out = validate("line.yaml", "--agents", "agents.yaml", cwd=tmp_path, code=1)
    assert out[0] == "agents.yaml:2:1: not valid YAML: expected the node content, but found '<stream end>'"
    assert validate("line.yaml", "--agents", "nowhere.yaml", cwd=tmp_path, code=2) == \
        ["ivr validate: error: no such agents file: nowhere.yaml"]


def test_a_pool_with_nothing_after_it_needs_a_fallback(tmp_path):
    write(tmp_path, "[client:ann, {agents: {languages: [ko]}}, {agents: {}}]", fallback=False)
    out = validate("line.yaml", cwd=tmp_path, code=1)
    assert out == [
        "line.yaml:13:53: error: when no agent is free, the caller has nowhere to go: transfer 'desk' names nothing "
        "after this agent pool",
        "          to: [client:ann, {agents: {languages: [ko]}}, {agents: {}}]",
        caret(53),
        "    hint: agents sign out, step away or are on calls (then the built-in voicemail takes the call at once): "
        "add a target after the pool (a number, client:NAME or queue:NAME) or a 'fallback:' node such as a "
        "voicemail or a callback",
        "1 file, 0 flows ok, 1 error, 0 warnings",
    ]
    write(tmp_path, "{agents: {languages: [ko], skills: [orders]}}", fallback=False)
    out = validate("line.yaml", cwd=tmp_path, code=1)
    assert out[0] == "line.yaml:13:11: error: when none of the agents speaking ko with orders is free, the caller " \
                     "has nowhere to go: transfer 'desk' names nothing after this agent pool"
    # A target after the pool, or a fallback, is somewhere to go.
    write(tmp_path, "[{agents: {languages: [ko]}}, client:ann]", fallback=False)
    assert "nowhere to go" not in "\n".join(validate("line.yaml", cwd=tmp_path, code=0))
    write(tmp_path, "[client:ann, {agents: {languages: [ko]}}]", fallback=True)
    assert validate("line.yaml", cwd=tmp_path, code=0) == ["1 file, 1 flow ok, 0 errors, 0 warnings"]


def test_the_demo_line_is_clean_with_and_without_its_agents_file():
    assert validate(cwd=REPO, code=0) == ["2 files, 2 flows ok, 0 errors, 0 warnings"]
    assert validate("--agents", "deploy/demo-agents.yaml", cwd=REPO, code=0) == \
        ["2 files, 2 flows ok, 0 errors, 0 warnings"]


def test_help_says_what_the_agents_file_is_checked_for():
    done = run_ivr("validate", "--help", env=env())
    text = " ".join(done.stdout.split())
    assert "--agents FILE" in text and "IVR_AGENTS_FILE" in text
    assert "Without an agents file, skill and language names are not checked" in text


MEMORY_LINE = """flow: remembering
language: en-US
memory:
  retention_days: {retention}
  verified_minutes: 30
  repeat_hours: 48
  remember: [order_id]
  languages: {{{languages}}}
  notice: {notice}
  welcome: "Welcome back. About {{topic}} again? Press 1 or say yes."
operator: {{to: desk}}
start: main
nodes:
  main:
    menu:
      prompt: "Press 1 for order status. For Korean, press 9."
      options:
        - {{keys: "1", say: [order status], go: order, label: order status}}
        - {{keys: "9", go: korean}}
  order:
    collect:
      prompt: "Your six digit order number?"
      slot: {{name: order_id, kind: digits, length: 6}}
      go: check
  check:
    lookup:
      table: {{key: "{{order_id}}", rows: {{"123456": {{status: shipped}}}}}}
      verifies: true
      found: bye
      not_found: desk
  korean:
    goto: remembering-ko
  bye:
    hangup: "Goodbye."
  desk:
    transfer: {{to: [queue:support], fallback: message}}
  message:
    voicemail: true
"""
KOREAN = """flow: remembering-ko
language: ko-KR
operator: {to: desk}
start: main
nodes:
  main:
    menu:
      prompt: "주문은 1번, 상담원은 0번을 누르세요."
      options:
        - {keys: "1", go: bye}
        - {keys: "2", go: desk}
  bye:
    hangup: "안녕히 계세요."
  desk:
    transfer: {to: [queue:support], fallback: message}
  message:
    voicemail: true
"""


def memory_line(tmp_path: Path, *, retention: int = 90, languages: str = "ko-KR: korean",
                notice: str = '"We remember your calls."') -> None:
    (tmp_path / "line.yaml").write_text(MEMORY_LINE.format(retention=retention, languages=languages, notice=notice),
                                        encoding="utf-8")
    (tmp_path / "ko.yaml").write_text(KOREAN, encoding="utf-8")


def problems(out: list[str]) -> list[str]:
    return [line for line in out if ": error: " in line or ": warning: " in line]


def test_a_well_set_memory_is_clean(tmp_path):
    memory_line(tmp_path)
    assert validate(".", cwd=tmp_path, code=0) == ["2 files, 2 flows ok, 0 errors, 0 warnings"]


def test_the_memory_windows_words_and_language_codes_are_checked_where_written(tmp_path):
    memory_line(tmp_path, retention=1, languages="korean: korean, en-US: korean",
                notice='{ko-KR: "통화를 기억합니다.", es-ES: "Recordamos sus llamadas."}')
    out = validate(".", cwd=tmp_path, code=1)
    assert problems(out) == [
        "line.yaml:6:17: error: repeat_hours 48 is longer than the 1 day a caller's calls are kept (retention_days)",
        "line.yaml:8:15: error: 'korean' in the memory's languages is not a language code",
        "line.yaml:8:31: warning: the memory's languages name this flow's own language en-US",
        "line.yaml:9:11: error: the memory's notice is given in ko-KR, es-ES but not in the flow's language en-US",
    ]
    assert out[-1] == "2 files, 1 flow ok, 3 errors, 1 warning"


def test_a_memory_language_must_be_written_as_the_flow_it_leads_to_speaks_it(tmp_path):
    memory_line(tmp_path, languages="ko: korean")
    out = validate(".", cwd=tmp_path, code=1)
    assert problems(out) == [
        "line.yaml:8:15: error: the memory's languages send 'ko' to 'korean', a flow in ko-KR: callers of "
        "'remembering-ko' are remembered in ko-KR, so 'ko' never matches",
    ]
    assert "    hint: write it ko-KR: korean" in out
