"""``ivr validate`` as ops read it, through the real command: YAML mistakes in plain
words at the line to fix, and one error for one mistake."""
from __future__ import annotations

from cli_run import REPO, run_ivr

BROKEN = REPO / "tests" / "flows" / "broken"


def validate(name: str) -> list[str]:
    done = run_ivr("validate", "--audio", str(REPO / "tests" / "flows" / "audio"), str(BROKEN / name))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    return done.stdout.splitlines()


def test_a_tab_is_named_at_the_tab_with_the_line_a_caret_and_a_hint():
    path = BROKEN / "yaml_tab.yaml"
    assert validate("yaml_tab.yaml") == [
        f"{path}:8:1: error: a tab character: YAML does not allow tabs for indenting or between a key and its value",
        "    \tsay: \"Hello there.\"",
        "    ^",
        "    hint: use spaces instead (most editors can insert spaces when Tab is pressed)",
        "1 file, 0 flows ok, 1 error, 0 warnings",
    ]


def test_a_misindented_key_is_pointed_at_not_the_line_after_it():
    out = validate("yaml_first_key_misindented.yaml")
    assert out[0].endswith(":8:4: error: 'say' is indented 3 spaces, but 'go' after it 4 spaces: "
                           "the keys of one mapping must line up")
    assert out[1] == '       say: "Hello there."'
    assert "cannot start any token" not in "\n".join(out) and "<block end>" not in "\n".join(out)


def test_a_quote_inside_quotes_is_explained_with_the_line_rewritten():
    out = validate("yaml_quote_inside_quotes.yaml")
    assert "in quotes that end here, but the line goes on after them" in out[0]
    assert out[3] == "    hint: a \" inside double quotes ends them; put the text in single quotes or write \\\" inside: " \
                     "say: 'He said \"hello\" to you.'"


def test_one_missing_go_is_one_error_and_a_misspelt_key_is_reported_once():
    out = validate("missing_go_follow_ons.yaml")
    assert out[-1] == "1 file, 0 flows ok, 1 error, 0 warnings"
    assert "nothing leads to 'order' yet" in out[3]
    out = validate("unknown_key.yaml")
    assert out[-1] == "1 file, 0 flows ok, 1 error, 0 warnings"
    assert "unknown key 'promt' in menu 'main', which needs 'prompt'" in out[0]
