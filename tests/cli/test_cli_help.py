"""Every ``ivr`` command shows its help with an example, and commands made of parts
(``ivr eval escalation``, ``ivr models list``) show their parts, not a stray argument."""
from __future__ import annotations

import dataclasses

import pytest

from ivr.cli import COMMANDS, build_parser, main
from ivr.speech.models import SpeechSettings, resolve_model

from cli_run import run_ivr


def test_every_command_has_help_with_an_example():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, command in sub.choices.items():
        text = command.format_help()
        assert "Example:" in text or "example:" in text, f"ivr {name} --help shows no example"
    assert set(sub.choices) == set(COMMANDS)


@pytest.mark.parametrize("command, parts", [("eval", ["escalation"]), ("models", ["list", "pull"])])
def test_help_of_a_command_with_parts_lists_them(command, parts):
    done = run_ivr(command, "--help")
    assert done.returncode == 0, done.stderr
    assert "rest" not in done.stdout
    for part in parts:
        assert f"    {part}" in done.stdout, done.stdout
    assert "Example:" in done.stdout


def test_help_of_a_part_is_the_parts_own():
    done = run_ivr("eval", "escalation", "--help")
    assert done.returncode == 0, done.stderr
    assert "--flow FLOW" in done.stdout and "corpus" in done.stdout
    done = run_ivr("models", "pull", "--help")
    assert done.returncode == 0, done.stderr
    assert "--sha256" in done.stdout and "--no-verify" in done.stdout


def test_models_list_has_a_header_and_says_what_the_server_uses(tmp_path):
    done = run_ivr("models", "--cache-dir", str(tmp_path), "list")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:3] == ["MODEL", "LANG", "IN"]
    assert any(line.startswith("LANGUAGE") and "SERVER USES" in line for line in lines)
    ko = resolve_model("ko-KR", dataclasses.replace(SpeechSettings.from_env(), model_cache=str(tmp_path)))
    [row] = [line for line in lines if line.startswith("ko-KR ")]
    assert row.split(None, 1)[1] == (ko or "none: Twilio recognises speech")


def test_a_missing_part_is_a_usage_error():
    with pytest.raises(SystemExit) as exc:
        main(["models"])
    assert exc.value.code == 2


def test_unknown_options_of_other_commands_are_refused():
    done = run_ivr("validate", "--bogus")
    assert done.returncode == 2
    assert "unrecognized arguments: --bogus" in done.stderr
